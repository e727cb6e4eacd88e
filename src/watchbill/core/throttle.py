"""Throttling repeated failures: at most `limit` in any `window`, then wait."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def retry_after(
    recent: Sequence[datetime], *, limit: int, window: timedelta, now: datetime
) -> timedelta | None:
    """How long until one more attempt is allowed, or None if it is allowed now.

    `recent` holds the latest failures inside the window, newest first (at most `limit`
    of them are needed). With `limit` of them inside the window, the next attempt waits
    until the oldest of those leaves it; at least one second, so Retry-After is useful.
    """
    inside = [t for t in recent if t > now - window]
    if len(inside) < limit:
        return None
    oldest_counted = sorted(inside, reverse=True)[limit - 1]
    return max(oldest_counted + window - now, timedelta(seconds=1))
