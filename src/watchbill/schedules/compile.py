"""From a Schedule spec to the pure core's Schedule: dates and times of day resolved in
the schedule's zone, every check that needs the zone done here with the field named."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from watchbill.core import schedule as core
from watchbill.errors import FieldError, Invalid
from watchbill.schedules.schemas import WEEKDAYS, LayerSpec, RestrictionSpec, ScheduleSpec


def _instant(value: datetime | date, tz: ZoneInfo, at: time) -> datetime:
    """A spec instant: as given, or a date meaning `at` on that day in the zone (when the
    clock skips `at` that day, the jump; when it shows it twice, the first time)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return core.wall_instant(datetime.combine(value, at), tz)


def _restriction(spec: RestrictionSpec) -> core.Restriction:
    return core.Restriction(
        kind=spec.type,
        start_time=spec.start_time,
        duration=timedelta(seconds=spec.duration.total_seconds),
        start_day=WEEKDAYS.index(spec.start_day) + 1 if spec.start_day else 1,
    )


def compile_layer(spec: LayerSpec, tz: ZoneInfo, loc: str) -> core.Layer:
    """The core layer; Invalid naming `loc.<field>` when the zone makes it inconsistent."""
    at = spec.handoff_time or time(0)
    if spec.handoff_time is not None and isinstance(spec.rotation_start, datetime):
        local = spec.rotation_start.astimezone(tz).time()
        if local != spec.handoff_time:
            raise Invalid(
                "handoff time and rotation start disagree",
                [
                    FieldError(
                        f"{loc}.handoffTime",
                        f"rotationStart is at {local:%H:%M} in {tz.key}; give the handoff "
                        "time in one place (a date for rotationStart, or no handoffTime)",
                    )
                ],
            )
    anchor = _instant(spec.rotation_start, tz, at)
    start = _instant(spec.start, tz, at) if spec.start is not None else anchor
    end = _instant(spec.end, tz, at) if spec.end is not None else None
    if end is not None and end <= start:
        raise Invalid(
            "a layer ends before it starts", [FieldError(f"{loc}.end", "must be after start")]
        )
    return core.Layer(
        name=spec.name,
        users=tuple(spec.users),
        start=start,
        turn_seconds=spec.turn.total_seconds,
        virtual_start=anchor,
        end=end,
        restrictions=tuple(_restriction(r) for r in spec.restrictions),
        # A date keeps its time of day even on a day the clock skips it.
        rotation_wall=(
            None
            if isinstance(spec.rotation_start, datetime)
            else datetime.combine(spec.rotation_start, at)
        ),
    )


def compile_schedule(
    spec: ScheduleSpec, overrides: tuple[core.Override, ...] = ()
) -> core.Schedule:
    tz = ZoneInfo(spec.time_zone)
    layers = tuple(compile_layer(layer, tz, f"layers.{i}") for i, layer in enumerate(spec.layers))
    return core.Schedule(spec.time_zone, layers, overrides)
