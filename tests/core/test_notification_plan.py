"""Notification plans: delays per urgency and low urgency waiting for working hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchbill.core.notification_plan import (
    Planned,
    Rule,
    Rules,
    Urgency,
    WorkingHours,
    next_working_instant,
    plan,
)

UTCZ = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")

RULES = Rules(
    high=(Rule("sms", 5), Rule("push", 0), Rule("mail", 1)),
    low=(Rule("mail", 0), Rule("sms", 30)),
    low_urgency_working_hours_only=True,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_high_urgency_follows_the_delays_earliest_first() -> None:
    at = utc(2026, 3, 7, 3, 0)  # a Saturday night: high urgency never waits
    assert plan(RULES, Urgency.HIGH, at, NEW_YORK) == [
        Planned("push", at),
        Planned("mail", at + timedelta(minutes=1)),
        Planned("sms", at + timedelta(minutes=5)),
    ]


def test_delays_may_be_fractions_of_a_minute() -> None:
    at = utc(2026, 3, 7, 3, 0)
    rules = Rules(high=(Rule("mail", 0.1), Rule("hook", 0)))
    assert plan(rules, Urgency.HIGH, at, NEW_YORK) == [
        Planned("hook", at),
        Planned("mail", at + timedelta(seconds=6)),
    ]


def test_low_urgency_inside_working_hours_goes_now() -> None:
    at = utc(2026, 3, 2, 15, 0)  # Monday 10:00 in New York
    assert plan(RULES, Urgency.LOW, at, NEW_YORK) == [
        Planned("mail", at),
        Planned("sms", at + timedelta(minutes=30)),
    ]


def test_low_urgency_without_the_flag_goes_now_even_at_night() -> None:
    rules = Rules(low=(Rule("mail", 2),))
    at = utc(2026, 3, 7, 3, 0)
    assert plan(rules, Urgency.LOW, at, NEW_YORK) == [Planned("mail", at + timedelta(minutes=2))]


def test_friday_night_waits_for_monday_morning_across_the_dst_change() -> None:
    # Friday 23:30 EST; clocks spring forward on Sunday 8 March 2026, so Monday 09:00
    # is EDT (UTC-4): 13:00 UTC, not the 14:00 a fixed offset would give.
    at = utc(2026, 3, 7, 4, 30)
    assert plan(RULES, Urgency.LOW, at, NEW_YORK) == [
        Planned("mail", utc(2026, 3, 9, 13, 0)),
        Planned("sms", utc(2026, 3, 9, 13, 30)),
    ]


def test_same_day_before_start_and_after_end_in_other_zones() -> None:
    # Berlin, Monday 30 March 2026 (CEST, UTC+2) 08:00 local -> 09:00 local.
    assert next_working_instant(WorkingHours(), utc(2026, 3, 30, 6, 0), BERLIN) == utc(
        2026, 3, 30, 7, 0
    )
    # Tokyo (no DST), Monday 19:00 local -> Tuesday 09:00 local = 00:00 UTC.
    assert next_working_instant(WorkingHours(), utc(2026, 3, 2, 10, 0), TOKYO) == utc(
        2026, 3, 3, 0, 0
    )
    # The end is exclusive: 18:00 sharp is outside.
    assert next_working_instant(WorkingHours(), utc(2026, 3, 2, 18, 0), UTCZ) == utc(
        2026, 3, 3, 9, 0
    )


def test_weekend_only_hours_and_a_week_wrap() -> None:
    weekend = WorkingHours(time(10, 0), time(12, 0), frozenset({6, 7}))
    # Sunday 12:30 UTC: next is Saturday of the following week.
    assert next_working_instant(weekend, utc(2026, 3, 8, 12, 30), UTCZ) == utc(2026, 3, 14, 10, 0)
    # A single working day, already past today: exactly a week later.
    mondays = WorkingHours(time(9, 0), time(10, 0), frozenset({1}))
    assert next_working_instant(mondays, utc(2026, 3, 2, 11, 0), UTCZ) == utc(2026, 3, 9, 9, 0)


def test_refuses_bad_rules_and_naive_times() -> None:
    with pytest.raises(ValueError, match="delay"):
        Rule("mail", 1441)
    with pytest.raises(ValueError, match="delay"):
        Rule("mail", -1)
    with pytest.raises(ValueError, match="end after"):
        WorkingHours(time(18, 0), time(9, 0))
    with pytest.raises(ValueError, match="weekdays"):
        WorkingHours(days=frozenset({0}))
    with pytest.raises(ValueError, match="aware"):
        plan(RULES, Urgency.HIGH, datetime(2026, 3, 2, 9, 0), UTCZ)


ZONES = st.sampled_from(
    [NEW_YORK, BERLIN, TOKYO, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Asia/Kolkata")]
)
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
DAYS = st.frozensets(st.integers(1, 7), min_size=1)


@given(at=INSTANTS, zone=ZONES, days=DAYS, start=st.integers(0, 22))
def test_the_next_working_instant_is_inside_hours_and_none_is_skipped(
    at: datetime, zone: ZoneInfo, days: frozenset[int], start: int
) -> None:
    hours = WorkingHours(time(start, 0), time(start + 1, 30), days)
    found = next_working_instant(hours, at, zone)
    local = found.astimezone(zone)
    assert found >= at
    assert local.isoweekday() in days
    assert hours.start <= local.time() < hours.end
    # Nothing earlier qualifies: step back through the gap in 15-minute strides.
    probe = found - timedelta(minutes=15)
    while probe > at:
        back = probe.astimezone(zone)
        assert not (back.isoweekday() in days and hours.start <= back.time() < hours.end)
        probe -= timedelta(minutes=15)
