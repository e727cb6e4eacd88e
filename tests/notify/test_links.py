"""Signed action links: GET confirms without acting, POST acts and audits as the user."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.incidents.helpers import acting
from tests.notify.conftest import SECRET
from tests.notify.helpers import make_incident, make_user
from watchbill.adapters.db.engine import Database
from watchbill.audit.models import AuditEvent
from watchbill.core.clock import FakeClock
from watchbill.incidents import service as incidents
from watchbill.incidents.models import Incident
from watchbill.notify.links import ActionClaim, BadLink, LinkAction, sign, verify
from watchbill.settings import Settings

HTML = {"Accept": "text/html"}


def _link(clock: FakeClock, iid: int, action: LinkAction = LinkAction.ACKNOWLEDGE) -> str:
    claim = ActionClaim(action, iid, "ada", clock.now() + timedelta(hours=1))
    return f"/act/{sign(SECRET.encode(), claim)}"


def _status(db: Database, iid: int) -> str:
    with db.read() as session:
        inc = session.get(Incident, iid)
        assert inc is not None
        return inc.status


def test_get_confirms_and_post_acknowledges_audited_as_the_user(
    db: Database, clock: FakeClock, settings: Settings, client: TestClient
) -> None:
    make_user(db, clock, "ada", [])
    iid = make_incident(db, clock)
    link = _link(clock, iid)
    for _ in range(3):  # a mail scanner fetching the link many times changes nothing
        got = client.get(link, headers=HTML)
        assert got.status_code == 200 and "Acknowledge this incident as" in got.text
    assert _status(db, iid) == "triggered"

    done = client.post(link, headers=HTML)
    assert done.status_code == 200
    assert f"Incident #{iid} acknowledged as ada." in done.text
    assert _status(db, iid) == "acknowledged"
    with db.read() as session:
        audit = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "incident.acknowledge")
        )
    assert audit is not None
    assert (audit.actor, audit.source_ip) == ("user:ada", "link testclient")

    again = client.post(link, headers=HTML)
    assert again.status_code == 200 and "already acknowledged" in again.text


def test_resolved_incident_says_so_for_both_actions(
    db: Database, clock: FakeClock, settings: Settings, client: TestClient
) -> None:
    make_user(db, clock, "ada", [])
    iid = make_incident(db, clock)
    with acting(db, clock) as ctx:
        incidents.resolve(ctx, incident_id=iid)
    for action in LinkAction:
        link = _link(clock, iid, action)
        assert "already resolved" in client.get(link, headers=HTML).text
        posted = client.post(link, headers=HTML)
        assert posted.status_code == 200 and f"Incident #{iid} is already resolved." in posted.text


def test_expired_forged_and_tampered_links_are_refused_naming_why(
    db: Database, clock: FakeClock, settings: Settings, client: TestClient
) -> None:
    make_user(db, clock, "ada", [])
    iid = make_incident(db, clock)
    link = _link(clock, iid)
    token = link.removeprefix("/act/")
    payload, signature = token.split(".")
    forged = sign(
        b"some-other-key-that-is-long-enough-000000", verify(SECRET.encode(), token, clock.now())
    )
    tampered_payload = sign(
        SECRET.encode(),
        ActionClaim(LinkAction.RESOLVE, iid, "ada", clock.now() + timedelta(hours=1)),
    ).split(".")[0]
    cases = {
        f"/act/{tampered_payload}.{signature}": (400, "altered"),
        f"/act/{forged}": (400, "altered"),
        f"/act/{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}": (400, "altered"),
        f"/act/{payload}.{signature[:-2]}": (400, "malformed"),
        f"/act/{payload}!.{signature}": (400, "malformed"),
        "/act/nonsense": (400, "malformed"),
    }
    for bad, (status, words) in cases.items():
        for method in (client.get, client.post):
            got = method(bad, headers=HTML)
            assert (got.status_code, words in got.text) == (status, True), bad
    clock.advance(hours=1)
    for method in (client.get, client.post):
        expired = method(link, headers=HTML)
        assert expired.status_code == 410 and "expired" in expired.text
    assert _status(db, iid) == "triggered"


def test_deactivated_or_viewer_users_cannot_act(
    db: Database, clock: FakeClock, settings: Settings, client: TestClient
) -> None:
    make_user(db, clock, "ada", [], active=False)
    iid = make_incident(db, clock)
    refused = client.post(_link(clock, iid), headers=HTML)
    assert refused.status_code == 403 and "deactivated" in refused.text
    make_user(db, clock, "ada", [], role="viewer")
    refused = client.post(_link(clock, iid), headers=HTML)
    assert refused.status_code == 403
    assert _status(db, iid) == "triggered"


def test_verify_round_trip_and_expiry_boundary() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    claim = ActionClaim(LinkAction.RESOLVE, 42, "ada", now + timedelta(minutes=5))
    token = sign(b"k" * 32, claim)
    assert verify(b"k" * 32, token, now) == claim
    try:
        verify(b"k" * 32, token, now + timedelta(minutes=5))
    except BadLink as exc:
        assert exc.status == 410
    else:
        raise AssertionError("an expired link was accepted")
