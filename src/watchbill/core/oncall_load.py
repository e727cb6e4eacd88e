"""On-call load: what being on call cost each person over a period, for compensation and
burnout review.

Pure: shifts, pages and acknowledgements in, figures per person and team out. Instants
are aware datetimes and a period is half-open, [start, end). Sleep and working hours are
wall-clock windows read in each person's own time zone, so "03:00" means 03:00 where
they sleep, whatever daylight saving did that night.

Definitions (docs/oncall.md repeats them for readers):

- hours on call: the union of a person's shifts, clipped to the period, so being on two
  schedules at once counts once;
- a page: one escalation step reaching one person about one incident (all its channels
  count once), at the moment its first notification was sent;
- sleep-hour page: a page inside the sleep window (22:00-07:00 by default);
- off-hours interruption: a page outside the person's working hours;
- night interrupted: a night with at least one sleep-hour page; a night is named by the
  date on which its sleep window opened (02:00 on Tuesday belongs to Monday night);
- time to acknowledge: from the first page the person got about an incident since it was
  last acknowledged, to their acknowledgement; acknowledgements that answered no page of
  theirs are not timed.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from watchbill.core.notification_plan import WorkingHours

WEEK = timedelta(days=7)
HOURS_ON_CALL = "hoursOnCall"
SLEEP_PAGES = "sleepPages"
NIGHTS_INTERRUPTED = "nightsInterrupted"
_WINDOW = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """A wall-clock window every day, [start, end); it runs past midnight when end < start."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("a daily window must not start and end at the same time")

    @property
    def wraps(self) -> bool:
        return self.end < self.start

    def night_of(self, local: datetime) -> date | None:
        """The date on which the window holding the wall-clock time `local` opened, or None
        when `local` is outside the window."""
        t = local.time()
        if not self.wraps:
            return local.date() if self.start <= t < self.end else None
        if t >= self.start:
            return local.date()
        if t < self.end:
            return local.date() - timedelta(days=1)
        return None

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


SLEEP_HOURS = DailyWindow(time(22, 0), time(7, 0))


def parse_window(text: str) -> DailyWindow:
    """`HH:MM-HH:MM` as a daily window; ValueError naming the expected form."""
    found = _WINDOW.match(text.strip())
    if found is None:
        raise ValueError("write the window as HH:MM-HH:MM, e.g. 22:00-07:00")
    h1, m1, h2, m2 = (int(part) for part in found.groups())
    return DailyWindow(time(h1, m1), time(h2, m2))


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    time_zone: str = "UTC"
    working_hours: WorkingHours = field(default_factory=WorkingHours)


@dataclass(frozen=True, slots=True)
class Page:
    user: str
    incident: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """An incident acknowledged at `at`; `user` is None when no person can be named (the
    local command line, a token of nobody's). Those still close the incident's episode."""

    incident: int
    at: datetime
    user: str | None


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-week limits; 0 means no limit."""

    hours_on_call: float = 0.0
    sleep_pages: float = 0.0
    nights_interrupted: float = 0.0

    def for_period(self, start: datetime, end: datetime) -> Limits:
        """The limits scaled to the period's length in weeks. A period shorter than a week
        is held to one week's limits: a weekly limit says nothing about a single night."""
        weeks = max((end - start) / WEEK, 1.0)
        return Limits(
            hours_on_call=self.hours_on_call * weeks,
            sleep_pages=self.sleep_pages * weeks,
            nights_interrupted=self.nights_interrupted * weeks,
        )


@dataclass(frozen=True, slots=True)
class Excess:
    """A figure over its limit for the period."""

    figure: str
    value: float
    limit: float


@dataclass(frozen=True, slots=True)
class Load:
    user: str
    hours_on_call: float
    pages: int
    sleep_pages: int
    off_hours_pages: int
    nights_interrupted: int
    timed_acknowledgements: int
    mtta_seconds: float | None
    warnings: tuple[Excess, ...]


@dataclass(frozen=True, slots=True)
class TeamLoad:
    team: str
    members: int
    hours_on_call: float
    pages: int
    sleep_pages: int
    off_hours_pages: int
    nights_interrupted: int
    timed_acknowledgements: int
    mtta_seconds: float | None
    members_with_warnings: int


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def on_call_seconds(
    intervals: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime
) -> float:
    """The length of the union of `intervals` inside [start, end), in seconds."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if a < end and b > start)
    total = 0.0
    reach: datetime | None = None
    for a, b in clipped:
        if reach is None or a > reach:
            total += (b - a).total_seconds()
            reach = b
        elif b > reach:
            total += (b - reach).total_seconds()
            reach = b
    return total


def in_working_hours(hours: WorkingHours, local: datetime) -> bool:
    """Whether the wall-clock time `local` is inside working hours."""
    return local.isoweekday() in hours.days and hours.start <= local.time() < hours.end


def response_times(
    pages: Iterable[Page], acks: Iterable[Acknowledgement], start: datetime, end: datetime
) -> dict[str, list[float]]:
    """Seconds to acknowledge, per person, for their acknowledgements inside [start, end).

    An acknowledgement answers the person's first page about the incident after the
    incident's previous acknowledgement (by anyone): a re-triggered incident starts a new
    episode. Pages and acknowledgements before `start` are used only to find episodes.
    """
    by_incident: dict[int, list[Page]] = defaultdict(list)
    for page in pages:
        by_incident[page.incident].append(page)
    acks_by_incident: dict[int, list[Acknowledgement]] = defaultdict(list)
    for ack in acks:
        acks_by_incident[ack.incident].append(ack)
    found: dict[str, list[float]] = defaultdict(list)
    for incident, incident_acks in acks_by_incident.items():
        incident_pages = sorted(by_incident.get(incident, ()), key=lambda p: p.at)
        previous: datetime | None = None
        for ack in sorted(incident_acks, key=lambda a: a.at):
            if ack.user is not None and start <= ack.at < end:
                first = next(
                    (
                        p
                        for p in incident_pages
                        if p.user == ack.user
                        and (previous is None or p.at > previous)
                        and p.at <= ack.at
                    ),
                    None,
                )
                if first is not None:
                    found[ack.user].append((ack.at - first.at).total_seconds())
            previous = ack.at
    return found


def _warnings(load: Load, limits: Limits) -> tuple[Excess, ...]:
    checks = (
        (HOURS_ON_CALL, load.hours_on_call, limits.hours_on_call),
        (SLEEP_PAGES, float(load.sleep_pages), limits.sleep_pages),
        (NIGHTS_INTERRUPTED, float(load.nights_interrupted), limits.nights_interrupted),
    )
    return tuple(Excess(f, value, limit) for f, value, limit in checks if 0 < limit < value)


def person_load(
    person: Person,
    shifts: Iterable[tuple[datetime, datetime]],
    pages: Iterable[Page],
    responses: Sequence[float],
    *,
    start: datetime,
    end: datetime,
    limits: Limits,
    sleep: DailyWindow = SLEEP_HOURS,
) -> Load:
    """One person's figures over [start, end); `limits` are already scaled to the period."""
    zone = _zone(person.time_zone)
    count = sleeping = off_hours = 0
    nights: set[date] = set()
    for page in pages:
        if not start <= page.at < end:
            continue
        local = page.at.astimezone(zone)
        count += 1
        night = sleep.night_of(local)
        if night is not None:
            sleeping += 1
            nights.add(night)
        if not in_working_hours(person.working_hours, local):
            off_hours += 1
    load = Load(
        user=person.name,
        hours_on_call=on_call_seconds(shifts, start, end) / 3600,
        pages=count,
        sleep_pages=sleeping,
        off_hours_pages=off_hours,
        nights_interrupted=len(nights),
        timed_acknowledgements=len(responses),
        mtta_seconds=sum(responses) / len(responses) if responses else None,
        warnings=(),
    )
    return dataclasses.replace(load, warnings=_warnings(load, limits))


def loads(
    people: Iterable[Person],
    shifts: Iterable[tuple[str, datetime, datetime]],
    pages: Iterable[Page],
    acks: Iterable[Acknowledgement],
    *,
    start: datetime,
    end: datetime,
    weekly_limits: Limits,
    sleep: DailyWindow = SLEEP_HOURS,
) -> list[Load]:
    """The figures of each of `people` over [start, end), by name. Shifts, pages and
    acknowledgements of anyone else are ignored."""
    if end <= start:
        raise ValueError("the period must end after it starts")
    shifts_of: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for user, a, b in shifts:
        shifts_of[user].append((a, b))
    page_list = list(pages)
    pages_of: dict[str, list[Page]] = defaultdict(list)
    for page in page_list:
        pages_of[page.user].append(page)
    responses = response_times(page_list, acks, start, end)
    limits = weekly_limits.for_period(start, end)
    return [
        person_load(
            p,
            shifts_of.get(p.name, ()),
            pages_of.get(p.name, ()),
            responses.get(p.name, ()),
            start=start,
            end=end,
            limits=limits,
            sleep=sleep,
        )
        for p in sorted(people, key=lambda p: p.name)
    ]


def team_load(team: str, members: Iterable[str], by_user: Mapping[str, Load]) -> TeamLoad:
    """A team's sums over its members' figures; the mean time to acknowledge is over all
    their timed acknowledgements (not a mean of means). Members without figures count as
    members with zeros."""
    names = sorted(set(members))
    found = [by_user[n] for n in names if n in by_user]
    timed = sum(m.timed_acknowledgements for m in found)
    waited = sum(
        m.mtta_seconds * m.timed_acknowledgements for m in found if m.mtta_seconds is not None
    )
    return TeamLoad(
        team=team,
        members=len(names),
        hours_on_call=sum(m.hours_on_call for m in found),
        pages=sum(m.pages for m in found),
        sleep_pages=sum(m.sleep_pages for m in found),
        off_hours_pages=sum(m.off_hours_pages for m in found),
        nights_interrupted=sum(m.nights_interrupted for m in found),
        timed_acknowledgements=timed,
        mtta_seconds=waited / timed if timed else None,
        members_with_warnings=sum(1 for m in found if m.warnings),
    )
