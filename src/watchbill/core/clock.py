"""The clock every piece of time logic receives instead of reading the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant as an aware UTC datetime."""

    def now(self) -> datetime: ...


class FakeClock:
    """A clock advanced by hand; it refuses to go backwards, as real time does."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0.0, **kwargs: float) -> datetime:
        step = timedelta(seconds=seconds, **kwargs)
        if step < timedelta(0):
            raise ValueError("a clock cannot go backwards")
        self._now += step
        return self._now

    def set(self, instant: datetime) -> datetime:
        if instant < self._now:
            raise ValueError("a clock cannot go backwards")
        self._now = instant
        return self._now
