"""Token buckets per key: bursts, refill, eviction of idle keys, and oversized batches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.ratelimit import RateLimiter


def drain(limiter: RateLimiter, key: str, now: float) -> int:
    """Take single tokens until refused; how many were granted."""
    n = 0
    while limiter.allow(key, 1, now):
        n += 1
        assert n < 10_000
    return n


def test_a_new_key_may_burst_then_is_refused() -> None:
    limiter = RateLimiter(rate=1, burst=5)
    assert [limiter.allow("k", 1, 0.0) for _ in range(6)] == [True] * 5 + [False]


def test_refill_at_the_rate_and_never_beyond_the_burst() -> None:
    limiter = RateLimiter(rate=2, burst=5)
    assert drain(limiter, "k", 0.0) == 5
    assert drain(limiter, "k", 1.0) == 2  # 1 s at 2/s
    assert not limiter.allow("k", 1, 1.25)  # half a token only
    assert limiter.allow("k", 1, 1.5)
    assert drain(limiter, "k", 1000.0) == 5  # capped at the burst after a long pause


def test_cost_counts_as_that_many_tokens() -> None:
    limiter = RateLimiter(rate=1, burst=10)
    assert limiter.allow("k", 7, 0.0)
    assert not limiter.allow("k", 4, 0.0)  # refused: 3 left...
    assert limiter.allow("k", 3, 0.0)  # ...and a refusal took nothing
    assert not limiter.allow("k", 1, 0.0)


def test_a_huge_batch_is_allowed_only_when_the_bucket_is_full() -> None:
    limiter = RateLimiter(rate=1, burst=5)
    assert limiter.allow("k", 1_000_000, 0.0)  # full bucket: one big batch goes through
    assert not limiter.allow("k", 1, 0.0)  # and empties it
    assert not limiter.allow("k", 1_000_000, 4.5)  # 4.5 of 5 tokens: not full
    assert limiter.allow("k", 1_000_000, 5.0)  # full again (4.5 kept + 0.5 s)


def test_keys_are_independent() -> None:
    limiter = RateLimiter(rate=1, burst=2)
    assert drain(limiter, "a", 0.0) == 2
    assert drain(limiter, "b", 0.0) == 2


def test_least_recently_used_keys_are_forgotten_beyond_max_keys() -> None:
    limiter = RateLimiter(rate=1, burst=2, max_keys=2)
    drain(limiter, "a", 0.0)
    drain(limiter, "b", 0.0)
    assert not limiter.allow("a", 1, 0.0)  # a is now the most recently used
    assert limiter.allow("c", 1, 0.0)  # a third key evicts b, the least recent
    assert len(limiter._buckets) == 2
    assert not limiter.allow("a", 1, 0.0)  # a was kept, still empty
    assert drain(limiter, "b", 0.0) == 2  # b was forgotten: a fresh, full bucket


def test_a_flood_of_made_up_keys_stays_bounded() -> None:
    limiter = RateLimiter(rate=1, burst=1, max_keys=100)
    for i in range(1000):
        assert limiter.allow(f"key-{i}", 1, 0.0)
    assert len(limiter._buckets) == 100


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0), (-1, 1), (1, -5)])
def test_rate_and_burst_must_be_positive(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=rate, burst=burst)


@given(
    st.floats(0.5, 50),
    st.floats(1, 50),
    st.lists(st.tuples(st.floats(0, 2), st.integers(1, 60)), max_size=60),
)
def test_granted_cost_never_exceeds_burst_plus_rate_times_time(
    rate: float, burst: float, steps: list[tuple[float, int]]
) -> None:
    limiter = RateLimiter(rate=rate, burst=burst)
    now, granted = 0.0, 0.0
    for dt, cost in steps:
        now += dt
        if limiter.allow("k", cost, now):
            granted += min(cost, burst)  # an oversized batch costs one full bucket
        assert granted <= burst + rate * now + 1e-6
