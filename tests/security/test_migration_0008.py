"""Migration 0008 on a database that already has tokens and audit entries: each token gets
the owner its maker implies, and the existing log is sealed into the chain."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ENV, TEST_SERVER_KEY
from watchbill.adapters.db.engine import Database
from watchbill.adapters.db.scratch import scratch_postgres
from watchbill.app.assembly import migrations
from watchbill.audit import chain

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
USERS = [(1, "ada", "admin"), (2, "bob", "viewer")]
TOKENS = [  # id, name, role, created_by
    (1, "ada-laptop", "admin", "user:ada"),
    (2, "ada-ci", "responder", "token:ada-laptop"),
    (3, "prometheus", "viewer", "cli:root"),
    (4, "scraper", "viewer", "token:prometheus"),
    (5, "left-behind", "admin", "user:carol"),  # carol was deleted since
    (6, "grandchild", "viewer", "token:left-behind"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at revision 0007 (before the chain)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        migrations().upgrade(url, "0007")
        yield url
        return
    admin = os.environ.get(PG_ENV)
    if not admin:
        pytest.skip(f"PostgreSQL: set {PG_ENV} to run this case")
    with scratch_postgres(admin, prefix="watchbill_mig") as url:
        migrations().upgrade(url, "0007")
        yield url


def _fill(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for uid, name, role in USERS:
            conn.execute(
                text(
                    "INSERT INTO users (id, name, full_name, email, time_zone, role, active, "
                    "created_at, updated_at) VALUES (:id, :n, '', :e, 'UTC', :r, true, :at, :at)"
                ),
                {"id": uid, "n": name, "e": f"{name}@example.com", "r": role, "at": AT},
            )
        for tid, name, role, by in TOKENS:
            conn.execute(
                text(
                    "INSERT INTO api_tokens (id, name, token_hash, prefix, role, created_by, "
                    "created_at) VALUES (:id, :n, :h, 'wb_x', :r, :by, :at)"
                ),
                {"id": tid, "n": name, "h": f"{tid:064d}", "r": role, "by": by, "at": AT},
            )
        # Entries as the old code wrote them: ids with a gap, times not in order.
        for eid, minute in ((1, 5), (2, 3), (4, 9)):
            conn.execute(
                text(
                    "INSERT INTO audit_events (id, at, actor, action, object_type, object_id, "
                    "before, after, source_ip) VALUES (:id, :at, 'cli:root', 'team.create', "
                    "'Team', :o, NULL, :after, '')"
                ),
                {"id": eid, "at": AT.replace(minute=minute), "o": f"t{eid}", "after": '{"x": 1.5}'},
            )
    engine.dispose()


def test_tokens_get_owners_and_the_old_log_is_sealed(old_database: str) -> None:
    _fill(old_database)
    migrations().upgrade(old_database, audit_key=TEST_SERVER_KEY)
    engine = create_engine(old_database)
    with engine.connect() as conn:
        tokens = {
            name: (user, revoked is not None)
            for name, user, revoked in conn.execute(
                text("SELECT name, user_id, revoked_at FROM api_tokens")
            )
        }
        entries = conn.execute(
            text("SELECT id, action, object_id FROM audit_events ORDER BY id")
        ).all()
    engine.dispose()
    assert tokens == {
        "ada-laptop": (1, False),
        "ada-ci": (1, False),
        "prometheus": (None, False),  # a service account's
        "scraper": (None, False),
        "left-behind": (None, True),
        "grandchild": (None, True),
    }
    assert [tuple(e) for e in entries] == [
        (1, "team.create", "t1"),
        (2, "team.create", "t2"),
        (4, "team.create", "t4"),
        (5, "token.revoke", "left-behind"),
        (6, "token.revoke", "grandchild"),
    ]
    db = Database(old_database, pool_size=1, info=chain.session_info(TEST_SERVER_KEY))
    try:
        with db.read() as session:
            verdict = chain.verify(session)
        assert verdict.intact and verdict.entries == 5
    finally:
        db.dispose()
