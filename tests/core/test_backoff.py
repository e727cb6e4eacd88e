"""retry_delay: exponential from `base`, capped at `cap`, and strict about its input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.backoff import retry_delay


@pytest.mark.parametrize(
    ("attempt", "kwargs", "expected"),
    [
        (1, {}, 1.0),
        (2, {}, 2.0),
        (3, {}, 4.0),
        (4, {}, 8.0),
        (10, {}, 512.0),
        (11, {}, 600.0),  # 1024 capped at the default 600
        (1_000_000, {}, 600.0),  # a huge attempt neither overflows nor exceeds the cap
        (1, {"base": 0.5}, 0.5),
        (4, {"base": 0.5}, 4.0),
        (3, {"base": 2.0, "cap": 5.0}, 5.0),
        (2, {"base": 2.0, "cap": 5.0}, 4.0),
        (1, {"base": 30.0, "cap": 10.0}, 10.0),  # the cap wins even over the first delay
    ],
)
def test_retry_delay_table(attempt: int, kwargs: dict[str, float], expected: float) -> None:
    delay = retry_delay(attempt, **kwargs)
    assert isinstance(delay, float)
    assert delay == expected


@pytest.mark.parametrize(
    ("attempt", "kwargs"),
    [
        (0, {}),
        (-1, {}),
        (1, {"base": 0.0}),
        (1, {"base": -1.0}),
        (1, {"cap": 0.0}),
        (1, {"cap": -5.0}),
    ],
)
def test_retry_delay_rejects_bad_input(attempt: int, kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        retry_delay(attempt, **kwargs)


positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(attempt=st.integers(min_value=1, max_value=10_000), base=positive, cap=positive)
def test_retry_delay_is_monotone_and_capped(attempt: int, base: float, cap: float) -> None:
    here = retry_delay(attempt, base=base, cap=cap)
    after = retry_delay(attempt + 1, base=base, cap=cap)
    assert 0 < here <= cap
    assert math.isfinite(here)
    assert here <= after
    # Below the cap every step doubles exactly: the growth is exponential, not linear.
    if after < cap:
        assert after == pytest.approx(2 * here)


@given(attempt=st.integers(min_value=1, max_value=10_000), base=positive, cap=positive)
def test_retry_delay_is_the_capped_exponential(attempt: int, base: float, cap: float) -> None:
    expected = min(cap, base * 2.0 ** min(attempt - 1, 62))
    assert retry_delay(attempt, base=base, cap=cap) == pytest.approx(expected)


@given(attempt=st.integers(max_value=0))
def test_retry_delay_rejects_any_attempt_below_one(attempt: int) -> None:
    with pytest.raises(ValueError):
        retry_delay(attempt)
