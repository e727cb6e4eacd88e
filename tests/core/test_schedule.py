"""Properties of the pure schedule core: coverage, overrides, restrictions, DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchbill.core.schedule import (
    Layer,
    Override,
    Restriction,
    Schedule,
    final_shifts,
    gaps,
    layer_shifts,
    on_call_at,
)

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)
USERS = ("ann", "bob", "cy", "dee")

instants = st.integers(min_value=0, max_value=400 * 86400).map(
    lambda s: BASE + timedelta(seconds=s)
)


def _disjoint_and_sorted(shifts):
    for a, b in pairwise(shifts):
        assert a.end <= b.start, (a, b)
    for s in shifts:
        assert s.start < s.end


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    turn_days=st.integers(min_value=1, max_value=14),
    offset_hours=st.integers(min_value=0, max_value=23),
    n_users=st.integers(min_value=1, max_value=4),
    start=instants,
    span_days=st.integers(min_value=1, max_value=60),
)
def test_unrestricted_daily_rotation_covers_every_instant_once(
    zone, turn_days, offset_hours, n_users, start, span_days
):
    tz = ZoneInfo(zone)
    anchor = datetime(2025, 12, 1, offset_hours, 0, tzinfo=tz)
    sched = Schedule(zone, (Layer("l", USERS[:n_users], anchor, turn_days * 86400),))
    end = start + timedelta(days=span_days)
    shifts = final_shifts(sched, start, end)
    _disjoint_and_sorted(shifts)
    assert gaps(sched, start, end) == []
    assert shifts[0].start == start and shifts[-1].end == end
    # Each shift's person is who on_call_at names inside it.
    for s in shifts:
        assert on_call_at(sched, s.start) == s.user
        assert on_call_at(sched, s.end - timedelta(seconds=1)) == s.user


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(ZONES), year=st.integers(min_value=2025, max_value=2030))
def test_daily_handoff_stays_at_local_nine_across_dst(zone, year):
    tz = ZoneInfo(zone)
    anchor = datetime(year, 1, 1, 9, 0, tzinfo=tz)
    sched = Schedule(zone, (Layer("l", ("ann", "bob"), anchor, 86400),))
    shifts = layer_shifts(sched.layers[0], zone, anchor, anchor + timedelta(days=366))
    for s in shifts:
        local = s.start.astimezone(tz)
        assert (local.hour, local.minute) == (9, 0)
    # Some turns last 23 or 25 hours (the DST days), none leave a gap or overlap.
    lengths = {s.end - s.start for s in shifts}
    assert lengths <= {timedelta(hours=23), timedelta(hours=24), timedelta(hours=25)}
    assert timedelta(hours=23) in lengths and timedelta(hours=25) in lengths
    _disjoint_and_sorted(shifts)


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start_hour=st.integers(min_value=0, max_value=23),
    hours=st.integers(min_value=1, max_value=23),
    weekly=st.booleans(),
    day=st.integers(min_value=1, max_value=7),
    t=instants,
)
def test_restricted_layer_never_leaks_outside_its_window(zone, start_hour, hours, weekly, day, t):
    tz = ZoneInfo(zone)
    restriction = Restriction(
        "weekly" if weekly else "daily", time(start_hour), timedelta(hours=hours), day
    )
    layer = Layer(
        "r", ("ann", "bob"), datetime(2025, 6, 1, tzinfo=tz), 86400 * 7, restrictions=(restriction,)
    )
    sched = Schedule(zone, (layer,))
    for s in final_shifts(sched, t, t + timedelta(days=9)):
        for instant in (s.start, s.end - timedelta(seconds=1)):
            local = instant.astimezone(tz)
            if weekly:
                continue  # checked through on_call_at agreement below
            minutes = (local.hour * 60 + local.minute - start_hour * 60) % 1440
            assert minutes < hours * 60 + 60  # DST may stretch a window by an hour
        assert on_call_at(sched, s.start) == s.user
    for g_start, g_end in gaps(sched, t, t + timedelta(days=9)):
        assert on_call_at(sched, g_start) is None
        assert on_call_at(sched, g_end - timedelta(seconds=1)) is None


@settings(max_examples=60, deadline=None)
@given(t=instants, o_start=st.integers(0, 72), o_hours=st.integers(1, 48))
def test_overrides_always_win(t, o_start, o_hours):
    begin = t + timedelta(hours=o_start)
    override = Override("zed", begin, begin + timedelta(hours=o_hours))
    sched = Schedule(
        "Europe/Berlin",
        (Layer("l", ("ann", "bob"), BASE, 86400), Layer("top", ("cy",), BASE, 3600 * 8)),
        (override,),
    )
    shifts = final_shifts(sched, t, t + timedelta(days=5))
    _disjoint_and_sorted(shifts)
    covered = [s for s in shifts if s.user == "zed"]
    total = sum((s.end - s.start for s in covered), timedelta())
    expected = min(override.end, t + timedelta(days=5)) - max(override.start, t)
    assert total == expected
    assert on_call_at(sched, begin) == "zed"


def test_higher_layer_wins_where_it_has_someone():
    tz = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 2, 0, 0, tzinfo=tz)
    base = Layer("base", ("ann",), start, 86400)
    nights = Layer(
        "nights",
        ("bob",),
        start,
        86400,
        restrictions=(Restriction("daily", time(18), timedelta(hours=14)),),
    )
    sched = Schedule("America/New_York", (base, nights))
    assert on_call_at(sched, datetime(2026, 3, 2, 12, tzinfo=tz)) == "ann"
    assert on_call_at(sched, datetime(2026, 3, 2, 20, tzinfo=tz)) == "bob"
    assert on_call_at(sched, datetime(2026, 3, 3, 7, 59, tzinfo=tz)) == "bob"
    assert on_call_at(sched, datetime(2026, 3, 3, 8, 0, tzinfo=tz)) == "ann"


def test_follow_the_sun_covers_the_day_without_gaps():
    utc = ZoneInfo("UTC")
    start = datetime(2026, 1, 5, tzinfo=utc)

    def shift(name, user, hour):
        return Layer(
            name,
            (user,),
            start,
            86400,
            restrictions=(Restriction("daily", time(hour), timedelta(hours=8)),),
        )

    sched = Schedule(
        "UTC", (shift("apac", "kim", 0), shift("emea", "lea", 8), shift("amer", "max", 16))
    )
    assert gaps(sched, start, start + timedelta(days=14)) == []
    assert {s.user for s in final_shifts(sched, start, start + timedelta(days=1))} == {
        "kim",
        "lea",
        "max",
    }


def test_virtual_start_before_layer_start_keeps_rotation_phase():
    tz = ZoneInfo("UTC")
    anchor = datetime(2026, 1, 1, tzinfo=tz)
    layer = Layer(
        "l", ("ann", "bob", "cy"), datetime(2026, 1, 4, tzinfo=tz), 86400, virtual_start=anchor
    )
    sched = Schedule("UTC", (layer,))
    assert on_call_at(sched, datetime(2026, 1, 3, tzinfo=tz)) is None
    assert on_call_at(sched, datetime(2026, 1, 4, 1, tzinfo=tz)) == "ann"  # turn 3 -> ann
    assert on_call_at(sched, datetime(2026, 1, 5, 1, tzinfo=tz)) == "bob"


def test_invalid_layers_are_refused():
    with pytest.raises(ValueError):
        Layer("l", (), BASE, 3600)
    with pytest.raises(ValueError):
        Layer("l", ("a",), BASE, 0)
    with pytest.raises(ValueError):
        Restriction("daily", time(9), timedelta(hours=25))
    with pytest.raises(ValueError):
        Override("a", BASE, BASE)


@settings(max_examples=80, deadline=None)
@given(
    zone=st.sampled_from([*ZONES, "Europe/London", "America/Sao_Paulo"]),
    start_minute=st.integers(min_value=0, max_value=1439),
    minutes=st.integers(min_value=1, max_value=7 * 1440),
    weekly=st.booleans(),
    day=st.integers(min_value=1, max_value=7),
    t=instants,
    probe=st.integers(min_value=0, max_value=3 * 86400),
)
def test_point_lookup_agrees_with_the_shift_list(
    zone, start_minute, minutes, weekly, day, t, probe
):
    """on_call_at answers from the restriction windows directly; it must name exactly the
    person final_shifts has at that instant, on DST days and in repeated hours too."""
    if not weekly:
        minutes = min(minutes, 1440)
    restriction = Restriction(
        "weekly" if weekly else "daily",
        time(start_minute // 60, start_minute % 60),
        timedelta(minutes=minutes),
        day,
    )
    tz = ZoneInfo(zone)
    layer = Layer(
        "r",
        ("ann", "bob", "cy"),
        datetime(2025, 6, 1, 2, 30, tzinfo=tz),
        3600 * 5,
        restrictions=(restriction,),
    )
    sched = Schedule(zone, (Layer("base", ("dee",), BASE, 86400 * 7), layer))
    at = t + timedelta(seconds=probe)
    shifts = final_shifts(sched, t, t + timedelta(days=4))
    expected = next((s.user for s in shifts if s.start <= at < s.end), None)
    assert on_call_at(sched, at) == expected
