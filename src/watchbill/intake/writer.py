"""The intake writer: one thread that commits what many requests submitted, together.

Requests hand their parsed events to the writer and wait; the writer takes everything
queued (up to a limit), resolves the routing keys, applies the events in one
transaction, commits, and only then answers each request. Group commit keeps SQLite's
single writer busy with useful work and turns many small PostgreSQL commits into few.
A batch that fails is retried, then split, so one bad submission cannot fail others.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from watchbill.adapters.db.engine import Database
from watchbill.alerts.ingest import Outcome, Target, ingest
from watchbill.alerts.models import ChangeEvent
from watchbill.alerts.rules import ConfigCache
from watchbill.catalog.models import Service
from watchbill.core.clock import Clock
from watchbill.intake.events import AlertEvent, ChangeEventIn
from watchbill.intake.heartbeat import ping_event
from watchbill.integrations.models import Integration

log = logging.getLogger("watchbill.intake")

integrations_t = Integration.__table__
MAX_BATCH_EVENTS = 5000
RETRIES = 3


class Overloaded(Exception):
    """The writer's queue is full: the caller should answer 429 and the sender retry."""


@dataclass(slots=True)
class Submission:
    """What one request asks for: alert events, a change event, or a heartbeat ping."""

    key: str
    types: tuple[str, ...]
    events: list[AlertEvent] = field(default_factory=list)
    change: ChangeEventIn | None = None
    heartbeat: bool = False
    future: Future[Result] = field(default_factory=Future)


@dataclass(frozen=True, slots=True)
class Result:
    status: str  # ok | unknown_key | wrong_type
    outcomes: list[Outcome] = field(default_factory=list)
    integration_type: str = ""
    service: str = ""


@dataclass(frozen=True, slots=True)
class _Resolved:
    id: int
    service_id: int
    type: str
    name: str
    service: str


class IntakeWriter:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        max_queue: int = 20_000,
        wake_worker: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.queue: queue.Queue[Submission | None] = queue.Queue(maxsize=max_queue)
        self.wake_worker = wake_worker
        self.cache = ConfigCache()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="watchbill-intake", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what was submitted (each waiting request gets its answer), then stop."""
        if self._thread is None:
            return
        self.queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def submit(self, sub: Submission) -> Future[Result]:
        if self._thread is None:
            self.process([sub])
            return sub.future
        try:
            self.queue.put_nowait(sub)
        except queue.Full as exc:
            raise Overloaded from exc
        return sub.future

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch, size = [first], max(1, len(first.events))
            stop = False
            while size < MAX_BATCH_EVENTS:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
                size += max(1, len(nxt.events))
            self.process(batch)
            if stop:
                return

    def process(self, batch: list[Submission]) -> None:
        """Commit the batch and answer every submission in it, whatever happens."""
        for attempt in range(1, RETRIES + 1):
            try:
                with self.db.engine.begin() as conn:
                    results = self._apply(conn, batch)
            except (IntegrityError, OperationalError) as exc:
                # A concurrent writer (another process) won a race on an open alert, or
                # the database was busy: the next attempt sees its commit.
                log.info("intake batch attempt %s failed (%s); retrying", attempt, exc.orig)
                continue
            except Exception as exc:
                if len(batch) > 1:
                    for sub in batch:
                        self.process([sub])
                    return
                log.exception("intake submission failed")
                batch[0].future.set_exception(exc)
                return
            for sub, result in zip(batch, results, strict=True):
                sub.future.set_result(result)
            if self.wake_worker is not None and any(o.opened for r in results for o in r.outcomes):
                # Only a new incident queues a job; waking the worker for repeats would
                # cost a claim transaction per batch for nothing.
                self.wake_worker()
            return
        if len(batch) > 1:
            for sub in batch:
                self.process([sub])
            return
        batch[0].future.set_exception(RuntimeError("the database stayed busy; retry"))

    def _apply(self, conn: Connection, batch: list[Submission]) -> list[Result]:
        now = self.clock.now()
        self.cache.refresh(conn, now)
        resolved = _resolve_keys(conn, {s.key for s in batch}, self.cache.keys)
        results: list[Result | None] = []
        items: list[tuple[Target, AlertEvent]] = []
        spans: list[tuple[int, int]] = []
        changes: list[dict[str, Any]] = []
        pinged: dict[int, _Resolved] = {}
        for sub in batch:
            integ = resolved.get(sub.key)
            if integ is None:
                results.append(Result("unknown_key"))
                spans.append((0, 0))
                continue
            if integ.type not in sub.types:
                results.append(Result("wrong_type", integration_type=integ.type))
                spans.append((0, 0))
                continue
            pinged[integ.id] = integ
            target = Target(integ.service_id, integ.id, f"integration:{integ.service}/{integ.name}")
            start = len(items)
            items.extend((target, ev) for ev in sub.events)
            spans.append((start, len(items)))
            if sub.change is not None:
                changes.append(_change_row(integ, sub.change, now))
            results.append(None)
        items.extend(
            ping_event(resolved[s.key].id, resolved[s.key].service_id, resolved[s.key].service)
            for s in batch
            if s.heartbeat and s.key in resolved and resolved[s.key].type in s.types
        )
        outcomes = ingest(conn, items, now, self.cache)
        if changes:
            conn.execute(_INSERT_CHANGES, changes)
        if pinged:
            conn.execute(_TOUCH, [{"b_id": i, "now": now} for i in pinged])
        final = []
        for sub, result, (start, end) in zip(batch, results, spans, strict=True):
            if result is not None:
                final.append(result)
                continue
            integ = resolved[sub.key]
            final.append(Result("ok", outcomes[start:end], integ.type, integ.service))
        return final


_KEYS = (
    select(
        integrations_t.c.key,
        integrations_t.c.id,
        integrations_t.c.service_id,
        integrations_t.c.type,
        integrations_t.c.name,
        Service.name.label("service"),
    )
    .join(Service, Service.id == integrations_t.c.service_id)
    .where(integrations_t.c.key.in_(bindparam("keys", expanding=True)))
)
_TOUCH = (
    update(integrations_t)
    .where(integrations_t.c.id == bindparam("b_id"))
    .values(last_event_at=bindparam("now"))
)
_INSERT_CHANGES = insert(ChangeEvent.__table__)


def _resolve_keys(
    conn: Connection, keys: set[str], known: dict[str, _Resolved]
) -> dict[str, _Resolved]:
    """The integrations behind the keys; `known` remembers them between batches (unknown
    keys are asked again each time: a key may be created at any moment)."""
    # A key holding NUL (JSON \u0000 or %00 in the URL) is unknown: PostgreSQL refuses it.
    missing = [k for k in keys if k not in known and "\x00" not in k]
    if missing:
        for r in conn.execute(_KEYS, {"keys": missing}):
            known[r.key] = _Resolved(r.id, r.service_id, r.type, r.name, r.service)
    return {k: known[k] for k in keys if k in known}


def _change_row(integ: _Resolved, change: ChangeEventIn, now: Any) -> dict[str, Any]:
    return {
        "service_id": integ.service_id,
        "integration_id": integ.id,
        "summary": change.summary,
        "source": change.source,
        "occurred_at": change.occurred_at or now,
        "details": change.details,
        "links": change.links,
        "raw": change.raw,
        "received_at": now,
    }
