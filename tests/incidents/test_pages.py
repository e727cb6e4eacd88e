"""Incident pages through a signed-in browser session: escaping, live refresh, forms, CSRF."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup

from tests.incidents.helpers import event, fire, maintenance, make_service, snapshot
from tests.security.helpers import login, make_user, page_csrf
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.incidents.models import Incident
from watchbill.incidents.panels import INCIDENT_PANELS, Panel
from watchbill.web.layout import PageUser

# Page behaviour does not depend on the database: SQLite only, for speed.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

EVIL = "<script>alert('x')</script>"


def _sign_in(client: TestClient, db: Database, clock: FakeClock, role: Role) -> str:
    name = make_user(db, clock, role)
    assert login(client, name).status_code == 303
    return name


def _evil_incident(db: Database, clock: FakeClock) -> int:
    sid = make_service(db, clock)
    iid = fire(db, clock, sid, event("evil", EVIL, labels={"team": "<b>ops</b>"}))[0].incident_id
    assert iid is not None
    return iid


def test_list_escapes_filters_and_refreshes_itself(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    iid = _evil_incident(db, clock)
    _sign_in(client, db, clock, Role.VIEWER)

    page = client.get("/incidents")
    assert page.status_code == 200
    assert EVIL not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert f'href="/incidents/{iid}"' in page.text
    assert 'hx-trigger="every 5s"' in page.text
    assert 'hx-get="/incidents?f=1&amp;status=triggered&amp;status=acknowledged"' in page.text

    rows = client.get("/incidents", params={"f": 1}, headers={"HX-Request": "true"})
    assert rows.status_code == 200
    assert "<html" not in rows.text and "<tr" in rows.text
    assert EVIL not in rows.text and "&lt;script&gt;" in rows.text

    resolved_only = client.get("/incidents", params={"f": 1, "status": "resolved"})
    assert f'href="/incidents/{iid}"' not in resolved_only.text
    assert "No incidents match" in resolved_only.text
    by_text = client.get("/incidents", params={"f": 1, "q": "script"})
    assert f'href="/incidents/{iid}"' in by_text.text
    bad = client.get("/incidents", params={"status": "open"}, headers={"accept": "text/html"})
    assert bad.status_code == 422 and "status" in bad.text


def test_detail_shows_timeline_alerts_and_why_nobody_was_paged(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    sid = make_service(db, clock, "payments")
    maintenance(db, clock, sid, "db <upgrade>")
    iid = fire(db, clock, sid, event("quiet", EVIL))[0].incident_id
    _sign_in(client, db, clock, Role.VIEWER)

    page = client.get(f"/incidents/{iid}")
    assert page.status_code == 200
    assert EVIL not in page.text and "&lt;script&gt;" in page.text
    assert "Nobody was paged for this incident" in page.text
    assert "maintenance" in page.text and "db &lt;upgrade&gt;" in page.text
    assert "incident.triggered" in page.text and "2026-03-02 09:00:00" in page.text
    assert "alert.triggered" in page.text
    assert "Acknowledge</button>" not in page.text, "viewers get no action buttons"

    assert client.get("/incidents/999999").status_code == 404
    assert client.get("/incidents/abc").status_code == 404


def test_forms_act_as_the_signed_in_responder_with_csrf(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    iid = _evil_incident(db, clock)
    name = _sign_in(client, db, clock, Role.RESPONDER)
    page = client.get(f"/incidents/{iid}")
    assert "Acknowledge</button>" in page.text
    assert "&lt;b&gt;ops&lt;/b&gt;" in page.text  # labels escaped too
    csrf = page_csrf(client, f"/incidents/{iid}")

    before = snapshot(db, iid)
    forged = client.post(f"/incidents/{iid}/acknowledge", data={"csrf": "wrong"})
    assert forged.status_code == 403
    assert client.post(f"/incidents/{iid}/acknowledge", data={}).status_code == 403
    assert snapshot(db, iid) == before

    done = client.post(f"/incidents/{iid}/acknowledge", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/incidents/{iid}"
    client.post(f"/incidents/{iid}/notes", data={"csrf": csrf, "text": "<i>rolled back</i>"})
    client.post(
        f"/incidents/{iid}/edit",
        data={"csrf": csrf, "severity": "SEV2", "priority": "P1", "urgency": "low"},
    )
    client.post(f"/incidents/{iid}/assign", data={"csrf": csrf, "user": name})
    page = client.get(f"/incidents/{iid}")
    assert "status.acknowledged" in page.text and f"user:{name}" in page.text
    assert "&lt;i&gt;rolled back&lt;/i&gt;" in page.text and "<i>rolled back" not in page.text
    assert "SEV2" in page.text and "P1" in page.text and "severity SEV1 → SEV2" in page.text
    assert f"assigned {name}" in page.text

    conflict = client.post(f"/incidents/{iid}/reopen", data={"csrf": csrf})
    assert conflict.status_code == 409 and "cannot reopen" in conflict.text
    blank = client.post(f"/incidents/{iid}/notes", data={"csrf": csrf, "text": "  "})
    assert blank.status_code == 422
    bad_merge = client.post(f"/incidents/{iid}/merge", data={"csrf": csrf, "sources": "x"})
    assert bad_merge.status_code == 422


def test_viewers_cannot_post_forms(client: TestClient, db: Database, clock: FakeClock) -> None:
    iid = _evil_incident(db, clock)
    _sign_in(client, db, clock, Role.VIEWER)
    csrf = page_csrf(client, "/incidents")
    before = snapshot(db, iid)
    for path in ("acknowledge", "resolve", "notes"):
        resp = client.post(f"/incidents/{iid}/{path}", data={"csrf": csrf, "text": "x"})
        assert resp.status_code == 403
    assert snapshot(db, iid) == before


def test_other_slices_add_panels_to_the_incident_page(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    """The incident page shows what an extension returns, for the incident it is given,
    and nothing for extensions that have nothing to say."""
    iid = _evil_incident(db, clock)
    _sign_in(client, db, clock, Role.VIEWER)
    seen: list[int] = []

    def recent_changes(pu: PageUser, rt: object, incident: Incident) -> Panel:
        seen.append(incident.id)
        return Panel("Recent changes", Markup("<p>deploy <code>{}</code></p>").format(EVIL))

    client.app.state.runtime.extensions[INCIDENT_PANELS] = [recent_changes, lambda *_: None]
    page = client.get(f"/incidents/{iid}")
    assert page.status_code == 200
    assert seen == [iid]
    assert '<h2 id="panel-1">Recent changes</h2>' in page.text
    assert "<p>deploy <code>&lt;script&gt;" in page.text and EVIL not in page.text
    assert "panel-2" not in page.text
