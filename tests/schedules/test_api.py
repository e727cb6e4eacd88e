"""The schedule API on SQLite and PostgreSQL: the Schedule kind, who is on call, the final
schedule, gaps, overrides, roles, audit, and the user/team deletion guards."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.schedules.helpers import ok, primary
from watchbill.adapters.db.engine import Database
from watchbill.audit.models import AuditEvent
from watchbill.core.clock import FakeClock
from watchbill.schedules.models import Schedule, ScheduleOverride
from watchbill.schedules.service import on_call_users

PROBLEM = "application/problem+json"
Headers = dict[str, str]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()  # type: ignore[no-any-return]


def pointers(body: dict[str, Any]) -> list[str]:
    return [e.get("pointer", "").removeprefix("#") for e in body.get("errors", [])]


def audit(db: Database, prefix: str) -> list[tuple[str, str, str]]:
    with db.read() as session:
        return [
            (e.action, e.object_id, e.actor)
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.startswith(prefix))
                .order_by(AuditEvent.id)
            )
        ]


def at(text: str) -> str:
    """An instant as the API writes it: UTC with Z."""
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------- the kind


def test_schedule_round_trips_and_is_audited(org: TestClient, admin: Headers, db: Database) -> None:
    got = ok(org.get("/api/v1/schedules/primary", headers=admin))
    assert got["timeZone"] == "Europe/Berlin" and got["team"] == "payments"
    week, nights = got["layers"]
    assert week == {
        "name": "week",
        "users": ["ann", "bob"],
        "rotationStart": "2026-03-02",
        "handoffTime": "09:00",
        "turn": {"weeks": 1},
        "restrictions": [],
    }
    assert nights["restrictions"] == [
        {"type": "daily", "startTime": "20:00", "duration": {"hours": 10}}
    ]
    # Putting back what was read changes nothing and records nothing.
    spec = {k: v for k, v in got.items() if k not in ("name", "createdAt", "updatedAt")}
    assert (
        ok(org.put("/api/v1/schedules/primary", json=spec, headers=admin))["updatedAt"]
        == got["updatedAt"]
    )
    ok(org.patch("/api/v1/schedules/primary", json={"description": "new"}, headers=admin))
    ok(org.delete("/api/v1/schedules/primary", headers=admin), 204)
    assert [a for a, _, _ in audit(db, "schedule.")] == [
        "schedule.create",
        "schedule.update",
        "schedule.delete",
    ]
    assert all(who == "token:sched-admin" for _, _, who in audit(db, "schedule."))


def test_listing_filters_by_team_and_member(org: TestClient, viewer: Headers) -> None:
    def names(q: dict[str, str]) -> list[str]:
        return [
            i["name"] for i in ok(org.get("/api/v1/schedules", params=q, headers=viewer))["items"]
        ]

    assert names({}) == ["primary"]
    assert names({"member": "cy"}) == ["primary"]
    assert names({"member": "dee"}) == []
    assert names({"team": "payments"}) == ["primary"]


@pytest.mark.parametrize(
    ("change", "pointer", "words"),
    [
        ({"timeZone": "Mars/Olympus"}, "/timeZone", "unknown IANA time zone"),
        ({"layers": []}, "/layers", "at least 1"),
        ({"team": "nope"}, "/team", "does not exist"),
    ],
)
def test_bad_schedule_fields_are_named(
    org: TestClient, admin: Headers, change: dict[str, Any], pointer: str, words: str
) -> None:
    body = problem(org.put("/api/v1/schedules/other", json=primary(**change), headers=admin), 422)
    assert pointer in pointers(body), body
    assert words in str(body)
    problem(org.get("/api/v1/schedules/other", headers=admin), 404)


def _layer(**changes: Any) -> dict[str, Any]:
    layer = {"name": "l", "users": ["ann"], "rotationStart": "2026-03-02", "turn": {"days": 1}}
    layer.update(changes)
    return layer


@pytest.mark.parametrize(
    ("layer", "pointer", "words"),
    [
        (_layer(users=[]), "/layers/0/users", "at least 1"),
        (_layer(users=["ann", "ghost"]), "/layers/0/users/1", "'ghost' does not exist"),
        (_layer(turn={}), "/layers/0/turn", "exactly one"),
        (_layer(turn={"hours": 1, "days": 1}), "/layers/0/turn", "exactly one"),
        (_layer(turn={"seconds": 0}), "/layers/0/turn/seconds", "greater than or equal to 1"),
        (_layer(turn={"seconds": 3599}), "/layers/0", "at least an hour"),
        (_layer(end="2026-03-01"), "/layers/0/end", "must be after start"),
        (_layer(rotationStart="2026-03-02T09:00:00"), "/layers/0/rotationStart", ""),
        (_layer(turn={"hours": 12}, handoffTime="09:00"), "/layers/0", "whole days"),
        (
            _layer(rotationStart="2026-03-02T10:00:00+01:00", handoffTime="09:00"),
            "/layers/0/handoffTime",
            "rotationStart is at 10:00 in Europe/Berlin",
        ),
        (
            _layer(restrictions=[{"type": "daily", "startTime": 1020, "duration": {"hours": 1}}]),
            "/layers/0/restrictions/0/startTime",
            "quoted string",
        ),
        (
            _layer(
                restrictions=[{"type": "daily", "startTime": "09:00", "duration": {"hours": 25}}]
            ),
            "/layers/0/restrictions/0",
            "at most 24 hours",
        ),
        (
            _layer(
                restrictions=[{"type": "weekly", "startTime": "09:00", "duration": {"days": 1}}]
            ),
            "/layers/0/restrictions/0",
            "needs startDay",
        ),
        (
            _layer(
                restrictions=[
                    {"type": "daily", "startTime": "09:00", "duration": {"hours": 8}},
                    {
                        "type": "weekly",
                        "startDay": "sunday",
                        "startTime": "23:00",
                        "duration": {"hours": 11},
                    },
                ]
            ),
            "/layers/0/restrictions",
            "restrictions 0 and 1 overlap",
        ),
    ],
)
def test_bad_layers_are_refused_naming_the_field(
    org: TestClient, admin: Headers, layer: dict[str, Any], pointer: str, words: str
) -> None:
    body = problem(
        org.put("/api/v1/schedules/other", json=primary(layers=[layer]), headers=admin), 422
    )
    assert pointer in pointers(body), body
    assert words in str(body)
    problem(org.get("/api/v1/schedules/other", headers=admin), 404)


def test_only_admins_change_schedules(org: TestClient, responder: Headers, viewer: Headers) -> None:
    for headers in (responder, viewer):
        problem(org.put("/api/v1/schedules/primary", json=primary(), headers=headers), 403)
        problem(org.delete("/api/v1/schedules/primary", headers=headers), 403)
        ok(org.get("/api/v1/schedules/primary", headers=headers))
        ok(org.get("/api/v1/schedules/primary/oncall", headers=headers))


def test_users_and_teams_on_a_schedule_cannot_be_deleted(
    org: TestClient, admin: Headers, db: Database, clock: FakeClock
) -> None:
    body = problem(org.delete("/api/v1/users/cy", headers=admin), 409)
    assert "primary" in body["detail"]
    body = problem(org.delete("/api/v1/teams/payments", headers=admin), 409)
    assert "schedules: primary" in body["detail"]
    # Dee is on no layer, but holds an override that has not ended yet.
    start = clock.now() + timedelta(hours=1)
    ok(
        org.post(
            "/api/v1/schedules/primary/overrides",
            json={
                "user": "dee",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=2)).isoformat(),
            },
            headers=admin,
        ),
        201,
    )
    body = problem(org.delete("/api/v1/users/dee", headers=admin), 409)
    assert "overrides" in body["detail"] and "primary" in body["detail"]
    # Once it is over, the person can go, and their past overrides with them.
    clock.advance(hours=4)
    ok(org.delete("/api/v1/users/dee", headers=admin), 204)
    with db.read() as session:
        assert session.scalars(select(ScheduleOverride)).all() == []
    # Taken off the layers, Cy can go too.
    ok(
        org.put(
            "/api/v1/schedules/primary",
            json=primary(layers=[primary()["layers"][0]]),
            headers=admin,
        )
    )
    ok(org.delete("/api/v1/users/cy", headers=admin), 204)


# ---------------------------------------------------------------- who, when


def test_who_is_on_call_follows_layers_and_handoffs(
    org: TestClient, viewer: Headers, clock: FakeClock, db: Database
) -> None:
    # START is Monday 2 March 2026 09:00 UTC = 10:00 in Berlin.
    now = ok(org.get("/api/v1/schedules/primary/oncall", headers=viewer))
    assert now["user"] == "ann"
    assert now["until"] == at("2026-03-02T19:00:00+00:00")  # Cy's night starts at 20:00 Berlin
    night = ok(
        org.get(
            "/api/v1/schedules/primary/oncall",
            params={"at": "2026-03-02T22:00:00+01:00"},
            headers=viewer,
        )
    )
    assert night["user"] == "cy" and night["until"] == at("2026-03-03T05:00:00+00:00")
    nextweek = ok(
        org.get("/api/v1/oncall", params={"at": "2026-03-09T09:00:00+01:00"}, headers=viewer)
    )
    assert nextweek["items"] == [
        {
            "schedule": "primary",
            "team": "payments",
            "at": at("2026-03-09T08:00:00+00:00"),
            "user": "bob",
            "until": None,
        }
    ]
    with db.read() as session:
        assert on_call_users(session, "primary", datetime(2026, 3, 9, 8, tzinfo=UTC)) == ["bob"]
        assert on_call_users(session, "primary", datetime(2026, 3, 9, 7, 59, tzinfo=UTC)) == ["ann"]
        assert on_call_users(session, "primary", datetime(2026, 3, 9, 20, tzinfo=UTC)) == ["cy"]
        assert on_call_users(session, "primary", datetime(2026, 3, 1, tzinfo=UTC)) == []
    problem(org.get("/api/v1/schedules/nope/oncall", headers=viewer), 404)
    problem(org.get("/api/v1/oncall", params={"at": "2026-03-09T09:00:00"}, headers=viewer), 422)


def test_a_change_is_seen_at_once_even_at_the_same_instant(
    org: TestClient, admin: Headers, viewer: Headers, db: Database
) -> None:
    """The parsed-schedule cache is keyed by a revision token renewed on every change of
    the layers, not by a timestamp that two changes in the same instant would share."""
    assert ok(org.get("/api/v1/oncall", headers=viewer))["items"][0]["user"] == "ann"
    swapped = primary()
    swapped["layers"][0]["users"] = ["dee", "ann"]
    ok(org.put("/api/v1/schedules/primary", json=swapped, headers=admin))
    assert ok(org.get("/api/v1/oncall", headers=viewer))["items"][0]["user"] == "dee"
    with db.read() as session:
        assert on_call_users(session, "primary", datetime(2026, 3, 2, 9, tzinfo=UTC)) == ["dee"]
        first = session.scalar(select(Schedule.revision))
    ok(org.patch("/api/v1/schedules/primary", json={"description": "only words"}, headers=admin))
    with db.read() as session:
        assert session.scalar(select(Schedule.revision)) == first, "no new revision for words"


def test_final_shifts_keep_local_handoff_across_dst(org: TestClient, viewer: Headers) -> None:
    # Berlin springs forward on 29 March 2026: the 09:00 handoff moves from 08:00 to 07:00 UTC.
    shifts = ok(
        org.get(
            "/api/v1/schedules/primary/shifts",
            params={"from": "2026-03-23T09:00:00+01:00", "to": "2026-04-06T09:00:00+02:00"},
            headers=viewer,
        )
    )
    week = [s for s in shifts["items"] if s["source"] == "week"]
    assert week[0]["start"] == at("2026-03-23T08:00:00+00:00")
    handoffs = {s["start"] for s in week} | {s["end"] for s in week}
    assert at("2026-03-30T07:00:00+00:00") in handoffs
    assert at("2026-03-30T08:00:00+00:00") not in handoffs
    assert shifts["timeZone"] == "Europe/Berlin"
    # Shifts tile the range: no gaps, no overlaps.
    items = shifts["items"]
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(items))
    gaps = ok(
        org.get(
            "/api/v1/schedules/primary/gaps",
            params={"from": "2026-03-02T09:00:00+01:00", "to": "2027-03-01T09:00:00+01:00"},
            headers=viewer,
        )
    )
    assert gaps["covered"] is True and gaps["items"] == []


def test_gaps_are_reported(org: TestClient, admin: Headers, viewer: Headers) -> None:
    nights_only = primary(layers=[primary()["layers"][1]])
    ok(org.put("/api/v1/schedules/nights", json=nights_only, headers=admin), 201)
    gaps = ok(
        org.get(
            "/api/v1/schedules/nights/gaps",
            params={"from": "2026-03-03T00:00:00+01:00", "to": "2026-03-04T00:00:00+01:00"},
            headers=viewer,
        )
    )
    assert gaps["covered"] is False
    assert gaps["items"] == [
        {"start": at("2026-03-03T05:00:00+00:00"), "end": at("2026-03-03T19:00:00+00:00")}
    ]


def test_ranges_are_checked(org: TestClient, viewer: Headers) -> None:
    for route in ("shifts", "gaps", "overrides"):
        path = f"/api/v1/schedules/primary/{route}"
        body = problem(
            org.get(
                path,
                params={"from": "2026-03-05T00:00:00Z", "to": "2026-03-04T00:00:00Z"},
                headers=viewer,
            ),
            422,
        )
        assert body["errors"] == [
            {"parameter": "to", "in": "query", "detail": "must be after from"}
        ]
        body = problem(
            org.get(
                path,
                params={"from": "2026-01-01T00:00:00Z", "to": "2027-01-03T00:00:00Z"},
                headers=viewer,
            ),
            422,
        )
        assert "one year" in body["detail"]
        assert ok(org.get(path, headers=viewer))  # default: the next 7 days
    problem(
        org.get("/api/v1/schedules/primary/shifts", params={"from": "yesterday"}, headers=viewer),
        422,
    )


# ---------------------------------------------------------------- overrides


def test_overrides_win_and_are_audited(
    org: TestClient, responder: Headers, viewer: Headers, clock: FakeClock, db: Database
) -> None:
    start = datetime(2026, 3, 2, 18, tzinfo=UTC)
    body = {
        "user": "dee",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=6)).isoformat(),
    }
    problem(org.post("/api/v1/schedules/primary/overrides", json=body, headers=viewer), 403)
    made = ok(org.post("/api/v1/schedules/primary/overrides", json=body, headers=responder), 201)
    assert made["user"] == "dee" and made["createdBy"] == "token:sched-responder"
    for t, who in [
        ("2026-03-02T17:59:00Z", "ann"),
        ("2026-03-02T18:00:00Z", "dee"),
        ("2026-03-02T23:59:00Z", "dee"),
        ("2026-03-03T00:00:00Z", "cy"),
    ]:
        assert (
            ok(org.get("/api/v1/oncall", params={"at": t}, headers=viewer))["items"][0]["user"]
            == who
        )
    # A later override over the same time wins.
    later = {
        **body,
        "user": "bob",
        "start": (start + timedelta(hours=1)).isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
    }
    second = ok(org.post("/api/v1/schedules/primary/overrides", json=later, headers=responder), 201)
    shifts = ok(
        org.get(
            "/api/v1/schedules/primary/shifts",
            params={"from": start.isoformat(), "to": (start + timedelta(hours=6)).isoformat()},
            headers=viewer,
        )
    )["items"]
    assert [(s["user"], s["source"]) for s in shifts] == [
        ("dee", "override"),
        ("bob", "override"),
        ("dee", "override"),
    ]
    listed = ok(org.get("/api/v1/schedules/primary/overrides", headers=viewer))["items"]
    assert [o["id"] for o in listed] == [made["id"], second["id"]]
    ok(org.delete(f"/api/v1/schedules/primary/overrides/{second['id']}", headers=responder), 204)
    problem(
        org.delete(f"/api/v1/schedules/primary/overrides/{second['id']}", headers=responder), 404
    )
    assert [a for a, _, _ in audit(db, "schedule.override")] == [
        "schedule.override.create",
        "schedule.override.create",
        "schedule.override.delete",
    ]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (
            {"user": "ghost", "start": "2026-03-03T00:00:00Z", "end": "2026-03-03T01:00:00Z"},
            "/user",
        ),
        ({"user": "ann", "start": "2026-03-03T01:00:00Z", "end": "2026-03-03T00:00:00Z"}, ""),
        ({"user": "ann", "start": "2026-03-03T00:00:00", "end": "2026-03-03T01:00:00Z"}, "/start"),
        ({"user": "ann", "start": "2026-03-03T00:00:00Z", "end": "2027-04-03T01:00:00Z"}, ""),
    ],
)
def test_bad_overrides_change_nothing(
    org: TestClient, responder: Headers, db: Database, body: dict[str, Any], pointer: str
) -> None:
    answer = problem(
        org.post("/api/v1/schedules/primary/overrides", json=body, headers=responder), 422
    )
    if pointer:
        assert any(p.endswith(pointer) for p in pointers(answer)), answer
    with db.read() as session:
        assert session.scalars(select(ScheduleOverride)).all() == []
    assert audit(db, "schedule.override") == []


def test_only_admins_record_past_swaps_and_they_stay_marked(
    org: TestClient,
    admin: Headers,
    responder: Headers,
    viewer: Headers,
    clock: FakeClock,
    db: Database,
) -> None:
    # Friday 6 March; on Tuesday 3 March dee covered ann from 10:00 to 13:00 Berlin.
    clock.set(datetime(2026, 3, 6, 12, tzinfo=UTC))
    swap = {"user": "dee", "start": "2026-03-03T10:00:00+01:00", "end": "2026-03-03T13:00:00+01:00"}
    refused = problem(
        org.post("/api/v1/schedules/primary/overrides", json=swap, headers=responder), 403
    )
    assert pointers(refused) == ["/start"] and "only admins" in refused["detail"]
    # Nor may a responder start a running override in the past: that rewrites the past too.
    running = {"user": "dee", "start": "2026-03-06T11:00:00Z", "end": "2026-03-06T14:00:00Z"}
    problem(org.post("/api/v1/schedules/primary/overrides", json=running, headers=responder), 403)
    problem(org.post("/api/v1/schedules/primary/overrides", json=swap, headers=viewer), 403)
    with db.read() as session:
        assert session.scalars(select(ScheduleOverride)).all() == []
    assert audit(db, "schedule.override") == []

    # "From now" typed to the minute on a form is not the past.
    now_ish = {"user": "bob", "start": "2026-03-06T11:56:00Z", "end": "2026-03-06T14:00:00Z"}
    current = ok(
        org.post("/api/v1/schedules/primary/overrides", json=now_ish, headers=responder), 201
    )
    assert current["enteredAfterTheFact"] is False
    made = ok(org.post("/api/v1/schedules/primary/overrides", json=swap, headers=admin), 201)
    assert made["enteredAfterTheFact"] is True and made["createdBy"] == "token:sched-admin"
    assert made["createdAt"] == at("2026-03-06T12:00:00+00:00")
    assert [actor for _, _, actor in audit(db, "schedule.override.create")] == [
        "token:sched-responder",
        "token:sched-admin",
    ]
    with db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "schedule.override.create")
        ).all()[-1]
        assert event.after["enteredAfterTheFact"] is True and event.after["user"] == "dee"

    week = {"from": "2026-03-03T00:00:00+01:00", "to": "2026-03-04T00:00:00+01:00"}
    listed = ok(org.get("/api/v1/schedules/primary/overrides", params=week, headers=viewer))
    assert [(o["user"], o["enteredAfterTheFact"]) for o in listed["items"]] == [("dee", True)]
    shifts = ok(org.get("/api/v1/schedules/primary/shifts", params=week, headers=viewer))["items"]
    assert [(s["user"], s["source"], s["enteredAfterTheFact"]) for s in shifts] == [
        ("cy", "nights", False),
        ("ann", "week", False),
        ("dee", "override", True),
        ("ann", "week", False),
        ("cy", "nights", False),
    ]
    assert shifts[2]["start"] == at("2026-03-03T09:00:00+00:00")
    # The swap moves those three hours from ann to dee in the on-call health report.
    health = ok(org.get("/api/v1/oncall/health", params=week, headers=viewer))
    hours = {p["user"]: p["hoursOnCall"] for p in health["users"] if p["hoursOnCall"]}
    assert hours == {"ann": 14 - 3, "dee": 3, "cy": 6 + 4}


# ---------------------------------------------------------------- recipes


def test_follow_the_sun_recipe_builds_an_appliable_covered_schedule(
    org: TestClient, admin: Headers, responder: Headers, viewer: Headers
) -> None:
    body = {
        "timeZone": "UTC",
        "start": "2026-03-02",
        "team": "payments",
        "regions": [
            {"name": "apac", "users": ["dee"], "startTime": "22:00", "endTime": "06:00"},
            {"name": "emea", "users": ["ann", "cy"], "startTime": "06:00", "endTime": "14:00"},
            {"name": "amer", "users": ["bob"], "startTime": "14:00", "endTime": "22:00"},
        ],
    }
    problem(org.post("/api/v1/schedule-recipes/follow-the-sun", json=body, headers=viewer), 403)
    made = ok(org.post("/api/v1/schedule-recipes/follow-the-sun", json=body, headers=responder))
    assert made["covered"] is True and made["gaps"] == []
    assert made["spec"]["layers"][0]["restrictions"] == [
        {"type": "daily", "startTime": "22:00", "duration": {"hours": 8}}
    ]
    ok(org.put("/api/v1/schedules/sun", json=made["spec"], headers=admin), 201)
    for t, who in [
        ("2026-03-03T23:00:00Z", "dee"),
        ("2026-03-03T07:00:00Z", "ann"),
        ("2026-03-10T07:00:00Z", "cy"),
        ("2026-03-03T15:00:00Z", "bob"),
    ]:
        assert (
            ok(org.get("/api/v1/schedules/sun/oncall", params={"at": t}, headers=viewer))["user"]
            == who
        )
    twice = {**body, "regions": [body["regions"][0], body["regions"][0]]}
    body_twice = problem(
        org.post("/api/v1/schedule-recipes/follow-the-sun", json=twice, headers=responder), 422
    )
    assert "layer names must be unique" in str(body_twice)
    far = {**body, "start": "9999-01-01"}
    problem(org.post("/api/v1/schedule-recipes/follow-the-sun", json=far, headers=responder), 422)
    short = {**body, "regions": body["regions"][:2]}
    holed = ok(org.post("/api/v1/schedule-recipes/follow-the-sun", json=short, headers=responder))
    assert holed["covered"] is False
    assert holed["gaps"][0] == {
        "start": at("2026-03-02T14:00:00+00:00"),
        "end": at("2026-03-02T22:00:00+00:00"),
    }


def test_weekday_weekend_recipe_tiles_the_week(
    org: TestClient, admin: Headers, responder: Headers, viewer: Headers
) -> None:
    body = {
        "timeZone": "Europe/Berlin",
        "start": "2026-03-02",
        "weekday": {"users": ["ann", "bob"]},
        "weekend": {"users": ["cy", "dee"]},
    }
    made = ok(org.post("/api/v1/schedule-recipes/weekday-weekend", json=body, headers=responder))
    assert made["covered"] is True
    ok(org.put("/api/v1/schedules/split", json=made["spec"], headers=admin), 201)
    for t, who in [
        ("2026-03-06T17:59:00+01:00", "ann"),  # Friday before 18:00: weekdays
        ("2026-03-06T18:00:00+01:00", "cy"),  # the weekend
        ("2026-03-09T08:59:00+01:00", "cy"),
        ("2026-03-09T09:00:00+01:00", "bob"),  # Monday 09:00: next week's weekday person
        ("2026-03-14T12:00:00+01:00", "dee"),  # next weekend
        ("2026-03-30T08:59:00+02:00", "dee"),  # the weekend spanning the DST change
        ("2026-03-30T09:00:00+02:00", "ann"),
    ]:
        assert (
            ok(org.get("/api/v1/schedules/split/oncall", params={"at": t}, headers=viewer))["user"]
            == who
        ), t
    bad = {**body, "weekendStartDay": "monday", "weekendStartTime": "09:00"}
    problem(org.post("/api/v1/schedule-recipes/weekday-weekend", json=bad, headers=responder), 422)
