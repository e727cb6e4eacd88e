"""The escalation core: the order of steps, their delays, who a level pages, round
robin, acknowledgement timeouts and snapshots (property-based where it pays)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.escalation import (
    FIRST,
    SCHEDULE,
    USER,
    Level,
    Policy,
    Step,
    Target,
    delay_after,
    from_snapshot,
    next_step,
    retrigger_at,
    steps,
    to_snapshot,
    whom,
)

names = st.text("abcdefgh", min_size=1, max_size=4)
targets = st.builds(Target, st.sampled_from([USER, SCHEDULE]), names)
levels = st.builds(
    Level,
    st.lists(targets, min_size=1, max_size=4).map(tuple),
    st.integers(0, 3600).map(lambda s: timedelta(seconds=s)),
    st.booleans(),
)
policies = st.builds(
    Policy,
    st.lists(levels, min_size=1, max_size=6).map(tuple),
    st.integers(0, 9),
    st.one_of(st.none(), st.integers(1, 86_400).map(lambda s: timedelta(seconds=s))),
)


@given(policies)
def test_steps_climb_every_level_in_order_once_per_cycle(policy: Policy) -> None:
    walked = steps(policy)
    assert walked[0] == FIRST
    assert len(walked) == len(policy.levels) * (policy.repeat + 1)
    assert walked == sorted(walked)  # cycles then levels, strictly increasing
    assert len(set(walked)) == len(walked)
    for cycle in range(policy.repeat + 1):
        assert [s.level for s in walked if s.cycle == cycle] == list(range(len(policy.levels)))
    assert next_step(policy, walked[-1]) is None


@given(policies)
def test_the_time_to_reach_a_step_is_the_sum_of_the_delays_before_it(policy: Policy) -> None:
    elapsed = timedelta(0)
    for step in steps(policy):
        following = next_step(policy, step)
        if following is not None:
            elapsed += delay_after(policy, step)
    total = sum((lvl.delay for lvl in policy.levels), timedelta(0)) * (policy.repeat + 1)
    assert elapsed == total - policy.levels[-1].delay


def test_a_level_pages_everyone_once_in_target_order() -> None:
    level = Level((Target(USER, "ada"), Target(SCHEDULE, "primary")), timedelta(minutes=5))
    assert whom(level, ["ada", "bob", "ada", ""], turn=7) == ["ada", "bob"]
    assert whom(level, ["", ""], turn=0) == []


@given(st.lists(names, min_size=1, max_size=6, unique=True), st.integers(1, 60))
def test_round_robin_takes_turns_evenly(people: list[str], incidents: int) -> None:
    level = Level((Target(SCHEDULE, "s"),), timedelta(0), round_robin=True)
    paged = Counter(p for turn in range(incidents) for p in whom(level, people, turn))
    assert sum(paged.values()) == incidents
    assert max(paged.values()) - min(paged.get(p, 0) for p in people) <= 1


def test_acknowledgement_timeout() -> None:
    at = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    one = (Level((Target(USER, "ada"),), timedelta(minutes=5)),)
    assert retrigger_at(Policy(one), at) is None
    assert retrigger_at(Policy(one, ack_timeout=timedelta(minutes=30)), at) == at + timedelta(
        minutes=30
    )


@given(policies)
def test_snapshots_round_trip(policy: Policy) -> None:
    doc = to_snapshot(policy, "web")
    assert doc["name"] == "web"
    assert from_snapshot(doc) == policy


@pytest.mark.parametrize(
    "build",
    [
        lambda: Policy(()),
        lambda: Policy((Level((Target(USER, "a"),), timedelta(0)),), repeat=10),
        lambda: Policy((Level((Target(USER, "a"),), timedelta(0)),), ack_timeout=timedelta(0)),
        lambda: Level((), timedelta(0)),
        lambda: Level((Target(USER, "a"),), timedelta(seconds=-1)),
        lambda: Target("team", "a"),
    ],
)
def test_invalid_policies_are_refused(build) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        build()


def test_step_order_is_cycle_then_level() -> None:
    assert Step(0, 5) < Step(1, 0)
