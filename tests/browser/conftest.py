"""Playwright (sync API) driving Debian's chromium against a real `watchbill serve`.

Chromium is never downloaded: the system binary is used. Without it the tests are
skipped with the reason shown, unless WATCHBILL_REQUIRE_BROWSER=1 (as in CI).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.server import Server, prepare_demo, running_server

OWNER = "e2e-owner"
PASSWORD = "browser tests passphrase"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
XSS_SERVICE = {
    "name": "xss-probe",
    "displayName": "<img src=x onerror=alert(2)>",
    "description": "<script>alert(1)</script>",
    "tier": 4,
}


def _missing(reason: str) -> None:
    if os.environ.get("WATCHBILL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, but WATCHBILL_REQUIRE_BROWSER=1")
    pytest.skip(f"{reason}: browser tests skipped (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        _missing("chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo organisation applied, an owner with a password, and one hostile service."""
    with running_server(
        tmp_path_factory.mktemp("browser") / "data", prepare=prepare_demo(OWNER, PASSWORD)
    ) as srv:
        with srv.client(srv.admin_token()) as http:
            resp = http.post("/api/v1/services", json=XSS_SERVICE)
            assert resp.status_code == 201, resp.text
        yield srv


@pytest.fixture
def context(browser: Any, demo_server: Server) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=demo_server.base_url
    )
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of any JavaScript dialog (alert, confirm) a page opened."""
    return []


@pytest.fixture
def page(context: Any, dialogs: list[str]) -> Any:
    pg = context.new_page()

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    return pg
