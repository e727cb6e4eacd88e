"""Bulk inserts write what SQLAlchemy would have written, on both databases: converted
datetimes and JSON, skipped conflicts, and after what the session still holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from tests.incidents.helpers import event, fire, make_service
from watchbill.adapters.db.bulk import insert_rows
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.incidents.models import IncidentEvent
from watchbill.jobs.models import Job
from watchbill.jobs.queue import enqueue


def _job(key: str | None, at: datetime) -> dict[str, object]:
    return {
        "kind": "bulk.test",
        "payload": {"key": key, "nested": [1, "two", None]},
        "idempotency_key": key,
        "status": "pending",
        "run_at": at,
        "attempts": 0,
        "max_attempts": 3,
        "created_at": at,
    }


def test_rows_round_trip_and_known_keys_are_skipped(db: Database) -> None:
    at = datetime(2026, 3, 29, 3, 30, 0, 17, tzinfo=timezone(timedelta(hours=2)))
    with db.transaction() as session:
        enqueue(session, kind="bulk.test", payload={}, now=at, idempotency_key="seen")
    rows = [_job("seen", at), _job("new", at), _job(None, at), _job(None, at)]
    with db.transaction() as session:
        insert_rows(session, Job.__table__, rows, skip_conflicts_on="idempotency_key")
        insert_rows(session, Job.__table__, [])
    with db.read() as session:
        jobs = list(session.scalars(select(Job).order_by(Job.id)))
    assert [j.idempotency_key for j in jobs] == ["seen", "new", None, None]
    assert jobs[0].payload == {}  # the job already there was left alone
    assert jobs[1].payload == {"key": "new", "nested": [1, "two", None]}
    assert all(j.run_at == at and j.run_at.tzinfo == UTC for j in jobs)


def test_timeline_rows_follow_what_the_session_holds(db: Database, clock: FakeClock) -> None:
    sid = make_service(db, clock)
    incident_id = fire(db, clock, sid, event("k", "down"))[0].incident_id
    with db.transaction() as session:
        session.add(
            IncidentEvent(
                incident_id=incident_id,
                at=clock.now(),
                kind="note",
                actor="ada",
                message="first",
                data={},
            )
        )
        rows = [
            {
                "incident_id": incident_id,
                "at": clock.now() + timedelta(seconds=n),
                "kind": "bulk",
                "actor": "system",
                "message": f"row {n} ünïcode\ttab",
                "data": {"n": n, "text": 'quote " and \\ backslash'},
            }
            for n in range(3)
        ]
        insert_rows(session, IncidentEvent.__table__, rows)
    with db.read() as session:
        found = list(
            session.scalars(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident_id)
                .where(IncidentEvent.kind.in_(["note", "bulk"]))
                .order_by(IncidentEvent.id)
            )
        )
    assert [e.message for e in found] == ["first"] + [r["message"] for r in rows]
    assert [e.data for e in found[1:]] == [r["data"] for r in rows]
    assert [e.at for e in found[1:]] == [r["at"] for r in rows]
