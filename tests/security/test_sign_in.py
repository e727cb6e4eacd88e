"""Page sign-in against guessing (issue 9, low), on a real server: repeated failures are
throttled per account and per address (429 with Retry-After), and a wrong password takes
as long for a name that does not exist as for one that does."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Server, run_cli, running_server
from tests.security.conftest import fresh_server
from tests.security.helpers import PASSWORD, hidden_field, login

pytestmark = pytest.mark.e2e

USER = "grace"
STRICT = {
    "WATCHBILL_SIGNIN_FAILURES_PER_ACCOUNT": "3",
    "WATCHBILL_SIGNIN_FAILURES_PER_ADDRESS": "8",
}


def _with_user(env: dict[str, str]) -> None:
    run_cli(
        env,
        *("users", "create", USER, "--email", f"{USER}@example.com", "--role", "viewer"),
        "--password-stdin",
        input=PASSWORD + "\n",
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def strict_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server allowing 3 failures per account and 8 per address in 15 minutes."""
    with fresh_server(
        request.param, tmp_path / "data", prepare=_with_user, extra_env=STRICT, worker=False
    ) as srv:
        yield srv


def test_repeated_failures_are_throttled_per_account_then_per_address(
    strict_server: Server,
) -> None:
    with strict_server.client() as http:
        for who in (USER, USER.upper(), f"{USER}@example.com"):  # one account, however typed
            assert login(http, who, password="a wrong guess, long").status_code == 401
        # The right password now waits too: the guesser learns nothing from it.
        throttled = login(http, USER)
        assert throttled.status_code == 429, throttled.text
        assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60
        assert "wb_session" not in throttled.cookies
        assert "Too many failed sign-ins" in throttled.text

        # Five more failures from this address, on names nobody has: eight in all.
        for _ in range(5):
            name = f"guess-{uuid.uuid4().hex[:6]}"
            assert login(http, name, password="a wrong guess, long").status_code == 401
        assert login(http, f"guess-{uuid.uuid4().hex[:6]}").status_code == 429


def _seconds(server: Server, username: str) -> float:
    with server.client() as http:
        page = http.get("/login")
        assert page.status_code == 200
        data = {"username": username, "password": "wrong but long enough", "next": "/"}
        data["csrf"] = hidden_field(page.text, "csrf")
        start = time.perf_counter()
        resp = http.post("/login", data=data, follow_redirects=False)
        took = time.perf_counter() - start
        assert resp.status_code == 401, resp.text
        return took


def test_a_wrong_password_takes_as_long_for_a_name_that_does_not_exist(
    tmp_path: Path,
) -> None:
    with running_server(tmp_path / "data", prepare=_with_user, worker=False) as server:
        known, unknown = [], []
        for _ in range(8):  # interleaved, so a busy moment slows both alike
            known.append(_seconds(server, USER))
            unknown.append(_seconds(server, f"nobody-{uuid.uuid4().hex[:6]}"))
    # The fastest of each: scrypt's cost, not the machine's load. Before the fix an
    # unknown name answered in a tenth of the time.
    assert min(unknown) > 0.6 * min(known), (known, unknown)
