"""On-call pages through a signed-in session: who is on call now, the schedule timeline,
overrides through the form (CSRF, roles), feeds, and escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.schedules.helpers import ok, override
from tests.security.helpers import login, make_user, page_csrf
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.schedules.models import ScheduleOverride

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
EVIL = "<script>alert(1)</script>"


def _sign_in(client: TestClient, db: Database, clock: FakeClock, role: Role) -> str:
    name = make_user(db, clock, role)
    assert login(client, name).status_code == 303
    return name


def test_who_is_on_call_now(
    org: TestClient, admin: dict[str, str], db: Database, clock: FakeClock
) -> None:
    spec = ok(org.get("/api/v1/schedules/primary", headers=admin))
    ok(org.patch("/api/v1/schedules/primary", json={"description": EVIL}, headers=admin))
    ok(
        org.put(
            "/api/v1/schedules/empty",
            json={
                **{k: spec[k] for k in ("timeZone", "layers")},
                "layers": [{**spec["layers"][0], "rotationStart": "2027-01-04"}],
            },
            headers=admin,
        ),
        201,
    )
    _sign_in(org, db, clock, Role.VIEWER)
    page = org.get("/oncall")
    assert page.status_code == 200
    assert 'href="/oncall/schedules/primary"' in page.text
    row = re.search(r'<tr>\s*<td><a href="/oncall/schedules/primary">.*?</tr>', page.text, re.S)
    assert row and 'href="/users/ann"' in row[0] and "Mon 2026-03-02 20:00 CET" in row[0]
    assert "cy" in row[0]  # next
    nobody = re.search(r'<tr class="nobody">.*?</tr>', page.text, re.S)
    assert nobody and "empty" in nobody[0]
    assert '<summary class="active">On-call</summary>' in page.text
    assert 'class="active" aria-current="page">Who is on call</a>' in page.text
    assert "not part of this release" not in page.text


def test_schedule_page_draws_the_timeline(
    org: TestClient, admin: dict[str, str], db: Database, clock: FakeClock
) -> None:
    ok(org.patch("/api/v1/schedules/primary", json={"description": EVIL}, headers=admin))
    override(org, admin, "dee", "2026-03-03T10:00:00Z", "2026-03-03T12:00:00Z")
    _sign_in(org, db, clock, Role.VIEWER)
    page = org.get("/oncall/schedules/primary", params={"start": "2026-03-02", "days": 7})
    assert page.status_code == 200
    assert EVIL not in page.text and "&lt;script&gt;" in page.text
    for label in ("Layer nights", "Layer week", "Overrides", "Final schedule"):
        assert label in page.text
    # Seven days from midnight Berlin: a 2-hour override is 2/168 of the width.
    assert re.search(r'class="tl-bar tl-override" style="left:[\d.]+%;width:1\.19\d*%', page.text)
    assert 'id="on-call-now"' in page.text and "ann" in page.text
    assert "Add override" not in page.text, "viewers get no override form"
    assert "Create or rotate" not in page.text, "only admins hand out the schedule's feed"
    assert org.get("/oncall/schedules/nope").status_code == 404
    bad = org.get(
        "/oncall/schedules/primary", params={"start": "soon"}, headers={"accept": "text/html"}
    )
    assert bad.status_code == 422
    edge = org.get(
        "/oncall/schedules/primary", params={"start": "9999-12-31"}, headers={"accept": "text/html"}
    )
    assert edge.status_code == 422


def test_responders_add_and_delete_overrides_with_csrf(
    org: TestClient, db: Database, clock: FakeClock
) -> None:
    name = _sign_in(org, db, clock, Role.RESPONDER)
    page = org.get("/oncall/schedules/primary")
    assert "Add override" in page.text and "Create or rotate" not in page.text
    csrf = page_csrf(org, "/oncall/schedules/primary")
    form = {"user": "dee", "start": "2026-03-03T11:00", "end": "2026-03-03T13:00"}
    assert (
        org.post("/oncall/schedules/primary/overrides", data={**form, "csrf": "x"}).status_code
        == 403
    )
    done = org.post(
        "/oncall/schedules/primary/overrides", data={**form, "csrf": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    with db.read() as session:
        (row,) = session.scalars(select(ScheduleOverride)).all()
        assert row.created_by == f"user:{name}"
        assert row.starts_at.isoformat() == "2026-03-03T10:00:00+00:00"  # 11:00 in Berlin
    bad = org.post(
        "/oncall/schedules/primary/overrides", data={**form, "user": "ghost", "csrf": csrf}
    )
    assert bad.status_code == 422
    edge = org.get(
        "/oncall/schedules/primary", params={"start": "9999-12-31"}, headers={"accept": "text/html"}
    )
    assert edge.status_code == 422 and "ghost" in bad.text
    page = org.get("/oncall/schedules/primary")
    assert f"override-{row.id}" in page.text
    org.post(f"/oncall/schedules/primary/overrides/{row.id}/delete", data={"csrf": csrf})
    with db.read() as session:
        assert session.scalars(select(ScheduleOverride)).all() == []


def test_viewers_cannot_override_and_admins_get_a_feed(
    org: TestClient, db: Database, clock: FakeClock
) -> None:
    _sign_in(org, db, clock, Role.VIEWER)
    csrf = page_csrf(org, "/oncall")
    form = {"user": "dee", "start": "2026-03-03T11:00", "end": "2026-03-03T13:00", "csrf": csrf}
    assert org.post("/oncall/schedules/primary/overrides", data=form).status_code == 403
    assert org.post("/oncall/schedules/primary/feed", data={"csrf": csrf}).status_code == 403
    mine = org.post("/oncall/my-feed", data={"csrf": csrf})
    assert mine.status_code == 200 and "/ical/wbcal_" in mine.text
    url = re.search(r'id="feed-url">([^<]+)<', mine.text)
    assert url and org.get(url[1].split("8080", 1)[1]).status_code == 200

    org.cookies.clear()
    _sign_in(org, db, clock, Role.ADMIN)
    csrf = page_csrf(org, "/oncall")
    made = org.post("/oncall/schedules/primary/feed", data={"csrf": csrf})
    assert made.status_code == 200 and "/ical/wbcal_" in made.text


def test_admins_record_a_past_swap_on_the_page_and_it_shows_as_such(
    org: TestClient, db: Database, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 6, 12, tzinfo=UTC))
    swap = {"user": "dee", "start": "2026-03-03T10:00", "end": "2026-03-03T13:00"}
    _sign_in(org, db, clock, Role.RESPONDER)
    page = org.get("/oncall/schedules/primary")
    assert "a past swap is recorded by an admin" in page.text
    csrf = page_csrf(org, "/oncall/schedules/primary")
    refused = org.post("/oncall/schedules/primary/overrides", data={**swap, "csrf": csrf})
    assert refused.status_code == 403 and "only admins record one" in refused.text
    with db.read() as session:
        assert session.scalars(select(ScheduleOverride)).all() == []

    org.cookies.clear()
    name = _sign_in(org, db, clock, Role.ADMIN)
    page = org.get("/oncall/schedules/primary")
    assert "you may also record a past swap" in page.text
    csrf = page_csrf(org, "/oncall/schedules/primary")
    done = org.post(
        "/oncall/schedules/primary/overrides", data={**swap, "csrf": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    with db.read() as session:
        (row,) = session.scalars(select(ScheduleOverride)).all()
        assert row.after_the_fact and row.created_by == f"user:{name}"
    # Not upcoming, so listed only where the view shows its day.
    assert f"override-{row.id}" not in org.get("/oncall/schedules/primary").text
    page = org.get("/oncall/schedules/primary", params={"start": "2026-03-03", "days": 1})
    listed = re.search(rf'<tr id="override-{row.id}">.*?</tr>', page.text, re.S)
    assert listed and "entered after the fact" in listed[0] and "Fri 2026-03-06 13:00" in listed[0]
    final = re.search(r'<table id="final-shifts">.*?</table>', page.text, re.S)
    assert final and final[0].count("entered after the fact") == 1
    assert 'tl-late" style=' in page.text and "13:00 CET (entered after the fact)" in page.text
