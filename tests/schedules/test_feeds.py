"""iCalendar feeds: public, authenticated only by the secret in the URL, parsed back with
the `icalendar` library, rotated and revoked; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select

from tests.conftest import OWNER
from tests.schedules.helpers import ok, override
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.audit.models import AuditEvent
from watchbill.auth import service as auth
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.schedules.models import CalendarFeed
from watchbill.users.models import User

Headers = dict[str, str]


def _events(client: TestClient, url: str) -> list[tuple[str, datetime, datetime]]:
    path = url.split("://", 1)[1].split("/", 1)[1]
    resp = client.get(f"/{path}")  # no Authorization header: calendar clients send none
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(resp.content)
    assert cal["VERSION"] == "2.0" and str(cal["PRODID"]).startswith("-//Watchbill//")
    return sorted(
        (str(e["SUMMARY"]), e.decoded("DTSTART"), e.decoded("DTEND")) for e in cal.walk("VEVENT")
    )


def test_schedule_feed_lists_final_shifts_and_rotates(
    org: TestClient, admin: Headers, responder: Headers, db: Database, clock: FakeClock
) -> None:
    override(org, responder, "dee", "2026-03-03T10:00:00Z", "2026-03-03T12:00:00Z")
    # The next afternoon an admin writes down that bob took half an hour of ann's day.
    clock.set(datetime(2026, 3, 3, 15, tzinfo=UTC))
    override(org, admin, "bob", "2026-03-03T13:00:00Z", "2026-03-03T13:30:00Z")
    assert org.post("/api/v1/schedules/primary/calendar-feed", headers=responder).status_code == 403
    made = ok(org.post("/api/v1/schedules/primary/calendar-feed", headers=admin))
    assert made["url"].startswith("http://127.0.0.1:8080/ical/wbcal_")
    events = _events(org, made["url"])
    # From the start of the day a week ago (UTC) to 90 days ahead, as final shifts.
    assert events[0][1] == datetime(2026, 3, 2, 8, tzinfo=UTC)  # the schedule begins
    assert max(e[2] for e in events) >= clock.now() + timedelta(days=90)
    assert (
        "On call: dee (override)",
        datetime(2026, 3, 3, 10, tzinfo=UTC),
        datetime(2026, 3, 3, 12, tzinfo=UTC),
    ) in events
    assert (
        "On call: bob (override, entered after the fact)",
        datetime(2026, 3, 3, 13, tzinfo=UTC),
        datetime(2026, 3, 3, 13, 30, tzinfo=UTC),
    ) in events
    assert (
        "On call: cy",
        datetime(2026, 3, 2, 19, tzinfo=UTC),
        datetime(2026, 3, 3, 5, tzinfo=UTC),
    ) in events
    users = {summary.removeprefix("On call: ").split(" ")[0] for summary, _, _ in events}
    assert users == {"ann", "bob", "cy", "dee"}

    # Only a hash is stored; the secret itself is nowhere in the database.
    secret = made["url"].rsplit("/", 1)[1].removesuffix(".ics")
    with db.read() as session:
        stored = session.scalars(select(CalendarFeed.token_hash)).all()
    assert len(stored) == 1 and secret not in stored[0]

    rotated = ok(org.post("/api/v1/schedules/primary/calendar-feed", headers=admin))
    assert rotated["url"] != made["url"]
    assert org.get(made["url"].split("8080", 1)[1]).status_code == 404
    assert _events(org, rotated["url"])
    ok(org.delete("/api/v1/schedules/primary/calendar-feed", headers=admin), 204)
    assert org.get(rotated["url"].split("8080", 1)[1]).status_code == 404
    assert org.delete("/api/v1/schedules/primary/calendar-feed", headers=admin).status_code == 404
    with db.read() as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("schedule.feed.%"))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["schedule.feed.create", "schedule.feed.rotate", "schedule.feed.revoke"]


@pytest.mark.parametrize(
    "path",
    [
        "/ical/wbcal_not-a-real-secret.ics",
        "/ical/nothing.ics",
        "/ical/" + "x" * 99 + ".ics",
    ],
)
def test_wrong_secrets_are_not_found(org: TestClient, path: str) -> None:
    resp = org.get(path)
    assert resp.status_code == 404
    assert "BEGIN:VCALENDAR" not in resp.text


def test_a_person_manages_their_own_feed(
    org: TestClient, admin: Headers, viewer: Headers, db: Database, clock: FakeClock
) -> None:
    with db.transaction() as session:
        bob = session.scalar(select(User).where(User.name == "bob"))
        assert bob is not None
        token = auth.create_token(
            Ctx(session, OWNER, clock),
            name="bob-viewer",
            role=Role.VIEWER,
            user=bob,
        ).secret
    as_bob = {"Authorization": f"Bearer {token}"}
    assert org.post("/api/v1/users/ann/calendar-feed", headers=as_bob).status_code == 403
    assert org.post("/api/v1/users/bob/calendar-feed", headers=viewer).status_code == 403
    made = ok(org.post("/api/v1/users/bob/calendar-feed", headers=as_bob))
    events = _events(org, made["url"])
    assert events and {s for s, _, _ in events} == {"On call: primary"}
    # Bob's week is 9-16 March, minus Cy's nights.
    assert events[0][1] == datetime(2026, 3, 9, 8, tzinfo=UTC)
    assert events[0][2] == datetime(2026, 3, 9, 19, tzinfo=UTC)
    # An admin may rotate anyone's; the person's old URL stops.
    again = ok(org.post("/api/v1/users/bob/calendar-feed", headers=admin))
    assert org.get(made["url"].split("8080", 1)[1]).status_code == 404
    assert _events(org, again["url"]) == events
