"""FakeClock: aware, advanced only by hand, never backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.clock import Clock, FakeClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_defaults_to_an_aware_instant_and_stands_still() -> None:
    clock = FakeClock()
    first = clock.now()
    assert first.tzinfo is not None
    assert first.utcoffset() == timedelta(0)
    assert clock.now() == first


def test_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 1, 1))


def test_is_a_clock() -> None:
    clock: Clock = FakeClock(START)
    assert clock.now() == START


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, START),
        ((0,), {}, START),
        ((1.5,), {}, START + timedelta(seconds=1.5)),
        ((), {"minutes": 5}, START + timedelta(minutes=5)),
        ((30,), {"hours": 1}, START + timedelta(hours=1, seconds=30)),
        ((), {"days": 2}, START + timedelta(days=2)),
    ],
)
def test_advance(args: tuple[float, ...], kwargs: dict[str, float], expected: datetime) -> None:
    clock = FakeClock(START)
    assert clock.advance(*args, **kwargs) == expected
    assert clock.now() == expected


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((-1,), {}), ((), {"minutes": -1}), ((30,), {"minutes": -1}), ((-0.001,), {})],
)
def test_advance_refuses_to_go_backwards(args: tuple[float, ...], kwargs: dict[str, float]) -> None:
    clock = FakeClock(START)
    clock.advance(10)
    with pytest.raises(ValueError):
        clock.advance(*args, **kwargs)
    assert clock.now() == START + timedelta(seconds=10)


def test_set_moves_forward_or_stays() -> None:
    clock = FakeClock(START)
    later = START + timedelta(hours=3)
    assert clock.set(later) == later
    assert clock.set(later) == later  # standing still is allowed
    assert clock.now() == later


def test_set_refuses_to_go_backwards() -> None:
    clock = FakeClock(START)
    clock.advance(60)
    with pytest.raises(ValueError):
        clock.set(START)
    assert clock.now() == START + timedelta(seconds=60)


def test_set_compares_instants_not_wall_readings() -> None:
    clock = FakeClock(START)
    # 10:30 at +02:00 is 08:30 UTC: earlier than START although its wall reading is later.
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 3, 2, 10, 30, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == START


steps = st.lists(
    st.one_of(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda s: ("advance", s)),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda s: ("set", s)),
    ),
    max_size=30,
)


@given(steps)
def test_never_goes_backwards(ops: list[tuple[str, float]]) -> None:
    clock = FakeClock(START)
    for op, seconds in ops:
        before = clock.now()
        try:
            if op == "advance":
                clock.advance(seconds)
            else:
                clock.set(before + timedelta(seconds=seconds))
        except ValueError:
            assert timedelta(seconds=seconds) < timedelta(0)
            assert clock.now() == before
        else:
            assert timedelta(seconds=seconds) >= timedelta(0)
            assert clock.now() == before + timedelta(seconds=seconds)
