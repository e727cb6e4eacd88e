"""Escalation tests run the real notification path: settings from the environment (as the
worker reads them), a real SMTP server and a real loopback webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notify.conftest import settings, smtp
from tests.notify.receivers import Receiver, http_receiver

__all__ = ["settings", "smtp"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as r:
        yield r
