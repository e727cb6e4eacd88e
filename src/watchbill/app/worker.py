"""The job worker with every slice's handlers, and the recurring jobs slices keep alive."""

from __future__ import annotations

from watchbill.adapters.db.engine import Database
from watchbill.app import assembly
from watchbill.app.slices import SLICES
from watchbill.core.clock import Clock
from watchbill.jobs.worker import Worker
from watchbill.settings import Settings


def make_worker(db: Database, clock: Clock, settings: Settings) -> Worker:
    assembly.register_jobs()
    return Worker.from_settings(db, clock, settings)


def start_recurring(db: Database, clock: Clock) -> None:
    """Start the chains of self-rescheduling jobs (idempotent: one per time slot)."""
    assembly.register_jobs()
    now = clock.now()
    with db.engine.begin() as conn:
        for piece in SLICES:
            for target in piece.recurring:
                assembly.load(target)(conn, now)
