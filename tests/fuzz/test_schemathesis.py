"""Property-based fuzzing of the whole API from its own OpenAPI schema (Schemathesis 4).

Every operation in /openapi.json gets generated requests, valid and invalid, sent
in-process to the ASGI app as an admin, on SQLite and on PostgreSQL. The rules:
never a 5xx; every 4xx is RFC 9457 problem+json with a matching `status` and a `title`;
2xx bodies match the documented response schema.

Bounded and reproducible: a fixed seed, derandomized generation, a handful of examples
per operation and no example database, so CI sees the same requests every run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.e2e.server import scratch_postgres
from watchbill.access import Principal, Role
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import migrations
from watchbill.app.web import create_app
from watchbill.auth import service as auth
from watchbill.context import Ctx
from watchbill.settings import Settings

# A few examples per operation keep the run well under a minute on two cores; set
# WATCHBILL_FUZZ_EXAMPLES=200 (and WATCHBILL_FUZZ_SEED) for a deeper local run.
MAX_EXAMPLES = int(os.environ.get("WATCHBILL_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("WATCHBILL_FUZZ_SEED", "20260302"))
CONFIG_TOML = f"""
seed = {SEED}

[generation]
max-examples = {MAX_EXAMPLES}
deterministic = true
database = "none"
no-shrink = true

[phases.examples]
enabled = true

[phases.coverage]
enabled = false

[phases.stateful]
enabled = false
"""

# Objects the generated names may hit, so reads, updates and deletes of existing
# objects get exercised too (not only 404s and creations).
SEED_OBJECTS = [
    ("users", {"name": "a", "email": "a@example.com", "role": "responder"}),
    ("teams", {"name": "a", "members": ["a"]}),
    ("teams", {"name": "0", "description": "zero"}),
    ("services", {"name": "a", "ownerTeam": "a", "tier": 1}),
    ("services", {"name": "0", "dependsOn": ["a"]}),
    ("components", {"name": "a", "services": ["a"]}),
]
PROBLEM = "application/problem+json"
PG_ENV = "WATCHBILL_TEST_DATABASE_URL"
OWNER = Principal(kind="cli", name="fuzz", role=Role.OWNER, source_ip="local")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A fresh, migrated database for the whole fuzzing run on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
        migrations().upgrade(url)
        db = Database(url, pool_size=4)
        yield db
        db.dispose()
        return
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        if os.environ.get("WATCHBILL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{PG_ENV} is unset but PostgreSQL tests are required")
        pytest.skip(f"PostgreSQL: set {PG_ENV} to run this case")
    with scratch_postgres(admin_url) as url:
        migrations().upgrade(url)
        db = Database(url, pool_size=4)
        yield db
        db.dispose()


@pytest.fixture(scope="module")
def admin_headers(fuzz_db: Database) -> dict[str, str]:
    with fuzz_db.transaction() as session:
        issued = auth.create_token(
            Ctx(session, OWNER, system_clock), name="fuzz-admin", role=Role.ADMIN
        )
    return {"Authorization": f"Bearer {issued.secret}"}


@pytest.fixture(scope="module")
def seeded_app(
    fuzz_db: Database, admin_headers: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> FastAPI:
    """One app per backend, shared by every operation (so later operations meet the
    objects earlier ones created), seeded with a few objects the generated names hit."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz-data"),
        database_url=fuzz_db.url,
    )
    app = create_app(settings, db=fuzz_db, clock=system_clock, run_worker=False)
    with TestClient(app) as http:
        for plural, body in SEED_OBJECTS:
            resp = http.post(f"/api/v1/{plural}", json=body, headers=admin_headers)
            assert resp.status_code == 201, resp.text
        made = http.post(
            "/api/v1/tokens", json={"name": "a", "role": "viewer"}, headers=admin_headers
        )
        assert made.status_code == 201, made.text
    return app


def _openapi() -> dict[str, Any]:
    """The schema, from an app that is never started (building it touches no database)."""
    settings = Settings(
        data_dir=Path(tempfile.gettempdir()) / "watchbill-fuzz-schema",
        database_url="sqlite://",
    )
    return create_app(settings, run_worker=False).openapi()


def speaks_problem_json(path: str) -> bool:
    """Watchbill's own API and endpoints. Sender-compatible intake endpoints elsewhere
    (e.g. /v2/enqueue for PagerDuty clients) answer in the sender's format on purpose."""
    return path.startswith("/api/") or path in {"/healthz", "/readyz", "/metrics"}


def problem_details(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every client error is RFC 9457 problem+json with a matching status and a title."""
    status = response.status_code
    if 400 <= status < 500 and speaks_problem_json(case.operation.path):
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith(PROBLEM), f"{status} answered with {content_type!r}"
        body = response.json()
        assert isinstance(body, dict), body
        assert body.get("status") == status, body
        assert isinstance(body.get("title"), str) and body["title"], body
    return None


def documented_success(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """2xx bodies match the response schema (errors are checked by problem_details)."""
    if 200 <= response.status_code < 300:
        return response_schema_conformance(ctx, response, case)
    return None


schema = schemathesis.openapi.from_dict(_openapi(), config=SchemathesisConfig.from_str(CONFIG_TOML))


@pytest.mark.slow
@schema.parametrize()
# Generating large bodies (lists of up to 1000 names) is slow, and that is fine here.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.too_slow])
def test_api_never_fails_with_a_server_error(
    case: Case, seeded_app: FastAPI, admin_headers: dict[str, str]
) -> None:
    response = case.call(app=seeded_app, headers=admin_headers)
    case.validate_response(
        response, checks=[not_a_server_error, problem_details, documented_success]
    )
