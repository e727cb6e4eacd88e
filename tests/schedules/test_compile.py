"""From a Schedule spec to the core: dates in the spec read on the schedule's clock by
the same two daylight-saving rules as handoffs (pure, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from watchbill.core.schedule import layer_shifts
from watchbill.schedules.compile import compile_schedule
from watchbill.schedules.schemas import ScheduleSpec


def _handoffs(layer: dict[str, object], start: datetime, end: datetime) -> list[str]:
    spec = ScheduleSpec.model_validate({"timeZone": "America/New_York", "layers": [layer]})
    (compiled,) = compile_schedule(spec).layers
    return [
        f"{s.start:%m-%d %H:%M} {s.user}"
        for s in layer_shifts(compiled, "America/New_York", start, end)
    ]


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        # New York skips 02:00-03:00 on 8 March 2026: the first handoff is at the jump
        # (03:00 EDT, 07:00 UTC), every later one at 02:30 (06:30 UTC).
        (date(2026, 3, 8), "02:30", ["03-08 07:00 ann", "03-09 06:30 bob", "03-10 06:30 ann"]),
        # 1 November 2026 shows 01:00-02:00 twice: a date at 01:30 means the first 01:30
        # (EDT, 05:30 UTC); the next day's is EST.
        (date(2026, 11, 1), "01:30", ["11-01 05:30 ann", "11-02 06:30 bob", "11-03 06:30 ann"]),
    ],
)
def test_a_rotation_start_date_keeps_its_time_of_day_on_a_change_day(
    day: date, at: str, expected: list[str]
) -> None:
    layer = {
        "name": "l",
        "users": ["ann", "bob"],
        "rotationStart": day.isoformat(),
        "handoffTime": at,
        "turn": {"days": 1},
    }
    start = datetime.combine(day, time(0), tzinfo=UTC)
    assert _handoffs(layer, start, start + timedelta(days=2, hours=12)) == expected
