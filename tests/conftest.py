"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from WATCHBILL_TEST_DATABASE_URL; each test run gets a database of its
own, created from that server and dropped at the end. Without the variable the
PostgreSQL cases are skipped with a visible reason, unless WATCHBILL_REQUIRE_POSTGRES=1
(as in CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from watchbill.access import Principal, Role
from watchbill.adapters.db.engine import Database
from watchbill.adapters.db.scratch import scratch_postgres
from watchbill.app.assembly import metadata, migrations
from watchbill.app.web import create_app
from watchbill.audit.chain import session_info
from watchbill.auth import service as auth
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.settings import Settings

PG_ENV = "WATCHBILL_TEST_DATABASE_URL"
TEST_SERVER_KEY = b"the server key of the test databases, 32+ bytes"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str | None]:
    """A fresh, migrated PostgreSQL database for this test run (dropped afterwards)."""
    base = _pg_admin_url()
    if base is None:
        yield None
        return
    with scratch_postgres(base, prefix="watchbill_test") as url:
        migrations().upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file copied for each test: a clean database without re-migrating."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrations().upgrade(f"sqlite:///{path}")
    return path


def _truncate_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata().sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        # As replication does: triggers off, for the audit log refuses TRUNCATE.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """The URL of an empty, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "watchbill.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_server_url")
    if url is None:
        if os.environ.get("WATCHBILL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{PG_ENV} is unset but PostgreSQL tests are required")
        pytest.skip(f"PostgreSQL: set {PG_ENV} to run this case")
    _truncate_postgres(url)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url, pool_size=4, info=session_info(TEST_SERVER_KEY))
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url)


@pytest.fixture
def app(settings: Settings, db: Database, clock: FakeClock):  # type: ignore[no-untyped-def]
    return create_app(settings, db=db, clock=clock, run_worker=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


OWNER = Principal(kind="cli", name="test", role=Role.OWNER, source_ip="local")


@pytest.fixture
def owner_ctx(db: Database, clock: FakeClock) -> Iterator[Ctx]:
    """A committed-at-the-end transaction acting as the owner, for service-level tests."""
    with db.transaction() as session:
        yield Ctx(session, OWNER, clock)


def make_token(db: Database, clock: FakeClock, role: Role, name: str | None = None) -> str:
    with db.transaction() as session:
        issued = auth.create_token(
            Ctx(session, OWNER, clock),
            name=name or f"{role.value}-{uuid.uuid4().hex[:6]}",
            role=role,
        )
    return issued.secret


@pytest.fixture
def token_for(db: Database, clock: FakeClock):  # type: ignore[no-untyped-def]
    """token_for(Role.ADMIN) -> bearer headers for a fresh token with that role."""

    def make(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(db, clock, role)}"}

    return make
