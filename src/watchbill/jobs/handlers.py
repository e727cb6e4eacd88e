"""The registry of job kinds: each domain registers the handler for the kinds it owns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from watchbill.core.clock import Clock


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


Handler = Callable[[JobRun], None]


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            if kind in self._handlers and self._handlers[kind] is not handler:
                raise ValueError(f"job kind {kind!r} already has a handler")
            self._handlers[kind] = handler
            return handler

        return add

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._handlers)


registry = Registry()
