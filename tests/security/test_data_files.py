"""The database and the data folder are private to the server's user (issue 9, medium):
created 0700 and 0600 on a real server, whatever the umask allows others."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import run_cli, running_server, server_env
from tests.security.helpers import PASSWORD, login
from watchbill.adapters.db.engine import private_database_file

pytestmark = pytest.mark.e2e


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default: files readable by everyone unless the program says otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_server_keeps_its_folder_and_database_to_itself(
    tmp_path: Path, open_umask: None
) -> None:
    data = tmp_path / "data"

    def owner(env: dict[str, str]) -> None:
        run_cli(
            env,
            *("users", "create", "ada", "--email", "ada@example.com", "--role", "owner"),
            "--password-stdin",
            input=PASSWORD + "\n",
        )

    with running_server(data, prepare=owner, worker=False) as server:
        with server.client() as pages:
            assert login(pages, "ada").status_code == 303  # a write: the WAL exists
        files = {p.name: _mode(p) for p in data.iterdir()}
        assert _mode(data) == 0o700
        assert {"watchbill.db", "watchbill.db-wal", "watchbill.db-shm", "secret_key"} <= set(files)
        assert files == dict.fromkeys(files, 0o600), files


def test_a_database_left_readable_is_tightened(tmp_path: Path, open_umask: None) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "watchbill.db").touch(mode=0o644)
    assert _mode(data / "watchbill.db") == 0o644
    run_cli(server_env(data), "db", "upgrade")
    assert _mode(data / "watchbill.db") == 0o600
    assert _mode(data) == 0o755  # the operator's own folder: left as it was


def test_private_database_file_makes_missing_folders(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "a" / "b" / "watchbill.db"
    private_database_file(path)
    assert _mode(path) == 0o600 and path.stat().st_size == 0
    assert _mode(path.parent) == 0o700
