"""Fixtures of the integration-key tests."""

from __future__ import annotations

import pytest

from tests.conftest import make_token
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock


@pytest.fixture
def admin(db: Database, clock: FakeClock) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, Role.ADMIN, name='ci-admin')}"}
