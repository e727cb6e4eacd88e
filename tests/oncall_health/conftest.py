"""On-call health tests run a real week: the notification path with its settings from
the environment (as the worker reads them), a real loopback webhook receiver, and the
limits chosen so that each warning has one person to catch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notify.conftest import settings, smtp
from tests.notify.receivers import Receiver, http_receiver

__all__ = ["settings", "smtp"]

LIMITS = {
    "WATCHBILL_ONCALL_MAX_HOURS_PER_WEEK": "100",
    "WATCHBILL_ONCALL_MAX_SLEEP_PAGES_PER_WEEK": "2",
    "WATCHBILL_ONCALL_MAX_NIGHTS_INTERRUPTED_PER_WEEK": "2",
}


@pytest.fixture(autouse=True)
def limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before `settings` reads the environment (autouse fixtures come first)."""
    for key, value in LIMITS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as r:
        yield r
