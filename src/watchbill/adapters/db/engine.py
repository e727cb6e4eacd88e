"""Engines and transactions, with the SQLite settings an embedded server needs."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; NORMAL sync is durable across a process
    # crash (the WAL is fsynced at checkpoints) which is the failure we guard against.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.close()


class _WriterConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions also hold a lock shared by the
    engine's connections, from BEGIN until the COMMIT or ROLLBACK has completed.

    SQLite's own busy handler waits by sleeping (1, 2, 5, 10 … ms) and polling, so two
    threads of one server taking turns at the write lock (the intake writer, the job
    worker) lost milliseconds at every collision, and a page under load waited hundreds
    of them in total. Threads of one process now queue on a lock that hands over at
    once; other processes (the CLI, a second server) still meet SQLite's busy timeout.
    """

    write_lock: threading.RLock
    holding = False

    def begin_write(self) -> None:
        if not self.write_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked (by another thread)")
        self.holding = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self.holding:
            self.holding = False
            self.write_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()


def _sqlite_begin(conn: Any) -> None:
    # Take the write lock at BEGIN: a deferred transaction that later writes can fail
    # with SQLITE_BUSY without waiting, while IMMEDIATE honours busy_timeout.
    conn.connection.dbapi_connection.begin_write()


def private_database_file(path: Path) -> None:
    """Create the SQLite file 0600 in a folder created 0700, before SQLite opens it.

    The file holds phone numbers, webhook URLs and every credential's hash. SQLite
    gives its -wal and -shm files the main file's mode, so they follow. A file left
    readable by others (by an older version) is tightened; the folder, which may be
    the operator's own, is only ever created, never changed.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            mode = stat.S_IMODE(part.stat().st_mode)
            if mode & 0o077:
                part.chmod(mode & 0o700)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 10, writer: bool = True) -> Engine:
    """An engine for `url`; SQLite files get WAL, foreign keys and a busy timeout.

    On SQLite a `writer` engine begins every transaction IMMEDIATE; a reader engine
    begins deferred, so pages and listings never queue behind the write lock.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_database_file(Path(parsed.database))
        connect_args: dict[str, Any] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
        if writer:
            # One lock per engine: a subclass per engine carries it to every connection.
            connect_args["factory"] = type(
                "WriterConnection", (_WriterConnection,), {"write_lock": threading.RLock()}
            )
        engine = create_engine(
            url,
            connect_args=connect_args,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if writer:
            event.listen(engine, "begin", _sqlite_begin)
        else:
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )


def _json_dumps(value: Any) -> str:
    # orjson is several times faster than json for the payloads kept on every alert.
    return orjson.dumps(value).decode()


class Database:
    """One engine and its session factory; `transaction()` is the unit of work."""

    def __init__(
        self, url: str, *, pool_size: int = 10, info: dict[str, object] | None = None
    ) -> None:
        """`info` is given to every session (the audit chain's key travels there)."""
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self.read_engine = make_engine(url, writer=False) if is_sqlite(url) else self.engine
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False, info=info)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error: nothing half-written."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session that never waits for SQLite's write lock."""
        with self.read_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()
