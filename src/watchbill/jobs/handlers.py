"""The registry of job kinds: each domain registers the handler for the kinds it owns.

Most handlers run inside the worker's batch transaction. Outbound handlers (sending an
email, calling a webhook) run outside it, between short transactions of their own, so
a slow receiver never holds the database's write lock or the other jobs of a batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from watchbill.adapters.db.engine import Database
from watchbill.core.clock import Clock
from watchbill.jobs.queue import ClaimedJob, hold


@dataclass(frozen=True, slots=True)
class JobRun:
    """What a handler gets: the job, a session whose work commits with the job's
    completion (so effects in the database happen exactly once), and the clock."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    session: Session
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()


@dataclass(frozen=True, slots=True)
class OutboundRun:
    """What an outbound handler gets: no open transaction, the database to open short
    ones, and `held` to check (and lock, for that transaction) its lease before acting."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    lease_token: str
    db: Database
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts

    def held(self, session: Session) -> bool:
        """True while this run still holds the job's lease; the row stays locked until
        `session`'s transaction ends, so no other worker takes it over meanwhile."""
        job = ClaimedJob(
            self.id, self.kind, self.payload, self.attempt, self.max_attempts, self.lease_token
        )
        return self.id in hold(session, [job])


Handler = Callable[[JobRun], None]
BatchHandler = Callable[[list[JobRun]], None]
OutboundHandler = Callable[[OutboundRun], None]


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._batch: dict[str, BatchHandler] = {}
        self._outbound: dict[str, OutboundHandler] = {}

    def _taken(self, kind: str, handler: object) -> bool:
        others = [self._handlers.get(kind), self._batch.get(kind), self._outbound.get(kind)]
        return any(h is not None and h is not handler for h in others)

    def register(self, kind: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            if self._taken(kind, handler):
                raise ValueError(f"job kind {kind!r} already has a handler")
            self._handlers[kind] = handler
            return handler

        return add

    def register_batch(self, kind: str) -> Callable[[BatchHandler], BatchHandler]:
        """Register a handler that takes every claimed job of its kind at once, in the
        batch's transaction, so it can read and write in sets (escalation steps, by the
        thousand when incidents storm). If it fails, its jobs run again one at a time."""

        def add(handler: BatchHandler) -> BatchHandler:
            if self._taken(kind, handler):
                raise ValueError(f"job kind {kind!r} already has a handler")
            self._batch[kind] = handler
            return handler

        return add

    def register_outbound(self, kind: str) -> Callable[[OutboundHandler], OutboundHandler]:
        """Register a handler that talks to the outside world (see the module docstring)."""

        def add(handler: OutboundHandler) -> OutboundHandler:
            if self._taken(kind, handler):
                raise ValueError(f"job kind {kind!r} already has a handler")
            self._outbound[kind] = handler
            return handler

        return add

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    def get_batch(self, kind: str) -> BatchHandler | None:
        return self._batch.get(kind)

    def get_outbound(self, kind: str) -> OutboundHandler | None:
        return self._outbound.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted([*self._handlers, *self._batch, *self._outbound])


registry = Registry()
