"""The Schedule spec (API and YAML) and the shapes of on-call answers.

Times of day are written as quoted strings ("09:00"): YAML 1.1 reads an unquoted 17:00
as the number 1020, which would otherwise become a silent 00:17.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

from watchbill.resources.schema import CamelModel, Name, Text
from watchbill.users.schemas import TimeZone

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MAX_LAYERS = 20
MAX_MEMBERS = 100
MAX_RESTRICTIONS = 21
WEEK = 7 * 86_400
MIN_TURN = 3600


def _time_of_day(value: Any) -> Any:
    if isinstance(value, str | time):
        return value
    raise ValueError('write a time of day as a quoted string, e.g. "09:00"')


def _weekday(value: Any) -> Any:
    """ISO numbers (1 = Monday, as PagerDuty exports them) or names in any case."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        return WEEKDAYS[value - 1]
    if isinstance(value, str):
        return value.strip().lower()
    return value


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a wall-clock time in the schedule's zone, without offset")
    return value


def _hh_mm(value: time) -> str:
    return value.strftime("%H:%M" if not value.second else "%H:%M:%S")


TimeOfDay = Annotated[
    time,
    BeforeValidator(_time_of_day),
    AfterValidator(_wall_clock),
    PlainSerializer(_hh_mm, when_used="json"),
]
YEARS = (1970, 2200)


def in_years(value: Any) -> Any:
    """Schedules live between 1970 and 2200: far enough for any rotation, near enough
    that adding a year or looking back a week never leaves the calendar."""
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(f"must be between the years {YEARS[0]} and {YEARS[1]}")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(in_years)]
"""An instant with a UTC offset, within the years schedules live in."""

_INSTANT_HELP = "an ISO 8601 instant with offset (2026-03-02T09:00:00+01:00) or a date (2026-03-02)"


def _instant(value: Any) -> datetime | date:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not {_INSTANT_HELP}") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"needs a UTC offset: {_INSTANT_HELP}")
        return in_years(value)
    if isinstance(value, date):
        return in_years(value)
    raise ValueError(f"expected {_INSTANT_HELP}")


Instant = Annotated[
    datetime | date,
    PlainValidator(_instant),
    PlainSerializer(lambda v: v.isoformat(), when_used="json"),
    WithJsonSchema({"type": "string", "description": _INSTANT_HELP}),
]
"""An instant with a UTC offset, or a date: that day at the layer's handoff time (or
midnight) in the schedule's zone."""


class OmitUnset(CamelModel):
    """Leaves optional fields that are not set out of the output, so that `export`
    writes what a person would have written."""

    @model_serializer(mode="wrap")
    def _omit_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


class Length(OmitUnset):
    """A length of time in exactly one unit: `{weeks: 1}`, `{hours: 12}`, `{seconds: 3600}`."""

    seconds: int | None = Field(default=None, ge=1, le=366 * 86_400)
    minutes: int | None = Field(default=None, ge=1, le=366 * 1440)
    hours: int | None = Field(default=None, ge=1, le=366 * 24)
    days: int | None = Field(default=None, ge=1, le=366)
    weeks: int | None = Field(default=None, ge=1, le=52)

    @model_validator(mode="after")
    def _one_unit(self) -> Length:
        given = [k for k in ("seconds", "minutes", "hours", "days", "weeks") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of seconds, minutes, hours, days or weeks")
        return self

    @classmethod
    def of(cls, seconds: int) -> Length:
        """The length in the largest unit that divides it: 28800 seconds is {hours: 8}."""
        for unit, size in (("weeks", WEEK), ("days", 86_400), ("hours", 3600), ("minutes", 60)):
            if seconds % size == 0:
                return cls.model_validate({unit: seconds // size})
        return cls(seconds=seconds)

    @property
    def total_seconds(self) -> int:
        return (
            (self.seconds or 0)
            + (self.minutes or 0) * 60
            + (self.hours or 0) * 3600
            + (self.days or 0) * 86_400
            + (self.weeks or 0) * WEEK
        )


class RestrictionSpec(OmitUnset):
    """A window in which the layer is on duty: every day from `startTime` for `duration`
    (daily), or from `startDay` at `startTime` for `duration` (weekly)."""

    type: Literal["daily", "weekly"]
    start_day: Annotated[Weekday | None, BeforeValidator(_weekday)] = Field(
        default=None, description="weekly only: the day the window opens"
    )
    start_time: TimeOfDay = Field(description='time of day in the schedule\'s zone, "HH:MM"')
    duration: Length

    @model_validator(mode="after")
    def _fits_period(self) -> RestrictionSpec:
        if self.type == "weekly" and self.start_day is None:
            raise ValueError("a weekly restriction needs startDay")
        if self.type == "daily" and self.start_day is not None:
            raise ValueError("startDay is for weekly restrictions; a daily one opens every day")
        limit = 86_400 if self.type == "daily" else WEEK
        if self.duration.total_seconds > limit:
            most = "24 hours" if self.type == "daily" else "7 days"
            raise ValueError(f"a {self.type} restriction lasts at most {most}")
        return self

    def week_intervals(self) -> list[tuple[int, int]]:
        """Seconds-of-the-week intervals (Monday 00:00 = 0) the window covers; may run past
        the end of the week, which the overlap check wraps."""
        opens = self.start_time.hour * 3600 + self.start_time.minute * 60 + self.start_time.second
        days = range(7) if self.type == "daily" else [WEEKDAYS.index(self.start_day or "monday")]
        length = self.duration.total_seconds
        return [(d * 86_400 + opens, d * 86_400 + opens + length) for d in days]


def _overlaps(restrictions: list[RestrictionSpec]) -> tuple[int, int] | None:
    """The first pair of restrictions (indexes) whose windows overlap, if any."""
    if not restrictions:
        return None
    spans: list[tuple[int, int, int]] = []
    for i, r in enumerate(restrictions):
        for lo, hi in r.week_intervals():
            spans.append((lo, hi, i))
            if hi > WEEK:
                spans.append((lo - WEEK, hi - WEEK, i))
    spans.sort()
    reach, owner = spans[0][1], spans[0][2]
    for lo, hi, i in spans[1:]:
        if lo < reach and i != owner:
            return (min(i, owner), max(i, owner))
        if hi > reach:
            reach, owner = hi, i
    return None


class LayerSpec(OmitUnset):
    """One rotation: its members take turns of `turn` length, counted from `rotationStart`."""

    name: Name
    users: list[Name] = Field(
        min_length=1, max_length=MAX_MEMBERS, description="members in rotation order"
    )
    rotation_start: Instant = Field(
        description="when turn 0 begins (the virtual start; may lie before `start`)"
    )
    start: Instant | None = Field(
        default=None, description="when the layer takes effect (default: rotationStart)"
    )
    end: Instant | None = Field(default=None, description="when the layer stops (default: never)")
    turn: Length = Field(description="each member's turn, at least an hour")
    handoff_time: TimeOfDay | None = Field(
        default=None,
        description='time of day of handoffs for turns of whole days, e.g. "09:00"; '
        "dates in rotationStart, start and end mean this time of that day",
    )
    restrictions: list[RestrictionSpec] = Field(default_factory=list, max_length=MAX_RESTRICTIONS)

    @model_validator(mode="after")
    def _consistent(self) -> LayerSpec:
        if self.turn.total_seconds < MIN_TURN:
            # PagerDuty's minimum too; it also bounds a year of shifts to 8,784 a layer.
            raise ValueError("a turn lasts at least an hour (3600 seconds)")
        if self.handoff_time is not None and self.turn.total_seconds % 86_400:
            raise ValueError("handoffTime is for turns of whole days or weeks")
        return self

    @field_validator("restrictions")
    @classmethod
    def _no_overlap(cls, value: list[RestrictionSpec]) -> list[RestrictionSpec]:
        clash = _overlaps(value)
        if clash is not None:
            raise ValueError(
                f"restrictions {clash[0]} and {clash[1]} overlap; merge them into one window"
            )
        return value


class ScheduleSpec(CamelModel):
    """A schedule: layers listed bottom-up (a later layer wins where it has someone), in a
    time zone that gives handoff times and restriction windows their meaning."""

    time_zone: TimeZone = Field(description="IANA zone, e.g. Europe/Berlin")
    description: Text = ""
    team: Name | None = Field(default=None, description="the team that owns the schedule")
    layers: list[LayerSpec] = Field(min_length=1, max_length=MAX_LAYERS)

    @field_validator("layers")
    @classmethod
    def _unique_names(cls, value: list[LayerSpec]) -> list[LayerSpec]:
        dupes = sorted(n for n, c in Counter(layer.name for layer in value).items() if c > 1)
        if dupes:
            raise ValueError(f"layer names must be unique: {', '.join(dupes)}")
        return value


# ---------------------------------------------------------------- answers


AFTER_THE_FACT = (
    "true for an override entered once its time had begun: a past swap an admin recorded later"
)


class ShiftOut(CamelModel):
    user: str
    start: datetime
    end: datetime
    source: str = Field(description="the layer's name, or 'override'")
    entered_after_the_fact: bool = Field(default=False, description=AFTER_THE_FACT)


class ShiftsOut(CamelModel):
    schedule: str
    time_zone: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    items: list[ShiftOut]


class GapOut(CamelModel):
    start: datetime
    end: datetime


class GapsOut(CamelModel):
    schedule: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    covered: bool = Field(description="true when someone is on call the whole time")
    items: list[GapOut]


class OnCallOut(CamelModel):
    schedule: str
    team: str | None
    at: datetime
    user: str | None = Field(description="who is on call, or null when nobody is")
    until: datetime | None = Field(
        default=None, description="when their shift ends (null: beyond 90 days, or nobody)"
    )


class OnCallPage(CamelModel):
    at: datetime
    items: list[OnCallOut]


class OverrideIn(CamelModel):
    """Someone on call from start to end. A start in the past (beyond five minutes) is a
    past swap: admins only, marked as entered after the fact."""

    user: Name
    start: Moment
    end: Moment

    @model_validator(mode="after")
    def _ordered(self) -> OverrideIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.end - self.start > timedelta(days=366):
            raise ValueError("an override lasts at most 366 days; change the layers instead")
        return self


class OverrideOut(CamelModel):
    id: int
    schedule: str
    user: str
    start: datetime
    end: datetime
    created_by: str
    created_at: datetime
    entered_after_the_fact: bool = Field(description=AFTER_THE_FACT)


class OverridePage(CamelModel):
    items: list[OverrideOut]


class FeedOut(CamelModel):
    url: str = Field(description="the secret feed URL; shown once, replaced by rotating")
    subject: str
