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
OutboundHandler = Callable[[OutboundRun], None]


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._outbound: dict[str, OutboundHandler] = {}

    def register(self, kind: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            if kind in self._outbound or self._handlers.get(kind, handler) is not handler:
                raise ValueError(f"job kind {kind!r} already has a handler")
            self._handlers[kind] = handler
            return handler

        return add

    def register_outbound(self, kind: str) -> Callable[[OutboundHandler], OutboundHandler]:
        """Register a handler that talks to the outside world (see the module docstring)."""

        def add(handler: OutboundHandler) -> OutboundHandler:
            if kind in self._handlers or self._outbound.get(kind, handler) is not handler:
                raise ValueError(f"job kind {kind!r} already has a handler")
            self._outbound[kind] = handler
            return handler

        return add

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    def get_outbound(self, kind: str) -> OutboundHandler | None:
        return self._outbound.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted([*self._handlers, *self._outbound])


registry = Registry()
