"""Who is on call: layered rotations with restrictions and overrides, in a time zone.

The model keeps PagerDuty's semantics so schedules import from PagerDuty, Opsgenie and
Grafana OnCall: a layer rotates its members in turns of any number of seconds, anchored
at a virtual start that may lie before the layer starts; restrictions limit a layer to
daily or weekly windows; higher layers win where they have someone; overrides win over
everything.

Time zones: people read handoffs as times on a clock ("08:00 and 20:00"), so every turn,
whatever its length, is counted on the wall clock of the schedule's zone: turn k begins
when the clock shows the rotation start plus k turns. A 12-hour rotation handing off at
08:00 and 20:00 does so all year, and a 2-hour rotation started on an even hour hands
off on even hours. The turn that spans a daylight-saving change is therefore as much
shorter or longer as the change (an hour, usually); there is never a gap or a double.
Restriction windows open and close on the same wall clock. Two rules settle the
wall-clock times a change makes odd; both say "a wall-clock time happens at the first
instant the clock reaches it":

- A time the clock skips (02:30, when clocks jump from 02:00 to 03:00) happens at the
  jump: that handoff, or that window's opening or closing, is at 03:00. When two
  handoffs fall in one skipped hour (turns of an hour), the turn between them gets no
  time: its member is skipped that once, and the rotation goes on in order.
- A time the clock shows twice (01:30, when clocks go back from 02:00 to 01:00) happens
  the first time the clock shows it. The turn that holds the repeated hour is an hour
  longer; nothing happens at the second 01:30.

GoAlert made the same choice for its hourly rotations. Everything here is pure: instants
are aware datetimes, intervals are half-open.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

OVERRIDE = "override"
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Restriction:
    """A window in which the layer is on duty: daily (every day from `start_time` for
    `duration`) or weekly (from ISO weekday `start_day`, 1 = Monday, at `start_time`)."""

    kind: str
    start_time: time
    duration: timedelta
    start_day: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("daily", "weekly"):
            raise ValueError("restriction kind is daily or weekly")
        if not 1 <= self.start_day <= 7:
            raise ValueError("start_day is an ISO weekday, 1 (Monday) to 7 (Sunday)")
        limit = timedelta(days=1 if self.kind == "daily" else 7)
        if not timedelta(0) < self.duration <= limit:
            raise ValueError(f"a {self.kind} restriction lasts more than 0 and at most {limit}")


@dataclass(frozen=True, slots=True)
class Layer:
    """One rotation. Turn 0 begins at `virtual_start` (default `start`); `rotation_wall`
    is that moment as written on the schedule's clock, for a rotation start given as a
    date and time of day: "02:30" on the day the clock skips 02:30 still means 02:30 on
    every other day (by default the clock's reading of `virtual_start`)."""

    name: str
    users: tuple[str, ...]
    start: datetime
    turn_seconds: int
    virtual_start: datetime | None = None
    end: datetime | None = None
    restrictions: tuple[Restriction, ...] = ()
    rotation_wall: datetime | None = None

    def __post_init__(self) -> None:
        if not self.users:
            raise ValueError(f"layer {self.name!r} has no members")
        if self.turn_seconds <= 0:
            raise ValueError("turn length must be positive")
        for instant in (self.start, self.virtual_start, self.end):
            if instant is not None and instant.tzinfo is None:
                raise ValueError("schedule instants must be aware datetimes")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"layer {self.name!r} ends before it starts")
        if self.rotation_wall is not None and self.rotation_wall.tzinfo is not None:
            raise ValueError("rotation_wall is a wall-clock time, without a zone")

    @property
    def anchor(self) -> datetime:
        return self.virtual_start or self.start


@dataclass(frozen=True, slots=True)
class Override:
    """Someone on call from start to end over every layer. `after_the_fact` marks one
    entered once its time had begun (a past swap recorded later), so that reports and
    calendars can say which hours were written down afterwards."""

    user: str
    start: datetime
    end: datetime
    after_the_fact: bool = False

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("an override ends after it starts")


@dataclass(frozen=True, slots=True)
class Schedule:
    time_zone: str
    layers: tuple[Layer, ...]  # lowest priority first, as PagerDuty lists them bottom-up
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True, slots=True)
class Shift:
    user: str
    start: datetime
    end: datetime
    source: str = field(default="", compare=False)
    after_the_fact: bool = field(default=False, compare=False)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def wall_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant at which the clock of `tz` reaches the wall-clock time `wall`:
    its only instant, the first of two in a repeated hour, or the jump over a skipped one
    (the module's two daylight-saving rules)."""
    written = wall.replace(tzinfo=tz, fold=0)  # the earlier of two
    first = written.astimezone(UTC)
    if first.astimezone(tz).utcoffset() == written.utcoffset():  # the clock shows it
        return first
    # Skipped: with the offset from after the jump the time reads as an instant before
    # it, with the offset from before as one after it; the jump lies between.
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    after = first
    while after - before > _TICK:
        middle = before + (after - before) // 2
        if _wall(middle, tz) >= wall:
            after = middle
        else:
            before = middle
    return after


class _Turns:
    """Turn boundaries of one layer: boundary(k) is when turn k begins, the first
    instant the schedule's clock reaches the rotation start plus k turns."""

    def __init__(self, layer: Layer, tz: ZoneInfo) -> None:
        self.layer = layer
        self.tz = tz
        self.step = timedelta(seconds=layer.turn_seconds)
        self.anchor_wall = layer.rotation_wall or _wall(layer.anchor, tz)

    def boundary(self, k: int) -> datetime:
        return wall_instant(self.anchor_wall + k * self.step, self.tz)

    def ends(self, k: int) -> Iterator[datetime]:
        """boundary(k + 1), boundary(k + 2), ...: when turn k and each next one end. While
        the clock keeps its offset, each is one turn after the last, checked with one
        conversion instead of found with two (a year of hourly turns is 8,760 of them)."""
        while True:
            end = self.boundary(k + 1)
            yield end
            k += 1
            local = end.astimezone(self.tz)
            # A jump reads later than written: step on only from a boundary that does not.
            stepping = local.replace(tzinfo=None) == self.anchor_wall + k * self.step
            while stepping:
                following = (end + self.step).astimezone(self.tz)
                # The same offset, and the first time the clock shows that reading.
                if following.fold or following.utcoffset() != local.utcoffset():
                    break
                end, local = end + self.step, following
                yield end
                k += 1

    def index(self, t: datetime) -> int:
        """The turn that contains instant t (never a turn that gets no time)."""
        k = (_wall(t, self.tz) - self.anchor_wall) // self.step
        while self.boundary(k + 1) <= t:
            k += 1
        while self.boundary(k) > t:
            k -= 1
        return k

    def user(self, k: int) -> str:
        return self.layer.users[k % len(self.layer.users)]


@lru_cache(maxsize=65_536)
def _window(restriction: Restriction, tz: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """The instants of the window that opens on wall-clock `day` (cached: schedules share
    restrictions, and "who is on call now" asks about the same few days over and over)."""
    start_wall = datetime.combine(day, restriction.start_time)
    return wall_instant(start_wall, tz), wall_instant(start_wall + restriction.duration, tz)


def _opening_days(restriction: Restriction, first: date, last: date) -> list[date]:
    """The days in [first, last] on which the restriction's windows open."""
    if restriction.kind == "weekly":
        first += timedelta(days=(restriction.start_day - first.isoweekday()) % 7)
        step = 7
    else:
        step = 1
    return [first + timedelta(days=i) for i in range(0, (last - first).days + 1, step)]


def _restriction_windows(
    restriction: Restriction, tz: ZoneInfo, t1: datetime, t2: datetime
) -> list[tuple[datetime, datetime]]:
    """The restriction's windows that overlap [t1, t2), as instants."""
    # A window may open a whole period (plus a DST hour) before t1 and still be open.
    period = timedelta(days=1 if restriction.kind == "daily" else 7)
    first = _wall(t1, tz).date() - period - timedelta(days=1)
    last = _wall(t2, tz).date() + timedelta(days=1)
    windows = []
    for day in _opening_days(restriction, first, last):
        start, end = _window(restriction, tz, day)
        if start < t2 and end > t1 and start < end:
            windows.append((max(start, t1), min(end, t2)))
    return windows


def _in_window(restriction: Restriction, tz: ZoneInfo, t: datetime) -> bool:
    """Whether instant t lies in one of the restriction's windows: the point case of
    `_restriction_windows`, without building the list."""
    period = timedelta(days=1 if restriction.kind == "daily" else 7)
    today = _wall(t, tz).date()
    for day in _opening_days(restriction, today - period - timedelta(days=1), today):
        start, end = _window(restriction, tz, day)
        if start <= t < end:
            return True
    # In a repeated (fall-back) hour, a window opening "later" on the wall clock may
    # already have opened.
    tomorrow = today + timedelta(days=1)
    return any(
        start <= t < end
        for start, end in (
            _window(restriction, tz, d) for d in _opening_days(restriction, tomorrow, tomorrow)
        )
    )


def _union(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _allowed(
    layer: Layer, tz: ZoneInfo, t1: datetime, t2: datetime
) -> list[tuple[datetime, datetime]]:
    """Where in [t1, t2) the layer may have someone: its lifetime, cut to its windows."""
    lo = max(t1, layer.start.astimezone(UTC))
    hi = min(t2, layer.end.astimezone(UTC)) if layer.end else t2
    if lo >= hi:
        return []
    if not layer.restrictions:
        return [(lo, hi)]
    return _union([w for r in layer.restrictions for w in _restriction_windows(r, tz, lo, hi)])


def layer_shifts(layer: Layer, time_zone: str, t1: datetime, t2: datetime) -> list[Shift]:
    """The shifts of one layer within [t1, t2), restrictions applied."""
    t1, t2 = t1.astimezone(UTC), t2.astimezone(UTC)
    tz = _zone(time_zone)
    turns = _Turns(layer, tz)
    shifts: list[Shift] = []
    for lo, hi in _allowed(layer, tz, t1, t2):
        k = turns.index(lo)
        start = lo
        for boundary in turns.ends(k):
            end = min(boundary, hi)
            if end > start:  # a turn whose handoffs the clock skipped gets no time
                shifts.append(Shift(turns.user(k), start, end, layer.name))
            start = end
            k += 1
            if start >= hi:
                break
    return shifts


def _subtract(shifts: list[Shift], covered: list[tuple[datetime, datetime]]) -> list[Shift]:
    """The parts of `shifts` outside the sorted, disjoint `covered` intervals."""
    if not covered:
        return shifts
    starts = [c[0] for c in covered]
    out = []
    for s in shifts:
        cursor = s.start
        i = max(0, bisect.bisect_right(starts, s.start) - 1)
        while i < len(covered) and covered[i][0] < s.end:
            c_start, c_end = covered[i]
            if c_end > cursor:
                if c_start > cursor:
                    out.append(
                        Shift(s.user, cursor, min(c_start, s.end), s.source, s.after_the_fact)
                    )
                cursor = max(cursor, c_end)
            if cursor >= s.end:
                break
            i += 1
        if cursor < s.end:
            out.append(Shift(s.user, cursor, s.end, s.source, s.after_the_fact))
    return out


def final_shifts(schedule: Schedule, t1: datetime, t2: datetime) -> list[Shift]:
    """Who is on call across [t1, t2): disjoint shifts in time order, adjacent shifts of
    the same person from the same source (and equally marked) merged."""
    t1, t2 = t1.astimezone(UTC), t2.astimezone(UTC)
    if t2 <= t1:
        return []
    result: list[Shift] = [
        Shift(
            o.user,
            max(o.start.astimezone(UTC), t1),
            min(o.end.astimezone(UTC), t2),
            OVERRIDE,
            o.after_the_fact,
        )
        for o in schedule.overrides
        if o.start < t2 and o.end > t1
    ]
    result = _flatten_overrides(result)
    covered = _union([(s.start, s.end) for s in result])
    for layer in reversed(schedule.layers):
        visible = _subtract(layer_shifts(layer, schedule.time_zone, t1, t2), covered)
        result.extend(visible)
        covered = _union(covered + [(s.start, s.end) for s in visible])
    return _merge(sorted(result, key=lambda s: s.start))


def _flatten_overrides(overrides: list[Shift]) -> list[Shift]:
    """Overlapping overrides: the one given later (created later) wins."""
    out: list[Shift] = []
    for shift in reversed(overrides):
        out.extend(_subtract([shift], _union([(s.start, s.end) for s in out])))
    return out


def _merge(shifts: list[Shift]) -> list[Shift]:
    out: list[Shift] = []
    for s in shifts:
        last = out[-1] if out else None
        if (
            last is not None
            and last.end == s.start
            and last.user == s.user
            and last.source == s.source
            and last.after_the_fact == s.after_the_fact
        ):
            out[-1] = Shift(s.user, last.start, s.end, s.source, s.after_the_fact)
        else:
            out.append(s)
    return out


def on_call_at(schedule: Schedule, t: datetime) -> str | None:
    """The person on call at instant t, computed directly (no shift list) for speed."""
    for o in reversed(schedule.overrides):
        if o.start <= t < o.end:
            return o.user
    tz = _zone(schedule.time_zone)
    for layer in reversed(schedule.layers):
        if t < layer.start or (layer.end is not None and t >= layer.end):
            continue
        if layer.restrictions and not any(_in_window(r, tz, t) for r in layer.restrictions):
            continue
        turns = _Turns(layer, tz)
        return turns.user(turns.index(t))
    return None


def gaps(schedule: Schedule, t1: datetime, t2: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of [t1, t2) with nobody on call."""
    t1, t2 = t1.astimezone(UTC), t2.astimezone(UTC)
    out = []
    cursor = t1
    for s in final_shifts(schedule, t1, t2):
        if s.start > cursor:
            out.append((cursor, s.start))
        cursor = max(cursor, s.end)
    if cursor < t2:
        out.append((cursor, t2))
    return out
