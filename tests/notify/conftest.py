"""Notification tests: settings from the environment (as the worker reads them), real
SMTP and HTTP receivers on loopback, and helpers to page and run the worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.notify.receivers import Mailbox, smtp_server
from watchbill.settings import Settings, get_settings

SECRET = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
BASE_URL = "http://watchbill.example.test"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def settings(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, smtp: tuple[int, Mailbox]
) -> Iterator[Settings]:
    """The app's settings and the worker's (get_settings) are the same environment."""
    env = {
        "WATCHBILL_DATA_DIR": str(tmp_path / "data"),
        "WATCHBILL_DATABASE_URL": db_url,
        "WATCHBILL_SECRET_KEY": SECRET,
        "WATCHBILL_BASE_URL": BASE_URL,
        "WATCHBILL_SMTP_HOST": "127.0.0.1",
        "WATCHBILL_SMTP_PORT": str(smtp[0]),
        "WATCHBILL_SMTP_FROM": "pager@watchbill.example.test",
        "WATCHBILL_NOTIFY_TIMEOUT_SECONDS": "5",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
