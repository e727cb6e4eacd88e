"""Properties of the pure schedule core: coverage, overrides, restrictions, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
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


# ---------------------------------------------------------------- turns on the wall clock
#
# The oracle below reads the zone only through zoneinfo's offsets and a minute-by-minute
# walk of the clock, never through the core's own conversion.


def _readings(instant, tz):
    return instant.astimezone(tz).replace(tzinfo=None)


def _oracle_instant(wall, tz):
    """The first instant whose clock reading is `wall` or later, found by walking the
    clock a minute at a time (handoffs here are whole minutes) from a point that reads
    more than an hour earlier: `wall` less the larger of the day before's and the day
    after's offsets, less an hour."""
    offsets = [
        datetime.combine(wall.date() + timedelta(days=d), time(12), tzinfo=tz).utcoffset()
        for d in (-1, 1)
    ]
    probe = wall.replace(tzinfo=UTC) - max(offsets) - timedelta(hours=1)
    while _readings(probe, tz) < wall:
        probe += timedelta(minutes=1)
    return probe


def _oracle_turns(anchor_wall, turn, tz, t1, t2):
    """(instant, k) of every turn that begins in (t1, t2), skipped turns left out."""
    k = (_readings(t1, tz) - anchor_wall) // turn - 2
    out = []
    while True:
        begins = _oracle_instant(anchor_wall + k * turn, tz)
        if begins >= t2:
            break
        if begins > t1:
            if out and out[-1][0] == begins:
                out.pop()  # the turn before got no time: the clock skipped it
            out.append((begins, k))
        k += 1
    return out


def _change(zone, year, forward):
    """The day of `year` on which the zone's clocks go forward (or back), found by
    comparing the offsets at noon of each two days."""
    tz = ZoneInfo(zone)
    days = [datetime(year, 1, 1, 12, tzinfo=tz) + timedelta(days=d) for d in range(366)]
    return next(
        b.date()
        for a, b in pairwise(days)
        if a.utcoffset() != b.utcoffset() and (b.utcoffset() > a.utcoffset()) == forward
    )


@settings(max_examples=80, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    year=st.integers(min_value=2025, max_value=2030),
    spring=st.booleans(),
    turn_minutes=st.sampled_from([60, 90, 120, 180, 240, 300, 360, 480, 720, 1080, 2160]),
    anchor_minute=st.integers(min_value=0, max_value=1439),
    n_users=st.integers(min_value=1, max_value=4),
)
def test_sub_day_turns_hand_off_on_the_wall_clock_across_each_change(
    zone, year, spring, turn_minutes, anchor_minute, n_users
):
    tz = ZoneInfo(zone)
    day = _change(zone, year, forward=spring)
    anchor_wall = datetime(year, 1, 1, anchor_minute // 60, anchor_minute % 60)
    layer = Layer(
        "l",
        USERS[:n_users],
        datetime(year - 1, 12, 1, tzinfo=UTC),
        turn_minutes * 60,
        virtual_start=anchor_wall.replace(tzinfo=tz),
    )
    sched = Schedule(zone, (layer,))
    t1 = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC) - timedelta(days=3)
    t2 = t1 + timedelta(days=6)
    shifts = layer_shifts(layer, zone, t1, t2)
    expected = _oracle_turns(anchor_wall, timedelta(minutes=turn_minutes), tz, t1, t2)
    assert [s.start for s in shifts[1:]] == [b for b, _ in expected]
    assert [s.user for s in shifts[1:]] == [USERS[k % n_users] for _, k in expected]
    _disjoint_and_sorted(shifts)
    assert gaps(sched, t1, t2) == []
    for s in shifts:
        assert on_call_at(sched, s.start) == s.user
        assert on_call_at(sched, s.end - timedelta(microseconds=1)) == s.user
    # Only the turns that hold the change (or begin at its jump) differ from the turn's
    # length, and by at most the change.
    turn = timedelta(minutes=turn_minutes)
    for s in shifts[1:-1]:
        if s.end - s.start != turn:
            before = (s.start - timedelta(microseconds=1)).astimezone(tz).utcoffset()
            assert before != s.end.astimezone(tz).utcoffset()
            assert abs(s.end - s.start - turn) <= timedelta(hours=1)


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(ZONES), year=st.integers(min_value=2025, max_value=2030))
def test_two_hour_rotation_hands_off_on_even_hours_all_year(zone, year):
    tz = ZoneInfo(zone)
    layer = Layer("l", ("ann", "bob", "cy"), datetime(year, 1, 1, tzinfo=tz), 7200)
    shifts = layer_shifts(layer, zone, layer.start, layer.start + timedelta(days=366))
    lengths = set()
    for s in shifts:
        local = s.start.astimezone(tz)
        just_before = (s.start - timedelta(microseconds=1)).astimezone(tz)
        on_even_hour = local.minute == 0 and local.hour % 2 == 0
        # The one exception: an even hour the clock skips hands off at the jump.
        at_jump_over_even_hour = local.hour - just_before.hour == 2 and just_before.hour % 2 == 1
        assert on_even_hour or at_jump_over_even_hour, local
        lengths.add(s.end - s.start)
    assert lengths == {timedelta(hours=1), timedelta(hours=2), timedelta(hours=3)}
    # Nobody is skipped: with turns longer than the change, the rotation keeps its order.
    users = [s.user for s in shifts]
    assert all(
        ("ann", "bob", "cy").index(b) == (("ann", "bob", "cy").index(a) + 1) % 3
        for a, b in pairwise(users)
    )


def _handoffs(zone, turn_hours, anchor, t1, t2, users=("ann", "bob")):
    layer = Layer("l", users, anchor, turn_hours * 3600)
    return [(s.start, s.user) for s in layer_shifts(layer, zone, t1, t2)]


def test_sydney_twelve_hour_rotation_keeps_eight_and_eight_across_both_changes():
    tz = ZoneInfo("Australia/Sydney")
    anchor = datetime(2026, 1, 1, 8, tzinfo=tz)
    for first_day in (datetime(2026, 10, 2, 8, tzinfo=tz), datetime(2026, 4, 3, 8, tzinfo=tz)):
        found = _handoffs("Australia/Sydney", 12, anchor, first_day, first_day + timedelta(days=4))
        assert [s.astimezone(tz).strftime("%H:%M") for s, _ in found] == ["08:00", "20:00"] * 4
        assert [u for _, u in found] == ["ann", "bob"] * 4
    # The turn that holds the change: 20:00 to 08:00 is 11 hours in October, 13 in April.
    for evening, hours in ((datetime(2026, 10, 3, 20), 11), (datetime(2026, 4, 4, 20), 13)):
        start = evening.replace(tzinfo=tz)
        found = _handoffs("Australia/Sydney", 12, anchor, start, start + timedelta(hours=14))
        assert found[1][0] - found[0][0] == timedelta(hours=hours)


def test_a_handoff_at_a_skipped_time_happens_at_the_jump():
    # New York skips 02:00-03:00 on 8 March 2026 (07:00 UTC).
    ny = ZoneInfo("America/New_York")
    anchor = datetime(2026, 1, 1, 2, 30, tzinfo=ny)  # 02:30 and 14:30
    found = _handoffs(
        "America/New_York",
        12,
        anchor,
        datetime(2026, 3, 7, 12, tzinfo=UTC),
        datetime(2026, 3, 9, 12, tzinfo=UTC),
    )
    assert [s for s, _ in found][1:] == [
        datetime(2026, 3, 7, 19, 30, tzinfo=UTC),  # 14:30 EST
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 02:30 does not exist: 03:00 EDT
        datetime(2026, 3, 8, 18, 30, tzinfo=UTC),  # 14:30 EDT
        datetime(2026, 3, 9, 6, 30, tzinfo=UTC),  # 02:30 EDT
    ]


def test_turns_of_an_hour_skip_the_skipped_hour_once():
    berlin = ZoneInfo("Europe/Berlin")  # skips 02:00-03:00 on 29 March 2026 (01:00 UTC)
    anchor = datetime(2026, 3, 29, 0, tzinfo=berlin)
    people = ("ann", "bob", "cy", "dee")
    found = _handoffs(
        "Europe/Berlin", 1, anchor, anchor, datetime(2026, 3, 29, 5, tzinfo=berlin), people
    )
    assert [(s.astimezone(berlin).hour, u) for s, u in found] == [
        (0, "ann"),
        (1, "bob"),
        # cy's turn, 02:00-03:00, never shows on the clock: cy is skipped this once.
        (3, "dee"),
        (4, "ann"),
    ]
    sched = Schedule("Europe/Berlin", (Layer("l", people, anchor, 3600),))
    assert on_call_at(sched, datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "bob"
    assert on_call_at(sched, datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "dee"


def test_a_handoff_at_a_repeated_time_happens_the_first_time():
    # New York shows 01:00-02:00 twice on 1 November 2026: EDT until 06:00 UTC, then EST.
    ny = ZoneInfo("America/New_York")
    anchor = datetime(2026, 11, 1, 0, 30, tzinfo=ny)
    found = _handoffs(
        "America/New_York",
        1,
        anchor,
        anchor,
        datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
        ("ann", "bob", "cy"),
    )
    assert found == [
        (datetime(2026, 11, 1, 4, 30, tzinfo=UTC), "ann"),  # 00:30 EDT
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "bob"),  # the first 01:30 (EDT)
        # nothing at the second 01:30 (06:30 UTC): bob's turn lasts two hours
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), "cy"),  # 02:30 EST
    ]
    # Berlin goes back from 03:00 to 02:00 on 25 October 2026: 02:00 is first at 00:00 UTC.
    berlin = ZoneInfo("Europe/Berlin")
    found = _handoffs(
        "Europe/Berlin",
        2,
        datetime(2026, 10, 24, 0, tzinfo=berlin),
        datetime(2026, 10, 24, 23, tzinfo=UTC),
        datetime(2026, 10, 25, 4, tzinfo=UTC),
    )
    assert [s for s, _ in found][1:] == [
        datetime(2026, 10, 25, 0, 0, tzinfo=UTC),  # 02:00 CEST
        datetime(2026, 10, 25, 3, 0, tzinfo=UTC),  # 04:00 CET, three hours later
    ]


def _windows_on(day, opens, length):
    """The windows of a daily restriction on `day` in New York, as UTC (hour, minute)s."""
    ny = ZoneInfo("America/New_York")
    restriction = Restriction("daily", opens, length)
    layer = Layer("w", ("ann",), BASE, 86400, restrictions=(restriction,))
    start = datetime.combine(day, time(0), tzinfo=ny)
    shifts = final_shifts(Schedule("America/New_York", (layer,)), start, start + timedelta(days=1))
    return [((s.start.hour, s.start.minute), (s.end.hour, s.end.minute)) for s in shifts]


def test_restriction_windows_follow_the_same_two_rules():
    # A window from 02:30 to 04:00 opens at the jump on the day 02:30 is skipped (07:00
    # UTC) and closes at 04:00 EDT.
    assert _windows_on(date(2026, 3, 8), time(2, 30), timedelta(minutes=90)) == [((7, 0), (8, 0))]
    # One from 01:15 for an hour opens the first time the clock shows 01:15 (EDT) and
    # closes when it shows 02:15 (EST): two hours that night.
    assert _windows_on(date(2026, 11, 1), time(1, 15), timedelta(hours=1)) == [((5, 15), (7, 15))]


def test_a_rotation_written_at_a_skipped_time_keeps_its_time_of_day():
    ny = ZoneInfo("America/New_York")
    layer = Layer(
        "l",
        ("ann", "bob"),
        datetime(2026, 3, 8, 7, tzinfo=UTC),
        86400,
        rotation_wall=datetime(2026, 3, 8, 2, 30),
    )
    found = _handoffs_of(layer, "America/New_York", layer.start, layer.start + timedelta(days=2))
    assert [s.astimezone(ny).strftime("%d %H:%M") for s in found] == [
        "08 03:00",  # 02:30 is skipped that day
        "09 02:30",
        "10 02:30",
    ]
    with pytest.raises(ValueError):
        Layer("l", ("a",), BASE, 3600, rotation_wall=BASE)


def _handoffs_of(layer, zone, t1, t2):
    return [s.start for s in layer_shifts(layer, zone, t1, t2)]
