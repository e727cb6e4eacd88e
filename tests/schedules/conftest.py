from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.schedules.helpers import seed
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock


def _headers(db: Database, clock: FakeClock, role: Role, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, role, name=name)}"}


@pytest.fixture
def admin(db: Database, clock: FakeClock) -> dict[str, str]:
    return _headers(db, clock, Role.ADMIN, "sched-admin")


@pytest.fixture
def responder(db: Database, clock: FakeClock) -> dict[str, str]:
    return _headers(db, clock, Role.RESPONDER, "sched-responder")


@pytest.fixture
def viewer(db: Database, clock: FakeClock) -> dict[str, str]:
    return _headers(db, clock, Role.VIEWER, "sched-viewer")


@pytest.fixture
def org(client: TestClient, admin: dict[str, str]) -> TestClient:
    """The client, with users ann/bob/cy/dee, team payments and schedule `primary`."""
    seed(client, admin)
    return client
