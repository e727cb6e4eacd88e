"""Guided building of the two common shapes from restricted layers, and the check that
the result leaves no hour uncovered.

Follow-the-sun: each region covers a daily window; the windows are given in the
schedule's zone so that handoffs happen at one agreed instant for everybody (a region's
own clock may shift by an hour around its DST change; the members' local hours in the
answer show that). Weekday/weekend: one layer Monday to Friday, one for the weekend.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, ValidationError, model_validator

from watchbill.core import schedule as core
from watchbill.resources.schema import CamelModel, Name
from watchbill.resources.service import invalid_from
from watchbill.schedules.compile import compile_schedule
from watchbill.schedules.schemas import (
    WEEKDAYS,
    GapOut,
    Length,
    ScheduleSpec,
    TimeOfDay,
    Weekday,
    in_years,
)
from watchbill.users.schemas import TimeZone

CHECK_SPAN = timedelta(days=365)
Day = Annotated[date, AfterValidator(in_years)]


class Region(CamelModel):
    name: Name
    users: list[Name] = Field(min_length=1, max_length=100)
    start_time: TimeOfDay = Field(description="when the region takes over, schedule's zone")
    end_time: TimeOfDay = Field(description="when it hands over (may be past midnight)")


class FollowTheSunIn(CamelModel):
    time_zone: TimeZone = "UTC"
    start: Day = Field(description="the first day of the schedule")
    turn: Length = Field(
        default_factory=lambda: Length(weeks=1), description="each member's turn in a region"
    )
    team: Name | None = None
    description: str = Field(default="", max_length=4000)
    regions: list[Region] = Field(min_length=1, max_length=12)


class Rotation(CamelModel):
    users: list[Name] = Field(min_length=1, max_length=100)
    turn: Length = Field(default_factory=lambda: Length(weeks=1))


class WeekdayWeekendIn(CamelModel):
    time_zone: TimeZone = "UTC"
    start: Day = Field(description="the first day of the schedule")
    team: Name | None = None
    description: str = Field(default="", max_length=4000)
    weekday: Rotation
    weekend: Rotation
    weekend_start_day: Weekday = "friday"
    weekend_start_time: TimeOfDay = time(18)
    weekend_end_day: Weekday = "monday"
    weekend_end_time: TimeOfDay = time(9)

    @model_validator(mode="after")
    def _weekend_fits(self) -> WeekdayWeekendIn:
        if not 0 < _weekend_seconds(self) < 7 * 86_400:
            raise ValueError("the weekend must end after it starts, within the week")
        return self


def _seconds_of_week(day: str, at: time) -> int:
    return WEEKDAYS.index(day) * 86_400 + at.hour * 3600 + at.minute * 60 + at.second


def _weekend_seconds(body: WeekdayWeekendIn) -> int:
    opens = _seconds_of_week(body.weekend_start_day, body.weekend_start_time)
    closes = _seconds_of_week(body.weekend_end_day, body.weekend_end_time)
    return (closes - opens) % (7 * 86_400)


def _span(start: time, end: time) -> dict[str, int]:
    """The length from start to end of day, wrapping midnight; equal times: 24 hours."""
    seconds = (end.hour * 3600 + end.minute * 60 + end.second) - (
        start.hour * 3600 + start.minute * 60 + start.second
    )
    return Length.of(seconds % 86_400 or 86_400).model_dump()


def _spec(data: dict[str, Any]) -> ScheduleSpec:
    """The built spec; what the schedule itself refuses (e.g. two regions of one name)
    is reported as bad input, not as a failure of the recipe."""
    try:
        return ScheduleSpec.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc, prefix="spec") from exc


def follow_the_sun(body: FollowTheSunIn) -> ScheduleSpec:
    """One layer per region, restricted to its daily window, all rotating from `start`."""
    return _spec(
        {
            "timeZone": body.time_zone,
            "description": body.description,
            "team": body.team,
            "layers": [
                {
                    "name": region.name,
                    "users": region.users,
                    "rotationStart": body.start.isoformat(),
                    "turn": body.turn.model_dump(),
                    "restrictions": [
                        {
                            "type": "daily",
                            "startTime": region.start_time.isoformat(),
                            "duration": _span(region.start_time, region.end_time),
                        }
                    ],
                }
                for region in body.regions
            ],
        }
    )


def weekday_weekend(body: WeekdayWeekendIn) -> ScheduleSpec:
    """Two layers that tile the week: weekdays from the end of one weekend to the start
    of the next, and the weekend itself; handoffs at the end of the weekend."""
    weekend = _weekend_seconds(body)
    end_day = WEEKDAYS.index(body.weekend_end_day)
    first = body.start + timedelta(days=(end_day - body.start.weekday()) % 7)
    rotation_start = datetime.combine(first, body.weekend_end_time).replace(
        tzinfo=ZoneInfo(body.time_zone)
    )

    def layer(name: str, rotation: Rotation, day: str, at: time, seconds: int) -> dict[str, Any]:
        return {
            "name": name,
            "users": rotation.users,
            "rotationStart": rotation_start.isoformat(),
            "start": body.start.isoformat(),
            "turn": rotation.turn.model_dump(),
            "restrictions": [
                {
                    "type": "weekly",
                    "startDay": day,
                    "startTime": at.isoformat(),
                    "duration": Length.of(seconds).model_dump(),
                }
            ],
        }

    return _spec(
        {
            "timeZone": body.time_zone,
            "description": body.description,
            "team": body.team,
            "layers": [
                layer(
                    "weekdays",
                    body.weekday,
                    body.weekend_end_day,
                    body.weekend_end_time,
                    7 * 86_400 - weekend,
                ),
                layer(
                    "weekend",
                    body.weekend,
                    body.weekend_start_day,
                    body.weekend_start_time,
                    weekend,
                ),
            ],
        }
    )


def coverage(spec: ScheduleSpec, start: date) -> list[GapOut]:
    """The gaps in the first year of the schedule: none means every hour is covered,
    across both daylight-saving changes."""
    sched = compile_schedule(spec)
    begin = max(layer.start for layer in sched.layers)
    begin = max(begin, datetime.combine(start, time(0), tzinfo=UTC))
    return [GapOut(start=a, end=b) for a, b in core.gaps(sched, begin, begin + CHECK_SPAN)]
