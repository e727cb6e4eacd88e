"""Throttling repeated failures: at most `limit` in any window, then wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.throttle import retry_after

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_under_the_limit_nothing_waits() -> None:
    assert retry_after([], limit=3, window=WINDOW, now=NOW) is None
    assert retry_after(ago(1, 2), limit=3, window=WINDOW, now=NOW) is None


def test_at_the_limit_wait_until_the_oldest_counted_failure_leaves_the_window() -> None:
    assert retry_after(ago(1, 2, 10), limit=3, window=WINDOW, now=NOW) == timedelta(minutes=5)
    # Only the latest `limit` count: an older fourth one changes nothing.
    assert retry_after(ago(1, 2, 10, 14), limit=3, window=WINDOW, now=NOW) == timedelta(minutes=5)


def test_failures_outside_the_window_do_not_count() -> None:
    assert retry_after(ago(1, 2, 15), limit=3, window=WINDOW, now=NOW) is None
    assert retry_after(ago(1, 2, 16), limit=3, window=WINDOW, now=NOW) is None


def test_the_wait_is_at_least_a_second() -> None:
    edge = [NOW - WINDOW + timedelta(milliseconds=1)] * 3
    assert retry_after(edge, limit=3, window=WINDOW, now=NOW) == timedelta(seconds=1)


@given(st.lists(st.floats(min_value=0, max_value=30), max_size=20), st.integers(1, 10))
def test_after_waiting_the_answer_is_yes(minutes: list[float], limit: int) -> None:
    failures = sorted(ago(*minutes), reverse=True)
    wait = retry_after(failures, limit=limit, window=WINDOW, now=NOW)
    inside = [t for t in failures if t > NOW - WINDOW]
    assert (wait is None) == (len(inside) < limit)
    if wait is not None:
        assert timedelta(seconds=1) <= wait <= WINDOW
        assert retry_after(failures, limit=limit, window=WINDOW, now=NOW + wait) is None
