"""On-call load: hours (union, clipped), pages in sleep and working hours read in each
person's zone across DST, nights named by their evening, time to acknowledge by episode,
limits scaled to the period, team sums."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.notification_plan import WorkingHours
from watchbill.core.oncall_load import (
    HOURS_ON_CALL,
    NIGHTS_INTERRUPTED,
    SLEEP_HOURS,
    SLEEP_PAGES,
    Acknowledgement,
    DailyWindow,
    Excess,
    Limits,
    Page,
    Person,
    loads,
    on_call_seconds,
    parse_window,
    response_times,
    team_load,
)

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC", "Asia/Kolkata")
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def night(t: datetime, zone: str) -> date | None:
    return SLEEP_HOURS.night_of(t.astimezone(ZoneInfo(zone)))


# ------------------------------------------------------------------ sleep hours and DST


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        # Berlin springs forward on 2026-03-29 at 02:00: 07:00 is 05:00Z, not 06:00Z.
        (utc(2026, 3, 29, 4, 59), "Europe/Berlin", date(2026, 3, 28)),
        (utc(2026, 3, 29, 5, 0), "Europe/Berlin", None),
        (utc(2026, 3, 28, 20, 59), "Europe/Berlin", None),
        (utc(2026, 3, 28, 21, 0), "Europe/Berlin", date(2026, 3, 28)),
        # New York falls back on 2026-11-01: 07:00 EST is 12:00Z; 01:30 happens twice.
        (utc(2026, 11, 1, 11, 30), "America/New_York", date(2026, 10, 31)),
        (utc(2026, 11, 1, 5, 30), "America/New_York", date(2026, 10, 31)),
        (utc(2026, 11, 1, 6, 30), "America/New_York", date(2026, 10, 31)),
        (utc(2026, 11, 1, 12, 0), "America/New_York", None),
        # Sydney leaves summer time on 2026-04-05: 07:00 AEST is 21:00Z the day before.
        (utc(2026, 4, 5, 20, 30), "Australia/Sydney", date(2026, 4, 5)),
        (utc(2026, 4, 5, 21, 0), "Australia/Sydney", None),
        # ... and enters it on 2026-10-04: 22:00 AEST on the 3rd is 12:00Z.
        (utc(2026, 10, 3, 12, 0), "Australia/Sydney", date(2026, 10, 3)),
        (utc(2026, 10, 3, 19, 59), "Australia/Sydney", date(2026, 10, 3)),
        (utc(2026, 10, 3, 20, 0), "Australia/Sydney", None),  # 07:00 AEDT
    ],
)
def test_sleep_hours_are_read_on_the_persons_own_clock_across_dst(
    instant: datetime, zone: str, expected: date | None
) -> None:
    assert night(instant, zone) == expected


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(ZONES),
)
def test_a_sleep_hour_page_lies_between_that_nights_22_00_and_the_next_mornings_07_00(
    instant: datetime, zone: str
) -> None:
    """Against an independent oracle: the night's bounds as instants, by zoneinfo."""
    tz = ZoneInfo(zone)
    found = night(instant, zone)
    local_day = instant.astimezone(tz).date()
    inside = [
        d
        for d in (local_day - timedelta(days=1), local_day)
        if datetime.combine(d, time(22), tzinfo=tz)
        <= instant
        < datetime.combine(d + timedelta(days=1), time(7), tzinfo=tz)
    ]
    assert found == (inside[0] if inside else None)


def test_a_window_inside_one_day_and_parsing() -> None:
    afternoon = parse_window("13:00-14:30")
    assert not afternoon.wraps and str(afternoon) == "13:00-14:30"
    assert afternoon.night_of(datetime(2026, 3, 2, 14, 29)) == date(2026, 3, 2)
    assert afternoon.night_of(datetime(2026, 3, 2, 14, 30)) is None
    assert parse_window(" 22:00-07:00 ") == SLEEP_HOURS
    for bad in ("22-07", "24:00-07:00", "22:00", "07:00-07:00"):
        with pytest.raises(ValueError):
            parse_window(bad)


# ------------------------------------------------------------------------ hours on call


def test_hours_are_the_union_clipped_to_the_period() -> None:
    shifts = [
        (utc(2026, 3, 1, 0), utc(2026, 3, 3, 0)),  # starts before the period
        (utc(2026, 3, 2, 12), utc(2026, 3, 4, 0)),  # overlaps the first (another schedule)
        (utc(2026, 3, 6, 0), utc(2026, 3, 6, 1)),
        (utc(2026, 3, 9, 0), utc(2026, 3, 10, 0)),  # after the period
    ]
    seconds = on_call_seconds(shifts, utc(2026, 3, 2, 0), utc(2026, 3, 9, 0))
    assert seconds == (48 + 1) * 3600


minutes = st.integers(min_value=0, max_value=600)


@given(st.lists(st.tuples(minutes, minutes), max_size=12), minutes, minutes)
def test_hours_match_counting_minutes_and_never_exceed_the_period(
    raw: list[tuple[int, int]], a: int, b: int
) -> None:
    start, end = min(a, b), max(a, b) + 1
    shifts = [(min(x, y), max(x, y) + 1) for x, y in raw]
    covered = {m for s, e in shifts for m in range(s, e) if start <= m < end}
    at = [(START + timedelta(minutes=s), START + timedelta(minutes=e)) for s, e in shifts]
    seconds = on_call_seconds(at, START + timedelta(minutes=start), START + timedelta(minutes=end))
    assert seconds == len(covered) * 60
    assert seconds <= (end - start) * 60


# ------------------------------------------------------------------- a person's figures


def test_figures_of_one_person_in_new_york() -> None:
    ada = Person("ada", "America/New_York")
    pages = [
        Page("ada", 1, utc(2026, 3, 2, 15, 0)),  # Mon 10:00: working hours
        Page("ada", 2, utc(2026, 3, 2, 23, 30)),  # Mon 18:30: off hours, awake
        Page("ada", 3, utc(2026, 3, 3, 4, 0)),  # Mon night 23:00
        Page("ada", 4, utc(2026, 3, 3, 9, 0)),  # Tue 04:00, the same night
        Page("ada", 5, utc(2026, 3, 7, 15, 0)),  # Sat 10:00: off hours (weekend)
        Page("ada", 6, utc(2026, 3, 9, 15, 0)),  # after the period
        Page("bob", 7, utc(2026, 3, 3, 4, 0)),  # someone else
    ]
    [load] = loads(
        [ada],
        [("ada", utc(2026, 3, 2, 14), utc(2026, 3, 3, 14)), ("bob", START, END)],
        pages,
        [Acknowledgement(3, utc(2026, 3, 3, 4, 2), "ada")],
        start=utc(2026, 3, 2, 5),
        end=utc(2026, 3, 9, 5),
        weekly_limits=Limits(),
    )
    assert (load.hours_on_call, load.pages, load.sleep_pages) == (24.0, 5, 2)
    assert (load.off_hours_pages, load.nights_interrupted) == (4, 1)
    assert (load.timed_acknowledgements, load.mtta_seconds, load.warnings) == (1, 120.0, ())


def test_working_hours_are_the_persons_own() -> None:
    night_owl = Person("owl", "Europe/Berlin", WorkingHours(time(20), time(23, 59), frozenset({6})))
    [load] = loads(
        [night_owl],
        [],
        [Page("owl", 1, utc(2026, 3, 7, 21)), Page("owl", 2, utc(2026, 3, 2, 9))],
        [],
        start=utc(2026, 3, 2),
        end=utc(2026, 3, 9),
        weekly_limits=Limits(),
    )
    assert (load.pages, load.off_hours_pages, load.sleep_pages) == (2, 1, 1)


page_times = st.lists(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    max_size=40,
)


@given(page_times, st.sampled_from(ZONES))
def test_nights_sleep_pages_and_pages_are_ordered(times: list[datetime], zone: str) -> None:
    [load] = loads(
        [Person("ada", zone)],
        [],
        [Page("ada", i, t) for i, t in enumerate(times)],
        [],
        start=START,
        end=END,
        weekly_limits=Limits(),
    )
    assert load.nights_interrupted <= load.sleep_pages <= load.pages == len(times)
    # the default working hours (09:00-18:00) and sleep hours never meet
    assert load.sleep_pages <= load.off_hours_pages <= load.pages


# ---------------------------------------------------------------- time to acknowledge


def test_an_acknowledgement_answers_the_first_page_of_its_episode() -> None:
    pages = [
        Page("ada", 1, utc(2026, 3, 2, 10, 0)),
        Page("ada", 1, utc(2026, 3, 2, 10, 5)),  # a repeat: the first page still counts
        Page("bob", 1, utc(2026, 3, 2, 10, 10)),
        Page("ada", 1, utc(2026, 3, 2, 12, 0)),  # after a re-trigger: a new episode
        Page("ada", 2, utc(2026, 3, 2, 13, 0)),
    ]
    acks = [
        Acknowledgement(1, utc(2026, 3, 2, 10, 12), "ada"),
        Acknowledgement(1, utc(2026, 3, 2, 12, 1), "ada"),
        Acknowledgement(2, utc(2026, 3, 2, 12, 59), "ada"),  # before any page: not timed
        Acknowledgement(3, utc(2026, 3, 2, 14, 0), None),  # nobody to name
    ]
    found = response_times(pages, acks, utc(2026, 3, 2), utc(2026, 3, 3))
    assert dict(found) == {"ada": [720.0, 60.0]}


def test_an_acknowledgement_by_someone_else_closes_the_episode() -> None:
    pages = [Page("ada", 1, utc(2026, 3, 2, 10, 0)), Page("ada", 1, utc(2026, 3, 2, 11, 0))]
    acks = [
        Acknowledgement(1, utc(2026, 3, 2, 10, 30), None),
        Acknowledgement(1, utc(2026, 3, 2, 11, 3), "ada"),
    ]
    found = response_times(pages, acks, utc(2026, 3, 2), utc(2026, 3, 3))
    assert dict(found) == {"ada": [180.0]}


def test_pages_before_the_period_still_time_acknowledgements_inside_it() -> None:
    pages = [Page("ada", 1, utc(2026, 3, 1, 23, 58))]
    acks = [Acknowledgement(1, utc(2026, 3, 2, 0, 1), "ada")]
    assert dict(response_times(pages, acks, utc(2026, 3, 2), utc(2026, 3, 3))) == {"ada": [180.0]}
    assert dict(response_times(pages, acks, utc(2026, 3, 1), utc(2026, 3, 2))) == {}


# ------------------------------------------------------------------------------ limits


def test_limits_scale_to_the_period_but_never_below_one_week() -> None:
    weekly = Limits(hours_on_call=42, sleep_pages=3, nights_interrupted=2)
    four_weeks = weekly.for_period(utc(2026, 3, 2), utc(2026, 3, 30))
    assert four_weeks == Limits(168, 12, 8)
    assert weekly.for_period(utc(2026, 3, 2), utc(2026, 3, 3)) == weekly


def test_warnings_name_each_figure_over_its_limit() -> None:
    sleepy = [Page("ada", i, utc(2026, 3, 2 + i, 2)) for i in range(3)]  # 3 nights, UTC
    args = {"start": utc(2026, 3, 2), "end": utc(2026, 3, 9)}
    [load] = loads(
        [Person("ada")],
        [("ada", utc(2026, 3, 2), utc(2026, 3, 4, 0, 30))],  # 48.5 hours
        sleepy,
        [],
        weekly_limits=Limits(hours_on_call=48, sleep_pages=3, nights_interrupted=2),
        **args,
    )
    assert load.warnings == (Excess(HOURS_ON_CALL, 48.5, 48), Excess(NIGHTS_INTERRUPTED, 3, 2))
    [relaxed] = loads([Person("ada")], [], sleepy, [], weekly_limits=Limits(sleep_pages=2), **args)
    assert relaxed.warnings == (Excess(SLEEP_PAGES, 3, 2),)
    [unlimited] = loads([Person("ada")], [], sleepy, [], weekly_limits=Limits(), **args)
    assert unlimited.warnings == ()


@given(st.floats(min_value=0, max_value=200), st.integers(min_value=1, max_value=60))
def test_a_warning_exactly_when_over_the_scaled_limit(per_week: float, days: int) -> None:
    end = utc(2026, 3, 2) + timedelta(days=days)
    [load] = loads(
        [Person("ada")],
        [("ada", utc(2026, 3, 2), end)],
        [],
        [],
        start=utc(2026, 3, 2),
        end=end,
        weekly_limits=Limits(hours_on_call=per_week),
    )
    limit = per_week * max(days / 7, 1)
    assert bool(load.warnings) == (per_week > 0 and days * 24 > limit)


def test_the_period_must_not_be_empty() -> None:
    with pytest.raises(ValueError):
        loads([], [], [], [], start=END, end=END, weekly_limits=Limits())


# ------------------------------------------------------------------------------- teams


def test_team_figures_sum_members_and_weigh_the_mean_by_acknowledgements() -> None:
    pages = [
        Page("ada", 1, utc(2026, 3, 2, 10)),
        Page("ada", 2, utc(2026, 3, 2, 11)),
        Page("bob", 3, utc(2026, 3, 3, 2)),
    ]
    acks = [
        Acknowledgement(1, utc(2026, 3, 2, 10, 1), "ada"),
        Acknowledgement(2, utc(2026, 3, 2, 11, 3), "ada"),
        Acknowledgement(3, utc(2026, 3, 3, 2, 10), "bob"),
    ]
    found = loads(
        [Person("ada"), Person("bob")],
        [("ada", utc(2026, 3, 2), utc(2026, 3, 3)), ("bob", utc(2026, 3, 3), utc(2026, 3, 4))],
        pages,
        acks,
        start=utc(2026, 3, 2),
        end=utc(2026, 3, 9),
        weekly_limits=Limits(hours_on_call=24, nights_interrupted=0.5),
    )
    team = team_load("sre", ["bob", "ada", "cleo"], {load.user: load for load in found})
    assert (team.members, team.hours_on_call, team.pages, team.sleep_pages) == (3, 48.0, 3, 1)
    assert (team.nights_interrupted, team.timed_acknowledgements) == (1, 3)
    assert team.mtta_seconds == pytest.approx((60 + 180 + 600) / 3)
    assert team.members_with_warnings == 1  # bob's night
    empty = team_load("quiet", ["cleo"], {})
    assert (empty.members, empty.pages, empty.mtta_seconds) == (1, 0, None)


def test_a_window_may_not_be_empty() -> None:
    with pytest.raises(ValueError):
        DailyWindow(time(7), time(7))
