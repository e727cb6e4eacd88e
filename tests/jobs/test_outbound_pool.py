"""Outbound jobs run on the worker's pool: a receiver that hangs holds up neither the
jobs behind it nor the next batch, and the worker claims no more than the pool can
start soon."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.jobs.test_worker import add, row
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.jobs.handlers import JobRun, OutboundRun, Registry
from watchbill.jobs.models import DONE, PENDING, RUNNING
from watchbill.jobs.worker import Worker

WAIT = 10.0


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


class Gate:
    """An outbound receiver that hangs until the test lets it answer."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Semaphore(0)
        self.sent: list[int] = []

    def hang(self, run: OutboundRun) -> None:
        self.entered.release()
        assert self.open.wait(WAIT)
        self.sent.append(run.id)


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate()
    yield g
    g.open.set()  # never leave a pool thread hanging


def registry_with(gate: Gate, fast: list[int]) -> Registry:
    own = Registry()
    own.register_outbound("hang")(gate.hang)
    own.register_outbound("fast")(lambda run: fast.append(run.id))

    @own.register("step")
    def step(run: JobRun) -> None:
        fast.append(run.id)

    return own


def running_worker(
    db: Database, clock: FakeClock, handlers: Registry, *, batch_size: int, threads: int
) -> tuple[Worker, threading.Thread]:
    worker = Worker(
        db,
        clock,
        handlers=handlers,
        batch_size=batch_size,
        poll_seconds=0.05,
        outbound_threads=threads,
        name="pool",
    )
    return worker, worker.start_thread()


def test_a_hanging_receiver_delays_neither_other_pages_nor_the_next_step(
    db: Database, clock: FakeClock, gate: Gate
) -> None:
    fast: list[int] = []
    hung = add(db, clock, "hang")
    worker, thread = running_worker(db, clock, registry_with(gate, fast), batch_size=10, threads=4)
    try:
        assert gate.entered.acquire(timeout=WAIT)
        page = add(db, clock, "fast")
        step = add(db, clock, "step")
        worker.wake.set()
        until(lambda: row(db, page).status == DONE, "a page waited behind a hanging one")
        until(lambda: row(db, step).status == DONE, "a step waited behind a hanging page")
        assert row(db, hung).status == RUNNING and gate.sent == []
        gate.open.set()
        until(lambda: row(db, hung).status == DONE, "the hanging page was not settled")
    finally:
        worker.stop()
        thread.join(timeout=WAIT)
    assert sorted(fast) == [page, step] and gate.sent == [hung]


def test_no_more_is_claimed_than_the_pool_can_start_soon(
    db: Database, clock: FakeClock, gate: Gate
) -> None:
    jobs = [add(db, clock, "hang") for _ in range(5)]
    worker, thread = running_worker(db, clock, registry_with(gate, []), batch_size=1, threads=1)
    try:
        assert gate.entered.acquire(timeout=WAIT)
        until(lambda: [row(db, j).status for j in jobs].count(RUNNING) == 2, "no second claim")
        time.sleep(0.3)  # six poll intervals: a worker without back-pressure claims more
        statuses = [row(db, j).status for j in jobs]
        assert (statuses.count(RUNNING), statuses.count(PENDING)) == (2, 3)
        gate.open.set()
        until(lambda: all(row(db, j).status == DONE for j in jobs), "the backlog did not drain")
    finally:
        worker.stop()
        thread.join(timeout=WAIT)
    assert sorted(gate.sent) == jobs
    assert not thread.is_alive()
