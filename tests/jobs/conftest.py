"""Fixtures for the job tests: the effects table, in whichever database the test runs on."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.jobs import effects
from watchbill.adapters.db.engine import Database


@pytest.fixture
def effects_engine(db: Database) -> Engine:
    """The test database's engine, with an empty `job_effects` table."""
    effects.reset(db.engine)
    return db.engine
