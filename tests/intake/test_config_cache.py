"""The intake writer keeps its configuration between batches; whoever changes it (the
API, another process, the CLI writing to the database directly) is seen on the next
batch, through the version the database triggers bump. Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.intake.helpers import rows
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.intake.events import TRIGGER, AlertEvent
from watchbill.intake.writer import IntakeWriter, Result, Submission
from watchbill.integrations.models import EVENTS_V2


@pytest.fixture
def writer(db: Database, clock: FakeClock) -> IntakeWriter:
    """A writer without its thread: each submit runs one batch at once, in this thread."""
    return IntakeWriter(db, clock)


def send(writer: IntakeWriter, key: str, dedup: str, **labels: str) -> Result:
    event = AlertEvent(action=TRIGGER, dedup_key=dedup, summary=dedup, labels=labels)
    return writer.submit(Submission(key=key, types=(EVENTS_V2,), events=[event])).result(5)


def suppressed(db: Database, dedup: str) -> str:
    (alert,) = rows(db, "alerts", "dedup_key = :k", k=dedup)
    return str(alert["suppressed"])


def version(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT version FROM config_version")).scalar_one())


def test_a_silence_written_by_another_process_applies_to_the_next_batch(
    writer: IntakeWriter, keys: dict[str, str], db: Database, clock: FakeClock
) -> None:
    assert send(writer, keys["pd"], "a1", team="db").status == "ok"
    assert suppressed(db, "a1") == ""
    before = version(db)
    now = clock.now()
    with db.engine.begin() as conn:  # as `watchbill silences create` on another process
        conn.execute(
            text(
                "INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment, "
                "created_at, updated_at) VALUES (:m, :s, :e, 'ops', 'db upgrade', :s, :s)"
            ),
            {
                "m": '[{"name": "team", "value": "db", "isRegex": false, "isEqual": true}]',
                "s": now.replace(tzinfo=None),
                "e": (now + timedelta(hours=1)).replace(tzinfo=None),
            },
        )
    assert version(db) > before
    send(writer, keys["pd"], "a2", team="db")
    assert suppressed(db, "a2").startswith("silence #")
    send(writer, keys["pd"], "a3", team="web")
    assert suppressed(db, "a3") == ""


def test_a_window_that_starts_later_applies_without_any_change(
    client: TestClient,
    admin: dict[str, str],
    writer: IntakeWriter,
    keys: dict[str, str],
    db: Database,
    clock: FakeClock,
) -> None:
    made = client.post(
        "/api/v1/services/checkout/maintenance-windows",
        json={
            "startsAt": (clock.now() + timedelta(minutes=10)).isoformat(),
            "endsAt": (clock.now() + timedelta(minutes=20)).isoformat(),
            "description": "failover drill",
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    send(writer, keys["pd"], "b1")
    assert suppressed(db, "b1") == ""
    clock.advance(minutes=11)
    send(writer, keys["pd"], "b2")
    assert "failover drill" in suppressed(db, "b2")
    clock.advance(minutes=10)
    send(writer, keys["pd"], "b3")
    assert suppressed(db, "b3") == ""


def test_a_rotated_key_stops_working_on_the_next_batch(
    client: TestClient, admin: dict[str, str], writer: IntakeWriter, keys: dict[str, str]
) -> None:
    assert send(writer, keys["pd"], "c1").status == "ok"
    rotated = client.post("/api/v1/services/checkout/integrations/pd/rotate", headers=admin)
    assert rotated.status_code == 200, rotated.text
    assert send(writer, keys["pd"], "c2").status == "unknown_key"
    assert send(writer, rotated.json()["key"], "c3").status == "ok"


def test_last_event_time_does_not_count_as_a_configuration_change(
    writer: IntakeWriter, keys: dict[str, str], db: Database
) -> None:
    send(writer, keys["pd"], "d1")
    before = version(db)
    send(writer, keys["pd"], "d2")
    send(writer, keys["pd"], "d3")
    assert version(db) == before


def test_a_change_after_the_version_row_was_removed_is_still_seen(
    writer: IntakeWriter, keys: dict[str, str], db: Database
) -> None:
    """TRUNCATE (as between tests) removes the row; the next change writes it anew."""
    send(writer, keys["pd"], "e1")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM config_version"))
    assert send(writer, keys["pd"], "e2").status == "ok"
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM integrations WHERE name = 'pd'"))
    assert send(writer, keys["pd"], "e3").status == "unknown_key"
