"""The audit log cannot be rewritten, even by someone holding the database credentials
the application uses: triggers refuse UPDATE and DELETE on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.security.helpers import SETUP
from watchbill.adapters.db.engine import Database
from watchbill.audit.models import AuditEvent
from watchbill.audit.service import record
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock


def _events(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(AuditEvent.__table__).order_by("id"))]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'user:nobody'",
        "UPDATE audit_events SET action = 'tampered' WHERE action = 'service.create'",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE action = 'service.create'",
    ],
)
def test_audit_events_refuse_update_and_delete(
    db: Database, clock: FakeClock, statement: str
) -> None:
    with db.transaction() as session:
        ctx = Ctx(session, SETUP, clock)
        record(ctx, action="service.create", object_type="Service", object_id="checkout")
        record(ctx, action="team.create", object_type="Team", object_id="payments")
    before = _events(db)
    assert len(before) == 2

    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert _events(db) == before

    # Through the ORM too.
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
        event = session.scalars(select(AuditEvent)).first()
        assert event is not None
        if statement.startswith("UPDATE"):
            event.actor = "user:nobody"
        else:
            session.delete(event)
    assert _events(db) == before

    # Appending still works.
    with db.transaction() as session:
        record(Ctx(session, SETUP, clock), action="x.y", object_type="X", object_id="y")
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(AuditEvent)) == 3
