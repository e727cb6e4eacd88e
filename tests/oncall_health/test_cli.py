"""`watchbill oncall health` over the real week (both databases): the table with its
warnings and exit status 3, --json and --csv the same as the API, bad input as a message."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import make_token
from tests.notify.receivers import Receiver
from tests.oncall_health.week import PERIOD, live_the_week
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.app.cli import app
from watchbill.core.clock import FakeClock
from watchbill.settings import Settings

Invoke = Callable[..., tuple[int, str, str]]
WEEK = ("--from", "2026-03-02", "--to", "2026-03-09")


@pytest.fixture
def wb(settings: Settings) -> Invoke:
    """The CLI in-process, on the test's database (the settings put it in the environment)."""
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["oncall", "health", *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        return result.exit_code, result.stdout, result.stderr

    return invoke


@pytest.fixture
def admin(db: Database, clock: FakeClock) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, Role.ADMIN, name='ops-admin')}"}


def test_the_week_as_a_table_json_and_csv(
    client: TestClient,
    admin: dict[str, str],
    db: Database,
    clock: FakeClock,
    receiver: Receiver,
    wb: Invoke,
) -> None:
    live_the_week(client, admin, db, clock, receiver)
    code, out, _ = wb(*WEEK)
    assert code == 3  # someone is over a limit
    lines = out.splitlines()
    assert (
        lines[0]
        == "2026-03-02 00:00 - 2026-03-09 00:00 UTC; sleep hours 22:00-07:00 in each person's zone"
    )
    assert lines[1].split() == [
        "USER", "HOURS", "PAGES", "SLEEP", "OFF-HOURS", "NIGHTS", "MTTA-S", "ACKS", "WARNINGS",
    ]  # fmt: skip
    bob = next(line for line in lines if line.startswith("bob "))
    assert bob.split()[:8] == ["bob", "67.0", "5", "3", "5", "2", "135.0", "4"]
    assert bob.endswith("3 pages in sleep hours, over the limit of 2 for this period")
    assert any(line.split()[:3] == ["sre", "3", "235.0"] for line in lines)

    code, out, _ = wb(*WEEK, "--json")
    assert code == 3
    api = client.get("/api/v1/oncall/health", params=PERIOD, headers=admin).json()
    cli = json.loads(out)
    assert cli["users"] == api["users"] and cli["teams"] == api["teams"]

    code, out, _ = wb(*WEEK, "--csv", "--team", "payments")
    assert code == 3
    api_csv = client.get(
        "/api/v1/oncall/health.csv", params={**PERIOD, "team": "payments"}, headers=admin
    )
    assert out.replace("\r\n", "\n") == api_csv.text.replace("\r\n", "\n")
    assert [line.split(",")[0] for line in out.splitlines()] == ["user", "bob", "cleo"]

    code, out, _ = wb("--from", "2026-03-02", "--to", "2026-03-03", "--team", "payments")
    assert code == 0  # a quiet Monday for payments: its members listed, nobody over a limit
    assert [line.split()[:3] for line in out.splitlines()[2:4]] == [
        ["bob", "0.0", "0"],
        ["cleo", "0.0", "0"],
    ]


def test_bad_input_is_a_message_naming_the_option(wb: Invoke) -> None:
    cases = {
        ("--from", "2026-03-09", "--to", "2026-03-02"): "must be after from",
        ("--from", "2025-01-01", "--to", "2026-03-02"): "at most 366 days",
        ("--to", "soon"): "--to",
        ("--team", "Payments"): "--team",
        ("--team", "nobody-here"): "team 'nobody-here' does not exist",
        ("--json", "--csv"): "choose one of --json and --csv",
    }
    for args, message in cases.items():
        code, out, err = wb(*args)
        assert code == 1 and message in err, (args, out, err)
