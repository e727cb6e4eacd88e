"""The real clock, used only at the edges where the process starts."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Reads the wall clock in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


system_clock = SystemClock()
