"""A realistic week built through the real API, as an organisation would live it: three
people in Berlin, New York and Sydney, a daily rotation with two overrides, a backup
schedule, a two-level escalation policy, alerts through /v2/enqueue at chosen instants
(several at night for someone), acknowledged by one-click links, a personal token and an
admin's token; the worker drained by hand under the fake clock.

The expected figures are worked out by hand in EXPECTED, with the reasons beside them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import OWNER
from tests.escalation.helpers import alert, drain, ok, person, policy, service
from tests.notify.conftest import BASE_URL
from tests.notify.receivers import Receiver
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.auth import service as auth
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.users.models import User

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
PERIOD = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-09T00:00:00Z"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in the week: day 0 is Monday 2 March 2026, UTC."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def organisation(client: TestClient, admin: dict[str, str], receiver: Receiver) -> None:
    hook = {"label": "hook", "type": "webhook", "address": receiver.url}
    person(
        client,
        admin,
        "ada",
        receiver.url,
        fullName="Ada Lovelace",
        timeZone="Europe/Berlin",
        # two channels at once: still one page each time
        contactMethods=[hook, {**hook, "label": "hook2"}],
    )
    person(client, admin, "bob", receiver.url, timeZone="America/New_York")
    person(client, admin, "cleo", receiver.url, timeZone="Australia/Sydney")
    person(client, admin, "dan", receiver.url, timeZone="Europe/London")
    for team, members in (("sre", ["ada", "bob", "dan"]), ("payments", ["bob", "cleo"])):
        ok(client.put(f"/api/v1/teams/{team}", json={"members": members}, headers=admin), 201)
    daily = {
        "timeZone": "UTC",
        "team": "sre",
        "layers": [
            {
                "name": "daily",
                "users": ["ada", "bob"],
                "rotationStart": "2026-03-02",
                "turn": {"days": 1},
            }
        ],
    }
    ok(client.put("/api/v1/schedules/primary", json=daily, headers=admin), 201)
    backup = {
        "timeZone": "UTC",
        "layers": [
            {"name": "week", "users": ["ada"], "rotationStart": "2026-03-02", "turn": {"weeks": 1}}
        ],
    }
    ok(client.put("/api/v1/schedules/backup", json=backup, headers=admin), 201)
    for user, start, end in (
        ("cleo", "2026-03-03T12:00:00Z", "2026-03-03T18:00:00Z"),
        ("bob", "2026-03-08T11:00:00Z", "2026-03-08T12:00:00Z"),
    ):
        body = {"user": user, "start": start, "end": end}
        ok(client.post("/api/v1/schedules/primary/overrides", json=body, headers=admin), 201)
    policy(
        client,
        admin,
        "checkout-oncall",
        levels=[
            {"targets": [{"type": "schedule", "name": "primary"}], "delayMinutes": 5},
            {"targets": [{"type": "user", "name": "cleo"}], "delayMinutes": 5},
        ],
    )
    service(client, admin, "checkout-oncall")


def trigger(
    client: TestClient, admin: dict[str, str], db: Database, clock: FakeClock, when: datetime
) -> int:
    clock.set(when)
    iid = alert(client, admin, dedup_key=f"checkout-{when:%d%H%M}")
    drain(db, clock)
    return iid


def wait(db: Database, clock: FakeClock, minutes: int) -> None:
    clock.advance(minutes=minutes)
    drain(db, clock)


def ack_by_link(client: TestClient, receiver: Receiver, user: str, iid: int) -> None:
    """Press the Acknowledge link of the last message `user` got about incident `iid`."""
    bodies = [json.loads(r.body) for r in receiver.requests]
    [*_, page] = [
        b for b in bodies if b["user"] == user and b["incident"] and b["incident"]["number"] == iid
    ]
    response = client.post(page["links"]["acknowledge"].removeprefix(BASE_URL))
    assert response.status_code == 200 and "acknowledged as" in response.text, response.text


def personal_token(db: Database, clock: FakeClock, user: str) -> dict[str, str]:
    """A token that belongs to `user` (as a phone app would hold)."""
    with db.transaction() as session:
        owner = session.scalar(select(User).where(User.name == user))
        issued = auth.create_token(
            Ctx(session, OWNER, clock), name=f"{user}-phone", role=Role.RESPONDER, user=owner
        )
    return {"Authorization": f"Bearer {issued.secret}"}


def live_the_week(
    client: TestClient, admin: dict[str, str], db: Database, clock: FakeClock, receiver: Receiver
) -> None:
    organisation(client, admin, receiver)
    bob_phone = personal_token(db, clock, "bob")

    # Mon 10:00Z, ada's day: 11:00 in Berlin, working hours; she acknowledges in 2 minutes.
    iid = trigger(client, admin, db, clock, at(0, 10))
    wait(db, clock, 2)
    ack_by_link(client, receiver, "ada", iid)
    # Tue 03:30Z, bob's day: Mon 22:30 in New York (Monday night); acknowledged in 3 minutes.
    iid = trigger(client, admin, db, clock, at(1, 3, 30))
    wait(db, clock, 3)
    ack_by_link(client, receiver, "bob", iid)
    # Tue 14:00Z, cleo's override: Wed 01:00 in Sydney. No answer in 5 minutes: level 2
    # pages cleo again (01:05, the same night); she acknowledges 7 minutes after the first.
    iid = trigger(client, admin, db, clock, at(1, 14))
    wait(db, clock, 5)
    wait(db, clock, 2)
    ack_by_link(client, receiver, "cleo", iid)
    # Thu 05:00Z and 08:00Z, bob's day: midnight and 03:00 in New York, both Wednesday night.
    iid = trigger(client, admin, db, clock, at(3, 5))
    wait(db, clock, 1)
    ack_by_link(client, receiver, "bob", iid)
    iid = trigger(client, admin, db, clock, at(3, 8))
    wait(db, clock, 4)
    ok(client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=bob_phone))
    # Sat 15:00Z, bob's day: Saturday 10:00 in New York, off hours; the admin's token
    # (nobody's) acknowledges, so nothing is timed for bob.
    iid = trigger(client, admin, db, clock, at(5, 15))
    wait(db, clock, 1)
    ok(client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=admin))
    # Sun 11:30Z, bob's override: 07:30 in New York, on summer time since 07:00Z that
    # morning, so after his sleep hours (06:30 on winter time would be inside them).
    iid = trigger(client, admin, db, clock, at(6, 11, 30))
    wait(db, clock, 1)
    ack_by_link(client, receiver, "bob", iid)
    # Sun 22:30Z, ada's day: 23:30 in Berlin. Level 2 pages cleo at 22:35Z (Monday 09:35 in
    # Sydney, working hours); ada acknowledges at 22:36Z, 6 minutes after her page.
    iid = trigger(client, admin, db, clock, at(6, 22, 30))
    wait(db, clock, 5)
    wait(db, clock, 1)
    ack_by_link(client, receiver, "ada", iid)


def figures(**values: Any) -> dict[str, Any]:
    return values


EXPECTED_USERS = {
    # on the backup schedule all week: 168 hours (the primary's days overlap, count once)
    "ada": figures(
        hoursOnCall=168.0,
        pages=2,
        sleepPages=1,
        offHoursInterruptions=1,
        nightsInterrupted=1,
        timedAcknowledgements=2,
        mttaSeconds=240.0,  # (120 + 360) / 2
    ),
    # Tue 24 - 6 (cleo's override) + Thu 24 + Sat 24 + Sun 1 (his override)
    "bob": figures(
        hoursOnCall=67.0,
        pages=5,
        sleepPages=3,
        offHoursInterruptions=5,
        nightsInterrupted=2,  # Monday night, Wednesday night
        timedAcknowledgements=4,
        mttaSeconds=135.0,  # (180 + 60 + 240 + 60) / 4
    ),
    "cleo": figures(
        hoursOnCall=6.0,
        pages=3,
        sleepPages=2,
        offHoursInterruptions=2,
        nightsInterrupted=1,
        timedAcknowledgements=1,
        mttaSeconds=420.0,
    ),
}
EXPECTED_WARNINGS = {
    "ada": [{"figure": "hoursOnCall", "value": 168.0, "limit": 100.0}],
    "bob": [{"figure": "sleepPages", "value": 3.0, "limit": 2.0}],
    "cleo": [],
}
EXPECTED_TEAMS = {
    "payments": figures(
        members=2,
        hoursOnCall=73.0,
        pages=8,
        sleepPages=5,
        offHoursInterruptions=7,
        nightsInterrupted=3,
        timedAcknowledgements=5,
        mttaSeconds=192.0,  # (4 * 135 + 420) / 5
        membersWithWarnings=1,
    ),
    "sre": figures(
        members=3,
        hoursOnCall=235.0,
        pages=7,
        sleepPages=4,
        offHoursInterruptions=6,
        nightsInterrupted=3,
        timedAcknowledgements=6,
        mttaSeconds=170.0,  # (2 * 240 + 4 * 135) / 6
        membersWithWarnings=2,
    ),
}
