"""Datetimes reach the database as aware UTC and come back so, on both databases; on
SQLite the stored text is the one SQLAlchemy's DATETIME writes, so that comparisons made
in SQL (due jobs, time ranges) order as the instants do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite

from watchbill.adapters.db.base import UTCDateTime
from watchbill.adapters.db.engine import Database
from watchbill.jobs.models import Job
from watchbill.jobs.queue import enqueue

SQLITE = sqlite.dialect()
TO_TEXT = UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
SQLALCHEMY_TEXT = sqlite.DATETIME().bind_processor(SQLITE)
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@given(instants, offsets)
def test_sqlite_text_is_sqlalchemys_and_sorts_as_the_instants(
    when: datetime, zone: timezone
) -> None:
    assert TO_TEXT is not None and SQLALCHEMY_TEXT is not None
    local = when.astimezone(zone)
    assert TO_TEXT(local) == SQLALCHEMY_TEXT(when.replace(tzinfo=None))
    later = when + timedelta(microseconds=1)
    assert TO_TEXT(local) < TO_TEXT(later)


def test_naive_datetimes_are_refused() -> None:
    assert TO_TEXT is not None
    with pytest.raises(ValueError, match="naive"):
        TO_TEXT(datetime(2026, 1, 1))
    assert TO_TEXT(None) is None


def test_a_datetime_in_any_zone_round_trips_as_utc(db: Database) -> None:
    berlin = datetime(2026, 3, 29, 3, 30, 0, 250, tzinfo=timezone(timedelta(hours=2)))
    with db.transaction() as session:
        job_id = enqueue(session, kind="t", payload={}, now=berlin)
    with db.read() as session:
        stored = session.scalar(select(Job.created_at).where(Job.id == job_id))
        if db.engine.dialect.name == "sqlite":
            raw = session.scalar(text("SELECT created_at FROM jobs WHERE id = :i"), {"i": job_id})
            assert raw == "2026-03-29 01:30:00.000250"
    assert stored == berlin and stored is not None and stored.tzinfo == UTC
