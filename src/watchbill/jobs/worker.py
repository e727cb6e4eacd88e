"""The worker: claims due jobs in batches, runs each under a savepoint, settles them.

Several workers (threads or processes) may share one database; on PostgreSQL they
never claim the same row, and a worker that dies leaves leases that expire.

Outbound jobs (sending a page) run on a small pool of threads, a batch's sends at once,
so a slow receiver delays neither the pages beside it nor, for long, the next batch.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from datetime import timedelta

from sqlalchemy.orm import Session

from watchbill.adapters.db.engine import Database
from watchbill.core.clock import Clock
from watchbill.jobs import queue
from watchbill.jobs.handlers import (
    BatchHandler,
    JobRun,
    OutboundHandler,
    OutboundRun,
    Registry,
    registry,
)
from watchbill.settings import Settings

log = logging.getLogger("watchbill.worker")

OUTBOUND_PATIENCE_SECONDS = 0.25
"""How long the loop waits for a batch's outbound jobs before it claims again. Sends
usually take milliseconds, and waiting for them keeps the loop's next claim from
competing with them for the database (not waiting made pages under load twice as
slow); a receiver that hangs holds up the next escalation step no longer than this."""


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
        outbound_threads: int = 8,
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
        self.outbound_threads = outbound_threads
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: set[Future[None]] = set()
        self._settled = threading.Condition()

    @classmethod
    def from_settings(cls, db: Database, clock: Clock, settings: Settings) -> Worker:
        return cls(
            db,
            clock,
            lease_seconds=settings.job_lease_seconds,
            batch_size=settings.job_batch_size,
            poll_seconds=settings.worker_poll_seconds,
            outbound_threads=settings.outbound_threads,
        )

    def run_once(self) -> int:
        """Claim one batch and settle all of it, outbound jobs included; returns how
        many jobs were claimed."""
        jobs = self.claim()
        if jobs:
            wait_for(self.run(jobs))
        return len(jobs)

    def claim(self) -> list[queue.ClaimedJob]:
        """Lease a batch of due jobs in a transaction of its own, so the attempt counts
        even if this process dies while running them."""
        with self.db.transaction() as session:
            return queue.claim(
                session,
                worker=self.name,
                now=self.clock.now(),
                lease=self.lease,
                limit=self.batch_size,
            )

    def run(self, jobs: list[queue.ClaimedJob]) -> list[Future[None]]:
        """Run claimed jobs: in-transaction ones together, now; outbound ones handed to
        the pool, whose futures are returned."""
        inside = [j for j in jobs if self.handlers.get_outbound(j.kind) is None]
        if inside:
            self._run_batch(inside)
        started: list[Future[None]] = []
        for job in jobs:
            outbound = self.handlers.get_outbound(job.kind)
            if outbound is not None:
                started.append(self._start_outbound(job, outbound))
        return started

    def _start_outbound(self, job: queue.ClaimedJob, handler: OutboundHandler) -> Future[None]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.outbound_threads, thread_name_prefix="watchbill-outbound"
            )
        future = self._pool.submit(self._run_outbound, job, handler)
        with self._settled:
            self._in_flight.add(future)
        future.add_done_callback(self._outbound_done)
        return future

    def _outbound_done(self, future: Future[None]) -> None:
        error = None if future.cancelled() else future.exception()
        if error is not None:  # settling failed (the database went away): the lease expires
            log.error("worker %s: an outbound job could not be settled: %s", self.name, error)
        with self._settled:
            self._in_flight.discard(future)
            self._settled.notify_all()

    def _wait_for_room(self) -> None:
        """Claim no more while twice the pool's threads of outbound jobs are waiting:
        claimed jobs hold leases, and a backlog past its leases is claimed again by
        other workers for nothing."""
        with self._settled:
            while len(self._in_flight) >= 2 * self.outbound_threads and not self.stopping.is_set():
                self._settled.wait(self.poll_seconds)

    def _run_batch(self, jobs: list[queue.ClaimedJob]) -> None:
        """Run claimed jobs in one transaction, each under a savepoint, and settle them.

        The rows still leased to us are locked first; a job whose lease was lost is not
        run. A handler's writes commit together with its job's completion, or not at all.
        """
        with self.db.transaction() as session:
            held = queue.hold(session, jobs)
            succeeded: list[queue.ClaimedJob] = []
            for job in jobs:
                if job.id not in held:
                    log.warning("job %s lost its lease before it ran; skipped", job.id)
            runnable = [job for job in jobs if job.id in held]
            for kind, group in itertools.groupby(runnable, key=lambda job: job.kind):
                together = list(group)
                batch = self.handlers.get_batch(kind)
                if (
                    batch is not None
                    and len(together) > 1
                    and self._run_set(session, together, batch)
                ):
                    succeeded.extend(together)
                    continue
                succeeded.extend(job for job in together if self._run(session, job))
            if succeeded:
                done = queue.complete_many(session, succeeded, self.clock.now())
                if len(done) != len(succeeded):
                    # Cannot happen while the rows are locked; if it does, keep nothing.
                    raise RuntimeError(
                        f"jobs {sorted({j.id for j in succeeded} - done)} "
                        "changed hands while locked"
                    )

    def _job_run(self, session: Session, job: queue.ClaimedJob) -> JobRun:
        return JobRun(job.id, job.kind, job.payload, job.attempts, session, self.clock)

    def _run_set(
        self, session: Session, jobs: list[queue.ClaimedJob], handler: BatchHandler
    ) -> bool:
        """Run consecutive jobs of one batch kind together under one savepoint; False
        (nothing kept) if the handler failed, so that they run again one at a time."""
        savepoint = session.begin_nested()
        try:
            handler([self._job_run(session, job) for job in jobs])
            session.flush()
        except Exception as exc:
            savepoint.rollback()
            log.warning("%s jobs (%s) failed together: %s", len(jobs), jobs[0].kind, exc)
            return False
        savepoint.commit()
        return True

    def _run(self, session: Session, job: queue.ClaimedJob) -> bool:
        """Run one job's handler under a savepoint; True if it succeeded."""
        handler = self.handlers.get(job.kind)
        batch = self.handlers.get_batch(job.kind)
        savepoint = session.begin_nested()
        try:
            if handler is not None:
                handler(self._job_run(session, job))
            elif batch is not None:
                batch([self._job_run(session, job)])
            else:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            session.flush()
        except Exception as exc:
            savepoint.rollback()
            log.warning("job %s (%s) failed on attempt %s: %s", job.id, job.kind, job.attempts, exc)
            queue.fail(session, job, self.clock.now(), "".join(traceback.format_exception(exc)))
            return False
        savepoint.commit()
        return True

    def _run_outbound(self, job: queue.ClaimedJob, handler: OutboundHandler) -> None:
        """Run an outbound handler with no transaction open, then settle its job.

        The handler keeps its own effects idempotent (it checks `held` and its own
        records); completion is a short transaction that checks the lease.
        """
        run = OutboundRun(
            job.id,
            job.kind,
            job.payload,
            job.attempts,
            job.max_attempts,
            job.lease_token,
            self.db,
            self.clock,
        )
        try:
            handler(run)
        except Exception as exc:  # an outbound job fails alone, on its own thread
            log.warning("job %s (%s) failed on attempt %s: %s", job.id, job.kind, job.attempts, exc)
            with self.db.transaction() as session:
                queue.fail(session, job, self.clock.now(), "".join(traceback.format_exception(exc)))
            return
        with self.db.transaction() as session:
            if not queue.complete(session, job, self.clock.now()):
                log.warning("job %s lost its lease while it ran; not completed", job.id)

    def run_forever(self) -> None:
        """Drain due jobs, then wait for a wake-up or the poll interval; until stopped,
        when the outbound jobs already started are let finish."""
        while not self.stopping.is_set():
            # Clear before looking, so a wake-up that comes while a batch runs is kept.
            self.wake.clear()
            self._wait_for_room()
            try:
                jobs = self.claim()
                if jobs:
                    wait_for(self.run(jobs), timeout=OUTBOUND_PATIENCE_SECONDS)
                claimed = len(jobs)
            except Exception:
                log.exception("worker %s: running a batch failed; retrying", self.name)
                claimed = 0
            # Look again at once after any work: the jobs just run may have queued
            # jobs due now (an escalation step queues its notifications), and a
            # notification waiting a poll interval is a page half a second late.
            if claimed == 0 and not self.stopping.is_set():
                self.wake.wait(self._idle_seconds())
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _idle_seconds(self) -> float:
        """How long to sleep with nothing due: until the next job comes due, so that an
        escalation timer fires on time rather than up to a poll interval late; at most
        the poll interval, for jobs queued by processes that cannot wake this one."""
        try:
            with self.db.read() as session:
                due = queue.next_due(session)
        except Exception:
            log.exception("worker %s: looking for the next due job failed", self.name)
            return self.poll_seconds
        if due is None:
            return self.poll_seconds
        until = (due - self.clock.now()).total_seconds() + 0.001
        return min(self.poll_seconds, max(0.0, until))

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="watchbill-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
