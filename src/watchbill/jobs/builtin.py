"""Every domain's job handlers, and the recurring jobs a worker keeps alive.

Importing this module registers the handlers; any process that runs a worker imports it.
"""

from __future__ import annotations

from watchbill.adapters.db.engine import Database
from watchbill.core.clock import Clock
from watchbill.escalation import engine as escalation_engine
from watchbill.intake import heartbeat
from watchbill.notify import delivery as notify_delivery


def ensure_recurring(db: Database, clock: Clock) -> None:
    """Start the chains of self-rescheduling jobs (idempotent: one per time slot)."""
    now = clock.now()
    with db.engine.begin() as conn:
        heartbeat.schedule_sweep(conn, now, now)


__all__ = ["ensure_recurring", "escalation_engine", "notify_delivery"]
