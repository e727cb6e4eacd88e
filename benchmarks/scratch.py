"""Scratch databases for the benchmarks: a SQLite file in a temporary directory, or a new
database on a PostgreSQL server, dropped at the end (its connections closed first)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from watchbill.adapters.db.scratch import scratch_postgres as throwaway


@contextmanager
def scratch_postgres(admin_url: str, *, keep: bool = False) -> Iterator[str]:
    """A new database on the server of `admin_url`; dropped at the end unless `keep`."""
    with throwaway(admin_url, prefix="watchbill_bench", keep=keep) as url:
        yield url


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="watchbill-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def scratch_database(postgres_admin_url: str | None) -> Iterator[str]:
    """On PostgreSQL when a server URL is given, else on SQLite."""
    if postgres_admin_url:
        with scratch_postgres(postgres_admin_url) as url:
            yield url
    else:
        with scratch_sqlite() as url:
            yield url
