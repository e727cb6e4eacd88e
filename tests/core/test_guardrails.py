"""Guardrails: the hourly cap and the cooldown, hand-computed cases and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.guardrails import Guardrails, check

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_first_run_is_allowed() -> None:
    assert check(Guardrails(3, 10 * MIN), [], T0).allowed


def test_cooldown_counts_from_the_latest_run() -> None:
    rails = Guardrails(10, 10 * MIN)
    runs = [T0 - 30 * MIN, T0 - 4 * MIN]
    verdict = check(rails, runs, T0)
    assert not verdict.allowed
    assert verdict.retry_at == T0 + 6 * MIN
    assert "cooling down" in verdict.reason
    assert check(rails, runs, T0 + 6 * MIN).allowed


def test_hourly_cap_opens_when_the_oldest_counted_run_is_an_hour_old() -> None:
    rails = Guardrails(3, timedelta(0))
    runs = [T0 - 50 * MIN, T0 - 20 * MIN, T0 - 5 * MIN, T0 - 70 * MIN]
    verdict = check(rails, runs, T0)
    assert not verdict.allowed
    assert verdict.reason == "ran 3 times in the last hour (the cap is 3)"
    assert verdict.retry_at == T0 + 10 * MIN
    assert check(rails, runs, T0 + 10 * MIN).allowed
    assert not check(rails, runs, T0 + 10 * MIN - timedelta(seconds=1)).allowed


def test_cap_and_cooldown_together_wait_for_the_later_of_the_two() -> None:
    rails = Guardrails(1, 90 * MIN)
    verdict = check(rails, [T0 - 10 * MIN], T0)
    assert verdict.retry_at == T0 + 80 * MIN


def test_zero_runs_per_hour_disables_the_action() -> None:
    verdict = check(Guardrails(0, timedelta(0)), [], T0)
    assert not verdict.allowed and "disabled" in verdict.reason and verdict.retry_at is None


def test_runs_from_a_clock_ahead_count_as_now() -> None:
    verdict = check(Guardrails(5, 10 * MIN), [T0 + 3 * MIN], T0)
    assert verdict.retry_at == T0 + 10 * MIN


@pytest.mark.parametrize("cap, cooldown", [(-1, MIN), (1, -MIN)])
def test_nonsense_settings_are_refused(cap: int, cooldown: timedelta) -> None:
    with pytest.raises(ValueError):
        Guardrails(cap, cooldown)


offsets = st.lists(st.integers(min_value=0, max_value=180), max_size=12)


@given(offsets, st.integers(1, 6), st.integers(0, 90))
def test_an_allowed_run_never_breaks_the_rules(ago: list[int], cap: int, cool: int) -> None:
    rails = Guardrails(cap, cool * MIN)
    runs = [T0 - a * MIN for a in ago]
    verdict = check(rails, runs, T0)
    in_hour = sum(1 for a in ago if a < 60)
    if verdict.allowed:
        assert in_hour < cap
        assert all(a >= cool for a in ago)
    else:
        assert verdict.retry_at is not None and verdict.retry_at > T0
        assert check(rails, runs, verdict.retry_at).allowed
