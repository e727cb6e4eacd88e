"""Escalation end to end inside the application: an alert through /v2/enqueue pages level
1 by webhook; no acknowledgement → level 2 after its delay; acknowledge stops the climb;
resolve cancels pending pages; an acknowledgement timeout triggers again; a policy edited
mid-flight does not disturb the incident; repeats, round robin and schedule gaps. The
worker runs by hand under the fake clock. Both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.escalation.helpers import (
    alert,
    drain,
    ok,
    paged,
    person,
    policy,
    schedule,
    service,
    status,
    timeline,
)
from tests.notify.receivers import Receiver
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.escalation.engine import STEP_JOB
from watchbill.jobs.queue import enqueue

TWO_LEVELS = {
    "levels": [
        {"targets": [{"type": "user", "name": "ada"}], "delayMinutes": 5},
        {"targets": [{"type": "schedule", "name": "primary"}], "delayMinutes": 5},
    ]
}


@pytest.fixture
def admin(db: Database, clock: FakeClock) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, Role.ADMIN, name='ops-admin')}"}


@pytest.fixture
def org(client: TestClient, admin: dict[str, str], receiver: Receiver) -> None:
    """ada and bob with webhooks to the receiver; bob is on the `primary` schedule."""
    for name in ("ada", "bob", "carl"):
        person(client, admin, name, receiver.url)
    schedule(client, admin, "primary", ["bob"])


def test_level_one_then_level_two_after_its_delay(
    client: TestClient, admin: dict[str, str], org: None, receiver: Receiver, db, clock
) -> None:
    policy(client, admin, "checkout-oncall", **TWO_LEVELS)
    service(client, admin, "checkout-oncall")
    iid = alert(client, admin)
    drain(db, clock)
    assert paged(db, iid) == [("ada", "sent")]
    assert len(receiver.requests) == 1
    [level] = timeline(db, iid, "escalation.level")
    assert level.message == "level 1: paging ada"
    clock.advance(minutes=4, seconds=59)
    drain(db, clock)
    assert paged(db, iid) == [("ada", "sent")]
    clock.advance(seconds=1)
    drain(db, clock)
    assert paged(db, iid) == [("ada", "sent"), ("bob", "sent")]
    assert len(receiver.requests) == 2
    assert [e.message for e in timeline(db, iid, "escalation.level")] == [
        "level 1: paging ada",
        "level 2: paging bob",
    ]
    assert len(timeline(db, iid, "escalation.finished")) == 1
    clock.advance(hours=1)
    drain(db, clock)
    assert len(paged(db, iid)) == 2  # no repeat: nobody else, ever


def test_acknowledge_stops_the_climb(
    client: TestClient, admin: dict[str, str], org: None, receiver: Receiver, db, clock
) -> None:
    policy(client, admin, "checkout-oncall", **TWO_LEVELS)
    service(client, admin, "checkout-oncall")
    iid = alert(client, admin)
    drain(db, clock)
    ok(client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=admin))
    clock.advance(minutes=30)
    drain(db, clock)
    assert paged(db, iid) == [("ada", "sent")]
    assert len(timeline(db, iid, "escalation.level")) == 1


def test_resolve_cancels_pending_pages(
    client: TestClient, admin: dict[str, str], receiver: Receiver, db, clock, smtp
) -> None:
    # ada: webhook at once, email after 3 minutes
    person(
        client,
        admin,
        "ada",
        receiver.url,
        notificationRules={
            "high": [
                {"contactMethod": "hook", "delayMinutes": 0},
                {"contactMethod": "mail", "delayMinutes": 3},
            ]
        },
        contactMethods=[
            {"label": "hook", "type": "webhook", "address": receiver.url},
            {"label": "mail", "type": "email", "address": "ada@example.com"},
        ],
    )
    policy(client, admin, "solo", levels=[{"targets": [{"type": "user", "name": "ada"}]}])
    service(client, admin, "solo")
    iid = alert(client, admin)
    drain(db, clock)
    assert paged(db, iid) == [("ada", "sent"), ("ada", "queued")]
    ok(client.post(f"/api/v1/incidents/{iid}/resolve", headers=admin))
    drain(db, clock)
    assert paged(db, iid) == [("ada", "sent"), ("ada", "cancelled")]
    clock.advance(minutes=10)
    drain(db, clock)
    assert smtp[1].messages == []
    assert paged(db, iid) == [("ada", "sent"), ("ada", "cancelled")]


def test_an_acknowledgement_that_times_out_triggers_again(
    client: TestClient, admin: dict[str, str], org: None, receiver: Receiver, db, clock
) -> None:
    policy(client, admin, "checkout-oncall", ackTimeoutMinutes=30, **TWO_LEVELS)
    service(client, admin, "checkout-oncall")
    iid = alert(client, admin)
    drain(db, clock)
    ok(client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=admin))
    drain(db, clock)
    clock.advance(minutes=29)
    drain(db, clock)
    assert status(db, iid) == "acknowledged"
    clock.advance(minutes=1)
    drain(db, clock)
    assert status(db, iid) == "triggered"
    assert len(timeline(db, iid, "status.retriggered")) == 1
    assert paged(db, iid) == [("ada", "sent"), ("ada", "sent")]  # the climb restarts
    clock.advance(minutes=5)
    drain(db, clock)
    assert [u for u, _ in paged(db, iid)] == ["ada", "ada", "bob"]


def test_a_policy_edited_mid_flight_does_not_disturb_the_incident(
    client: TestClient, admin: dict[str, str], org: None, receiver: Receiver, db, clock
) -> None:
    policy(client, admin, "checkout-oncall", **TWO_LEVELS)
    service(client, admin, "checkout-oncall")
    iid = alert(client, admin)
    drain(db, clock)
    edited = {
        "levels": [
            {"targets": [{"type": "user", "name": "ada"}], "delayMinutes": 5},
            {"targets": [{"type": "user", "name": "carl"}], "delayMinutes": 5},
        ]
    }
    policy(client, admin, "checkout-oncall", **edited)
    clock.advance(minutes=5)
    drain(db, clock)
    assert [u for u, _ in paged(db, iid)] == ["ada", "bob"]  # the snapshot, not carl
    later = alert(client, admin, dedup_key="second-problem")
    drain(db, clock)
    clock.advance(minutes=5)
    drain(db, clock)
    assert [u for u, _ in paged(db, later)] == ["ada", "carl"]  # new incidents: the edit


def test_repeats_and_round_robin(
    client: TestClient, admin: dict[str, str], org: None, receiver: Receiver, db, clock
) -> None:
    policy(
        client,
        admin,
        "rr",
        repeat=2,
        levels=[
            {
                "targets": [{"type": "user", "name": "ada"}, {"type": "user", "name": "bob"}],
                "roundRobin": True,
                "delayMinutes": 10,
            }
        ],
    )
    service(client, admin, "rr")
    iid = alert(client, admin)
    drain(db, clock)
    for _ in range(4):
        clock.advance(minutes=10)
        drain(db, clock)
    people = [u for u, _ in paged(db, iid)]
    assert len(people) == 3  # the level, then two repeats
    assert people[0] != people[1] and people[1] != people[2]  # turns alternate
    other = alert(client, admin, dedup_key="another")
    drain(db, clock)
    assert paged(db, other)[0][0] != people[0]  # the next incident starts with the other


def test_a_schedule_with_nobody_on_call_hands_over_at_once(
    client: TestClient, admin: dict[str, str], org: None, receiver: Receiver, db, clock
) -> None:
    gap = {
        "timeZone": "UTC",
        "layers": [
            {
                "name": "evening",
                "users": ["bob"],
                "rotationStart": "2025-12-29",
                "turn": {"days": 1},
                "restrictions": [{"type": "daily", "startTime": "18:00", "duration": {"hours": 8}}],
            }
        ],
    }
    ok(client.put("/api/v1/schedules/evenings", json=gap, headers=admin), 201)
    policy(
        client,
        admin,
        "office-then-ada",
        levels=[
            {"targets": [{"type": "schedule", "name": "evenings"}], "delayMinutes": 15},
            {"targets": [{"type": "user", "name": "ada"}]},
        ],
    )
    service(client, admin, "office-then-ada")
    iid = alert(client, admin)  # 09:00 UTC: the evening shift is off
    drain(db, clock)
    assert paged(db, iid) == [("ada", "sent")]
    first, second = timeline(db, iid, "escalation.level")
    assert first.message == "level 1: nobody to page (nobody on call in evenings)"
    assert second.message == "level 2: paging ada"


def test_reopening_restarts_the_climb_and_no_policy_pages_nobody(
    client: TestClient, admin: dict[str, str], org: None, receiver: Receiver, db, clock
) -> None:
    policy(client, admin, "checkout-oncall", **TWO_LEVELS)
    service(client, admin, "checkout-oncall")
    iid = alert(client, admin)
    drain(db, clock)
    ok(client.post(f"/api/v1/incidents/{iid}/resolve", headers=admin))
    ok(client.post(f"/api/v1/incidents/{iid}/reopen", headers=admin))
    drain(db, clock)
    assert [u for u, _ in paged(db, iid)] == ["ada", "ada"]
    clock.advance(minutes=5)
    drain(db, clock)
    assert [u for u, _ in paged(db, iid)] == ["ada", "ada", "bob"]  # one climb, not two

    service(client, admin, None)
    quiet = alert(client, admin, dedup_key="quiet")
    drain(db, clock)
    assert paged(db, quiet) == []
    [skipped] = timeline(db, quiet, "escalation.skipped")
    assert skipped.message == "the service has no escalation policy; nobody was paged"


def test_policies_validate_their_targets_and_cannot_go_while_used(
    client: TestClient, admin: dict[str, str], org: None, db, clock
) -> None:
    bad = client.put(
        "/api/v1/escalation-policies/p",
        json={
            "levels": [
                {"targets": [{"type": "user", "name": "nobody"}]},
                {"targets": [{"type": "schedule", "name": "nowhere"}]},
            ]
        },
        headers=admin,
    )
    assert bad.status_code == 422, bad.text
    pointers = {e["pointer"] for e in bad.json()["errors"]}
    assert pointers == {"#/levels/0/targets/0/name", "#/levels/1/targets/0/name"}
    for body, pointer in [
        ({"levels": []}, "#/levels"),
        ({"levels": [{"targets": []}]}, "#/levels/0/targets"),
        ({"levels": [{"targets": [{"type": "team", "name": "x"}]}]}, "#/levels/0/targets/0/type"),
        ({"levels": [{"targets": [{"type": "user", "name": "ada"}], "delayMinutes": -1}]},
         "#/levels/0/delayMinutes"),
        ({"repeat": 10, "levels": [{"targets": [{"type": "user", "name": "ada"}]}]}, "#/repeat"),
    ]:  # fmt: skip
        response = client.put("/api/v1/escalation-policies/p", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert pointer in {e["pointer"] for e in response.json()["errors"]}, response.text
    assert ok(client.get("/api/v1/escalation-policies", headers=admin))["items"] == []

    policy(client, admin, "checkout-oncall", **TWO_LEVELS)
    unknown = client.put(
        "/api/v1/services/checkout", json={"escalationPolicy": "nope"}, headers=admin
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "#/escalationPolicy"
    service(client, admin, "checkout-oncall")
    busy = client.delete("/api/v1/escalation-policies/checkout-oncall", headers=admin)
    assert busy.status_code == 409 and "checkout" in busy.json()["detail"]
    viewer = {"Authorization": f"Bearer {make_token(db, clock, Role.VIEWER, name='v')}"}
    denied = client.put("/api/v1/escalation-policies/other", json=TWO_LEVELS, headers=viewer)
    assert denied.status_code == 403
    shown: Any = ok(client.get("/api/v1/escalation-policies/checkout-oncall", headers=viewer))
    assert shown["levels"][1]["targets"] == [{"type": "schedule", "name": "primary"}]


def test_a_paged_person_or_schedule_cannot_be_deleted_and_a_deactivated_one_is_skipped(
    client: TestClient, admin: dict[str, str], org: None, receiver: Receiver, db, clock
) -> None:
    policy(
        client,
        admin,
        "both",
        levels=[
            {"targets": [{"type": "user", "name": "carl"}, {"type": "user", "name": "ada"}]},
            {"targets": [{"type": "schedule", "name": "primary"}]},
        ],
    )
    service(client, admin, "both")
    for path, what in (("users/carl", "user 'carl'"), ("schedules/primary", "schedule 'primary'")):
        refused = client.delete(f"/api/v1/{path}", headers=admin)
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"] == (
            f"{what} is paged by escalation policies: both; take it off those policies first"
        )
        assert client.get(f"/api/v1/{path}", headers=admin).status_code == 200
    carl = ok(client.get("/api/v1/users/carl", headers=admin))
    spec = {k: v for k, v in carl.items() if k not in ("name", "createdAt", "updatedAt")}
    ok(client.put("/api/v1/users/carl", json={**spec, "active": False}, headers=admin))
    first, second = alert(client, admin, "one"), alert(client, admin, "two")
    drain(db, clock)  # both triggers in one batch
    for iid in (first, second):
        assert paged(db, iid) == [("ada", "sent")]
        [skipped] = timeline(db, iid, "notification.skipped")
        assert skipped.message == "carl was not notified: the user is deactivated"


def test_a_stale_step_beside_the_current_one_in_a_batch_does_not_hide_it(
    client: TestClient, admin: dict[str, str], org: None, receiver: Receiver, db, clock
) -> None:
    """After an outage, a step of an earlier trigger and the current step of the same
    incident can be claimed together: the stale one does nothing, the current one pages."""
    policy(client, admin, "checkout-oncall", **TWO_LEVELS)
    service(client, admin, "checkout-oncall")
    iid = alert(client, admin)
    drain(db, clock)
    with db.transaction() as session:
        # a level-2 step of a trigger that no longer counts (epoch 0), due just after
        # the current one: claimed in the same batch, behind it
        enqueue(
            session,
            kind=STEP_JOB,
            payload={"incidentId": iid, "epoch": 0, "cycle": 0, "level": 1},
            now=clock.now(),
            run_at=clock.now() + timedelta(minutes=5, seconds=30),
        )
    clock.advance(minutes=6)
    drain(db, clock)
    assert [u for u, _ in paged(db, iid)] == ["ada", "bob"]
    assert [e.message for e in timeline(db, iid, "escalation.level")] == [
        "level 1: paging ada",
        "level 2: paging bob",
    ]
