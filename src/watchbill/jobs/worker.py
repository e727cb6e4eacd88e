"""The worker: claims due jobs in batches, runs each under a savepoint, settles them.

Several workers (threads or processes) may share one database; on PostgreSQL they
never claim the same row, and a worker that dies leaves leases that expire.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from datetime import timedelta

from sqlalchemy.orm import Session

from watchbill.adapters.db.engine import Database
from watchbill.core.clock import Clock
from watchbill.jobs import queue
from watchbill.jobs.handlers import JobRun, Registry, registry

log = logging.getLogger("watchbill.worker")


class Worker:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        handlers: Registry = registry,
        lease_seconds: float = 60.0,
        batch_size: int = 100,
        poll_seconds: float = 0.5,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.handlers = handlers
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """Claim one batch and settle it; returns how many jobs were claimed."""
        with self.db.transaction() as session:
            jobs = queue.claim(
                session,
                worker=self.name,
                now=self.clock.now(),
                lease=self.lease,
                limit=self.batch_size,
            )
        if not jobs:
            return 0
        with self.db.transaction() as session:
            for job in jobs:
                self._run(session, job)
        return len(jobs)

    def _run(self, session: Session, job: queue.ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        savepoint = session.begin_nested()
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(JobRun(job.id, job.kind, job.payload, job.attempts, session, self.clock))
            if queue.complete(session, job, self.clock.now()):
                savepoint.commit()
            else:
                log.warning("job %s lost its lease; its effects are discarded", job.id)
                savepoint.rollback()
        except Exception as exc:
            savepoint.rollback()
            log.warning("job %s (%s) failed on attempt %s: %s", job.id, job.kind, job.attempts, exc)
            queue.fail(session, job, self.clock.now(), "".join(traceback.format_exception(exc)))

    def run_forever(self) -> None:
        """Drain due jobs, then wait for a wake-up or the poll interval; until stopped."""
        while not self.stopping.is_set():
            try:
                claimed = self.run_once()
            except Exception:
                log.exception("worker %s: claiming failed; retrying", self.name)
                claimed = 0
            if claimed < self.batch_size:
                self.wake.wait(self.poll_seconds)
                self.wake.clear()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="watchbill-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
