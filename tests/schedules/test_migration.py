"""Revision 0007 marks the overrides already stored that started before they were
entered, as a new one would be marked; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select

from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import migrations
from watchbill.schedules.models import Schedule, ScheduleOverride
from watchbill.users.models import User


def test_0007_marks_stored_overrides_that_began_before_they_were_entered(
    org: TestClient, db: Database, db_url: str
) -> None:
    entered = datetime(2026, 3, 6, 12, tzinfo=UTC)
    starts = {
        "long-before": entered - timedelta(days=2),
        "just-before": entered - timedelta(minutes=4),
        "later": entered + timedelta(hours=1),
    }
    with db.transaction() as session:
        schedule = session.scalar(select(Schedule.id))
        dee = session.scalar(select(User).where(User.name == "dee"))
        for label, start in starts.items():
            session.add(
                ScheduleOverride(
                    schedule_id=schedule,
                    user=dee,
                    starts_at=start,
                    ends_at=entered + timedelta(days=1),
                    created_by=label,
                    created_at=entered,
                )
            )
    db.dispose()
    command.downgrade(migrations().config(db_url), "0006")
    migrations().upgrade(db_url)
    with db.read() as session:
        marked = dict(
            session.execute(
                select(ScheduleOverride.created_by, ScheduleOverride.after_the_fact)
            ).all()
        )
    assert marked == {"long-before": True, "just-before": False, "later": False}
