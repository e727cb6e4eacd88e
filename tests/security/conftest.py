"""The end-to-end servers of tests/e2e, for the attacks replayed against a real server,
and servers of a test's own (settings of their own, or a log about to be tampered with)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.e2e.conftest import any_server, pg_server, postgres_admin_url, server, tls_server
from tests.e2e.server import Server, running_server, scratch_postgres

__all__ = ["any_server", "fresh_server", "pg_server", "server", "tls_server"]


@contextlib.contextmanager
def fresh_server(database: str, data_dir: Path, **options: Any) -> Iterator[Server]:
    """`watchbill serve` on a new SQLite file or a new PostgreSQL database (`database` is
    "sqlite" or "postgresql"), with `running_server`'s `options`."""
    with contextlib.ExitStack() as stack:
        url = None
        if database == "postgresql":
            url = stack.enter_context(scratch_postgres(postgres_admin_url()))
        yield stack.enter_context(running_server(data_dir, database_url=url, **options))
