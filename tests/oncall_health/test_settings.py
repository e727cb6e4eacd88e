"""The on-call health settings: sleep hours as HH:MM-HH:MM, limits per week (0: off)."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from tests.oncall_health.conftest import LIMITS
from watchbill.core.oncall_load import DailyWindow, Limits
from watchbill.settings import Settings


def test_defaults_and_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in LIMITS:  # set for the other tests of this directory
        monkeypatch.delenv(key)
    assert Settings().sleep_hours == DailyWindow(time(22), time(7))
    assert Settings().oncall_limits == Limits(42, 3, 2)
    monkeypatch.setenv("WATCHBILL_ONCALL_SLEEP_HOURS", " 23:30-06:00")
    monkeypatch.setenv("WATCHBILL_ONCALL_MAX_HOURS_PER_WEEK", "0")
    monkeypatch.setenv("WATCHBILL_ONCALL_MAX_SLEEP_PAGES_PER_WEEK", "1.5")
    settings = Settings()
    assert settings.oncall_sleep_hours == "23:30-06:00"
    assert settings.sleep_hours == DailyWindow(time(23, 30), time(6))
    assert settings.oncall_limits == Limits(0, 1.5, 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("oncall_sleep_hours", "10pm-7am"),
        ("oncall_sleep_hours", "07:00-07:00"),
        ("oncall_max_hours_per_week", -1),
        ("oncall_max_hours_per_week", 169),
        ("oncall_max_sleep_pages_per_week", -0.5),
        ("oncall_max_nights_interrupted_per_week", 8),
    ],
)
def test_bad_values_are_refused_naming_the_setting(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})  # type: ignore[arg-type]
