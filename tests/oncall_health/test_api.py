"""GET /api/v1/oncall/health and health.csv over a real week (both databases): exact
figures per person and team, warnings over the limits, the team filter, the CSV the same
as the JSON, bad periods refused with the field named, and who may read it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import make_token
from tests.escalation.helpers import ok
from tests.notify.receivers import Receiver
from tests.oncall_health.week import (
    EXPECTED_TEAMS,
    EXPECTED_USERS,
    EXPECTED_WARNINGS,
    PERIOD,
    live_the_week,
)
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.notify.models import Delivery
from watchbill.oncall_health.views import CSV_COLUMNS

FIGURES = list(next(iter(EXPECTED_USERS.values())))


@pytest.fixture
def admin(db: Database, clock: FakeClock) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, Role.ADMIN, name='ops-admin')}"}


@pytest.fixture
def week(
    client: TestClient, admin: dict[str, str], db: Database, clock: FakeClock, receiver: Receiver
) -> None:
    live_the_week(client, admin, db, clock, receiver)


@pytest.fixture
def viewer(token_for: Any) -> dict[str, str]:
    return dict(token_for(Role.VIEWER))


def _health(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    return dict(ok(client.get("/api/v1/oncall/health", params=params, headers=headers)))


def test_a_week_of_figures_per_person(
    client: TestClient, week: None, viewer: dict[str, str], db: Database
) -> None:
    report = _health(client, viewer, **PERIOD)
    assert (report["from"], report["to"], report["team"]) == (
        "2026-03-02T00:00:00Z",
        "2026-03-09T00:00:00Z",
        None,
    )
    assert report["sleepHours"] == "22:00-07:00"
    assert report["limits"] == {"hoursOnCall": 100.0, "sleepPages": 2.0, "nightsInterrupted": 2.0}
    people = {p["user"]: p for p in report["users"]}
    assert list(people) == ["ada", "bob", "cleo"]  # dan did nothing: not listed
    for name, expected in EXPECTED_USERS.items():
        assert {k: people[name][k] for k in expected} == expected, name
        assert [
            {k: w[k] for k in ("figure", "value", "limit")} for w in people[name]["warnings"]
        ] == EXPECTED_WARNINGS[name]
    assert people["ada"]["fullName"] == "Ada Lovelace"
    assert people["ada"]["timeZone"] == "Europe/Berlin"
    assert people["bob"]["teams"] == ["payments", "sre"]
    assert people["ada"]["warnings"][0]["message"] == (
        "168 hours on call, over the limit of 100 for this period"
    )
    # ada's two channels sent two notifications per page; the report counts pages
    with db.read() as s:
        sent = s.scalar(
            select(func.count()).where(Delivery.user_name == "ada", Delivery.status == "sent")
        )
    assert sent == 4


def test_team_totals_and_the_team_filter(
    client: TestClient, week: None, viewer: dict[str, str]
) -> None:
    report = _health(client, viewer, **PERIOD)
    assert [t["team"] for t in report["teams"]] == ["payments", "sre"]
    for team in report["teams"]:
        expected = EXPECTED_TEAMS[team["team"]]
        assert {k: team[k] for k in expected} == expected, team["team"]

    sre = _health(client, viewer, **PERIOD, team="sre")
    assert sre["team"] == "sre"
    # every member is listed, dan with zeros; cleo (not in sre) is not
    assert [p["user"] for p in sre["users"]] == ["ada", "bob", "dan"]
    dan = sre["users"][2]
    assert (dan["hoursOnCall"], dan["pages"], dan["mttaSeconds"], dan["warnings"]) == (
        0.0,
        0,
        None,
        [],
    )
    assert [t["team"] for t in sre["teams"]] == ["sre"]
    assert sre["teams"][0] == next(t for t in report["teams"] if t["team"] == "sre")


def test_a_shorter_period_counts_only_what_falls_inside_it(
    client: TestClient, week: None, viewer: dict[str, str]
) -> None:
    """Thursday in UTC: bob's shift and his two night pages (Wednesday night in New York)."""
    thursday = _health(
        client, viewer, **{"from": "2026-03-05T00:00:00Z", "to": "2026-03-06T00:00:00Z"}
    )
    people = {p["user"]: p for p in thursday["users"]}
    assert list(people) == ["ada", "bob"]
    bob = people["bob"]
    assert (bob["hoursOnCall"], bob["pages"], bob["sleepPages"], bob["nightsInterrupted"]) == (
        24.0,
        2,
        2,
        1,
    )
    assert (bob["timedAcknowledgements"], bob["mttaSeconds"]) == (2, 150.0)
    # a day is held to one week's limits, not a seventh of them
    assert thursday["limits"]["sleepPages"] == 2.0 and bob["warnings"] == []
    # offsets are honoured: Thursday in New York starts at 05:00Z (the first page, included)
    local = _health(
        client, viewer, **{"from": "2026-03-05T00:00:00-05:00", "to": "2026-03-06T00:00:00-05:00"}
    )
    bob = {p["user"]: p for p in local["users"]}["bob"]
    assert (bob["hoursOnCall"], bob["pages"]) == (19.0, 2)


def test_csv_has_a_row_per_person_matching_the_json(
    client: TestClient, week: None, viewer: dict[str, str]
) -> None:
    response = client.get("/api/v1/oncall/health.csv", params=PERIOD, headers=viewer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="oncall-health-20260302-20260309.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    report = _health(client, viewer, **PERIOD)
    assert [r["user"] for r in rows] == [p["user"] for p in report["users"]]
    columns = dict(zip(CSV_COLUMNS[4:11], FIGURES, strict=True))
    for row, person in zip(rows, report["users"], strict=True):
        for column, key in columns.items():
            expected = "" if person[key] is None else str(person[key])
            assert row[column] == expected, (person["user"], column)
        assert row["teams"] == " ".join(person["teams"])
        assert row["time_zone"] == person["timeZone"]
    by_user = {r["user"]: r for r in rows}
    assert by_user["ada"]["hours_on_call"] == "168.0"
    assert by_user["ada"]["warnings"] == "hoursOnCall>100"
    assert by_user["bob"]["warnings"] == "sleepPages>2"
    assert by_user["cleo"]["warnings"] == ""


def test_defaults_are_the_last_28_days_until_now(
    client: TestClient, viewer: dict[str, str], clock: FakeClock
) -> None:
    report = _health(client, viewer)
    assert report["to"] == "2026-03-02T09:00:00Z"
    assert report["from"] == "2026-02-02T09:00:00Z"
    assert report["users"] == [] and report["teams"] == []
    assert report["limits"]["hoursOnCall"] == 400.0  # 100 a week, four weeks


@pytest.mark.parametrize(
    ("params", "field", "status"),
    [
        ({"from": "2026-03-09T00:00:00Z", "to": "2026-03-02T00:00:00Z"}, "to", 422),
        ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T00:00:00Z"}, "to", 422),
        ({"from": "2025-01-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}, "to", 422),
        ({"from": "2026-03-02T00:00:00"}, "from", 422),
        ({"to": "yesterday"}, "to", 422),
        ({"from": "9999-01-01T00:00:00Z"}, "from", 422),
        ({"team": "Not A Name"}, "team", 422),
        ({"team": "nobody-here"}, "team", 422),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    client: TestClient, viewer: dict[str, str], params: dict[str, str], field: str, status: int
) -> None:
    for path in ("/api/v1/oncall/health", "/api/v1/oncall/health.csv"):
        response = client.get(path, params=params, headers=viewer)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.text, response.text


def test_viewers_and_up_may_read_and_nobody_else(client: TestClient, token_for: Any) -> None:
    for path in ("/api/v1/oncall/health", "/api/v1/oncall/health.csv"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        for role in Role:
            assert client.get(path, headers=token_for(role)).status_code == 200, (path, role)
