"""When to reach a paged user on which contact method: their notification rules as a plan.

Pure: the rules, the urgency, the instant the user is paged and their time zone in,
a list of (contact method, send at) out. Instants are aware UTC; the user's zone is
used only to read working hours, so a low-urgency page that waits for the morning
waits for the user's morning, across daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MAX_DELAY_MINUTES = 1440


class Urgency(StrEnum):
    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class Rule:
    """Notify by `contact_method` (a label) `delay_minutes` after being paged (fractions
    of a minute allowed, as for escalation delays)."""

    contact_method: str
    delay_minutes: float

    def __post_init__(self) -> None:
        if not 0 <= self.delay_minutes <= MAX_DELAY_MINUTES:
            raise ValueError(f"delay must be 0-{MAX_DELAY_MINUTES} minutes")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """A daily window [start, end) on some ISO weekdays (1 = Monday … 7 = Sunday)."""

    start: time = time(9, 0)
    end: time = time(18, 0)
    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("working hours must end after they start, on the same day")
        if not self.days or not self.days <= set(range(1, 8)):
            raise ValueError("working days are ISO weekdays 1 (Monday) to 7 (Sunday)")


@dataclass(frozen=True, slots=True)
class Rules:
    """A user's notification rules for both urgencies."""

    high: tuple[Rule, ...] = ()
    low: tuple[Rule, ...] = ()
    low_urgency_working_hours_only: bool = False
    working_hours: WorkingHours = field(default_factory=WorkingHours)

    def for_urgency(self, urgency: Urgency) -> tuple[Rule, ...]:
        return self.high if urgency == Urgency.HIGH else self.low


@dataclass(frozen=True, slots=True)
class Planned:
    contact_method: str
    send_at: datetime


def plan(rules: Rules, urgency: Urgency, paged_at: datetime, zone: ZoneInfo) -> list[Planned]:
    """The notifications to send, earliest first (ties keep the rules' order).

    A low-urgency page for a user who wants those only in working hours counts its
    delays from the next moment inside working hours (now, if it is one).
    """
    if paged_at.tzinfo is None:
        raise ValueError("paged_at must be an aware datetime")
    start = paged_at.astimezone(UTC)
    if urgency == Urgency.LOW and rules.low_urgency_working_hours_only:
        start = next_working_instant(rules.working_hours, start, zone)
    planned = [
        Planned(r.contact_method, start + timedelta(minutes=r.delay_minutes))
        for r in rules.for_urgency(urgency)
    ]
    return sorted(planned, key=lambda p: p.send_at)


def next_working_instant(hours: WorkingHours, at: datetime, zone: ZoneInfo) -> datetime:
    """`at` if it falls inside working hours in `zone`, else when they next begin (UTC)."""
    local = at.astimezone(zone)
    if local.isoweekday() in hours.days and hours.start <= local.time() < hours.end:
        return at.astimezone(UTC)
    day = local.date()
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.isoweekday() not in hours.days:
            continue
        begins = _local_instant(candidate_day, hours.start, zone)
        if begins > at:
            return begins
    raise AssertionError("a week always holds a working day")  # days is never empty


def _local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day; a time skipped by a DST
    gap resolves to the same distance past the gap (fold=0), as clocks would read."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
