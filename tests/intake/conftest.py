"""Fixtures of the intake tests: an admin token and a service with one integration of
every type (keys by integration name: pd, am, gen, hb)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.intake.helpers import put_service
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock


@pytest.fixture
def admin(db: Database, clock: FakeClock) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, Role.ADMIN, name='ci-admin')}"}


@pytest.fixture
def keys(client: TestClient, admin: dict[str, str]) -> dict[str, str]:
    return put_service(client, admin)
