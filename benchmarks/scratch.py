"""Scratch databases for the benchmarks: a SQLite file in a temporary directory, or a new
database on a PostgreSQL server, dropped at the end (its connections closed first)."""

from __future__ import annotations

import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def scratch_postgres(admin_url: str, *, keep: bool = False) -> Iterator[str]:
    """A new database on the server of `admin_url`; dropped at the end unless `keep`."""
    name = f"watchbill_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept PostgreSQL database {name}", file=sys.stderr, flush=True)
        else:
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


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
