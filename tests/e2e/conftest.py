"""Fixtures starting real `watchbill serve` processes (see tests/e2e/server.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e.server import Server, running_server, scratch_postgres, self_signed_cert

PG_ENV = "WATCHBILL_TEST_DATABASE_URL"


def postgres_admin_url() -> str:
    """The PostgreSQL server to make scratch databases on, or a skip (a failure in CI)."""
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("WATCHBILL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{PG_ENV} is unset but PostgreSQL tests are required")
        pytest.skip(f"PostgreSQL: set {PG_ENV} to run this case")
    return url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`watchbill serve` on SQLite in a fresh data directory, shared by a module's tests."""
    with running_server(tmp_path_factory.mktemp("e2e-sqlite") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`watchbill serve` on a scratch PostgreSQL database, created here and dropped after."""
    admin_url = postgres_admin_url()
    with (
        scratch_postgres(admin_url) as url,
        running_server(tmp_path_factory.mktemp("e2e-pg") / "data", database_url=url) as srv,
    ):
        yield srv


@pytest.fixture(params=["sqlite", "postgresql"])
def any_server(request: pytest.FixtureRequest) -> Server:
    """The same test against the SQLite server and the PostgreSQL server."""
    name = "server" if request.param == "sqlite" else "pg_server"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`watchbill serve --tls-cert --tls-key` with a self-signed certificate for 127.0.0.1."""
    base = tmp_path_factory.mktemp("e2e-tls")
    with running_server(base / "data", tls=self_signed_cert(base), worker=False) as srv:
        yield srv
