"""Worker.run_once: a handler's writes commit with its job's completion, or not at all."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from tests.jobs import effects
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.core.backoff import retry_delay
from watchbill.core.clock import FakeClock
from watchbill.jobs import queue
from watchbill.jobs.handlers import JobRun, Registry, registry
from watchbill.jobs.models import DONE, FAILED, PENDING, RUNNING, Job
from watchbill.jobs.worker import Worker

LEASE = 30.0


def add(db: Database, clock: FakeClock, kind: str, **kwargs: object) -> int:
    with db.transaction() as session:
        job_id = queue.enqueue(
            session, kind=kind, payload=kwargs.pop("payload", {}), now=clock.now(), **kwargs
        )  # type: ignore[arg-type]
    assert job_id is not None
    return job_id


def row(db: Database, job_id: int) -> Job:
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def make_worker(
    db: Database, clock: FakeClock, handlers: Registry, name: str = "w1", batch_size: int = 10
) -> Worker:
    return Worker(
        db,
        clock,
        handlers=handlers,
        lease_seconds=LEASE,
        batch_size=batch_size,
        poll_seconds=30.0,
        name=name,
    )


@pytest.fixture
def handlers() -> Registry:
    """A registry of this test's own: the global one belongs to the application."""
    own = Registry()

    @own.register("effect")
    def effect(run: JobRun) -> None:
        effects.record(run, "effect")

    @own.register("effect-then-raise")
    def effect_then_raise(run: JobRun) -> None:
        effects.record(run, "doomed")
        raise RuntimeError(f"handler broke on attempt {run.attempt}")

    @own.register("nul-in-error")
    def nul_in_error(run: JobRun) -> None:
        # PostgreSQL refuses NUL in text: storing this error as is would fail the batch.
        effects.record(run, "doomed")
        raise ValueError("bad byte \x00 from a peer")

    @own.register("duplicate-effect")
    def duplicate_effect(run: JobRun) -> None:
        # A database error mid-handler: on PostgreSQL it aborts the transaction up to
        # the savepoint, which must not take the rest of the batch down with it.
        effects.record(run, "first")
        effects.record(run, "second")

    @own.register("orm-flush-fails")
    def orm_flush_fails(run: JobRun) -> None:
        effects.record(run, "orm")
        # An ORM object whose INSERT fails only when the worker flushes it.
        run.session.add(
            Job(
                kind="x",
                payload={},
                idempotency_key=run.payload["key"],
                status=PENDING,
                run_at=run.now(),
                created_at=run.now(),
            )
        )

    @own.register("spawn")
    def spawn(run: JobRun) -> None:
        # The usual shape of a handler: write domain state and enqueue a follow-up.
        effects.record(run, "spawn")
        queue.enqueue(
            run.session,
            kind="effect",
            payload={"from": run.id},
            now=run.now(),
            idempotency_key=f"follow-up-{run.id}",
        )

    return own


def test_run_once_commits_handler_writes_with_completion(
    db: Database, clock: FakeClock, handlers: Registry, effects_engine: Engine
) -> None:
    ids = [add(db, clock, "effect") for _ in range(3)]
    parent = add(db, clock, "spawn")
    worker = make_worker(db, clock, handlers)
    clock.advance(2)

    assert worker.run_once() == 4
    assert effects.rows(effects_engine) == {
        ids[0]: ("effect", 1),
        ids[1]: ("effect", 1),
        ids[2]: ("effect", 1),
        parent: ("spawn", 1),
    }
    for job_id in [*ids, parent]:
        stored = row(db, job_id)
        assert (stored.status, stored.attempts, stored.finished_at) == (DONE, 1, clock.now())
        assert stored.lease_token is None
    with db.read() as session:
        child = session.scalars(select(Job).where(Job.idempotency_key == f"follow-up-{parent}"))
        [follow_up] = child.all()
    assert follow_up.status == PENDING and follow_up.payload == {"from": parent}

    assert worker.run_once() == 1  # the follow-up, enqueued by the handler
    assert row(db, follow_up.id).status == DONE
    assert worker.run_once() == 0
    assert effects.count(effects_engine) == 5


@pytest.mark.parametrize(
    "bad_kind", ["effect-then-raise", "nul-in-error", "duplicate-effect", "orm-flush-fails"]
)
def test_a_failing_handler_is_rolled_back_alone_and_retried(
    db: Database, clock: FakeClock, handlers: Registry, effects_engine: Engine, bad_kind: str
) -> None:
    before = add(db, clock, "effect")
    bad = add(db, clock, bad_kind, payload={"key": "taken"}, max_attempts=3)
    add(db, clock, "effect", idempotency_key="taken")  # what the ORM handler collides with
    after_id = add(db, clock, "effect")
    worker = make_worker(db, clock, handlers)

    assert worker.run_once() == 4
    stored = row(db, bad)
    assert stored.status == PENDING
    assert stored.attempts == 1
    assert stored.run_at == clock.now() + timedelta(seconds=retry_delay(1))
    assert stored.lease_token is None
    assert stored.last_error
    assert set(effects.rows(effects_engine)) == {before, bad + 1, after_id}  # not `bad`
    assert row(db, before).status == DONE and row(db, after_id).status == DONE

    # It is retried when its backoff is over, and gives up after max_attempts.
    assert worker.run_once() == 0
    clock.advance(retry_delay(1))
    assert worker.run_once() == 1
    assert row(db, bad).run_at == clock.now() + timedelta(seconds=retry_delay(2))
    clock.advance(retry_delay(2))
    assert worker.run_once() == 1
    final = row(db, bad)
    assert (final.status, final.attempts, final.finished_at) == (FAILED, 3, clock.now())
    clock.advance(days=1)
    assert worker.run_once() == 0
    assert bad not in effects.rows(effects_engine)


def test_error_text_names_the_failure(
    db: Database, clock: FakeClock, handlers: Registry, effects_engine: Engine
) -> None:
    bad = add(db, clock, "effect-then-raise")
    make_worker(db, clock, handlers).run_once()
    error = row(db, bad).last_error
    assert error is not None
    assert "RuntimeError: handler broke on attempt 1" in error
    assert "Traceback" in error


def test_an_unknown_kind_fails_with_a_retry(
    db: Database, clock: FakeClock, handlers: Registry, effects_engine: Engine
) -> None:
    job_id = add(db, clock, "nobody.handles.this")
    ok = add(db, clock, "effect")
    assert make_worker(db, clock, handlers).run_once() == 2
    stored = row(db, job_id)
    assert stored.status == PENDING
    assert stored.attempts == 1
    assert stored.run_at == clock.now() + timedelta(seconds=retry_delay(1))
    assert "nobody.handles.this" in (stored.last_error or "")
    assert row(db, ok).status == DONE
    assert "nobody.handles.this" not in registry.kinds


def test_a_job_whose_lease_was_lost_has_no_effect(
    db: Database, clock: FakeClock, handlers: Registry, effects_engine: Engine
) -> None:
    lost, kept = add(db, clock, "effect"), add(db, clock, "effect")
    slow = make_worker(db, clock, handlers, name="slow")
    claimed = slow.claim()
    assert [j.id for j in claimed] == [lost, kept]

    # The slow worker stalls past its lease; another worker takes one of the jobs over.
    clock.advance(LEASE)
    with db.transaction() as session:
        [stolen] = queue.claim(
            session, worker="fast", now=clock.now(), lease=timedelta(seconds=LEASE), limit=1
        )
    assert stolen.id == lost

    slow.run(claimed)
    assert effects.rows(effects_engine) == {kept: ("effect", 1)}
    stored = row(db, lost)
    assert (stored.status, stored.lease_token, stored.attempts) == (RUNNING, stolen.lease_token, 2)
    with db.transaction() as session:
        assert queue.complete(session, claimed[0], clock.now()) is False
    assert row(db, lost).status == RUNNING

    # The new holder runs it, and its effect lands once.
    fast = make_worker(db, clock, handlers, name="fast")
    fast.run([stolen])
    assert row(db, lost).status == DONE
    assert effects.rows(effects_engine) == {kept: ("effect", 1), lost: ("effect", 2)}


def test_a_running_batch_keeps_its_jobs_past_the_lease_on_postgres(
    db: Database, clock: FakeClock, effects_engine: Engine
) -> None:
    """While a batch runs its rows are locked: a claim after the lease passes them by."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer: no claim can run beside a batch at all")
    seen: list[list[int]] = []
    own = Registry()

    @own.register("steal-attempt")
    def steal_attempt(run: JobRun) -> None:
        effects.record(run, "w1")
        clock.advance(LEASE * 2)
        with db.transaction() as other:  # another connection: another worker
            seen.append(
                [
                    j.id
                    for j in queue.claim(
                        other,
                        worker="w2",
                        now=clock.now(),
                        lease=timedelta(seconds=LEASE),
                        limit=10,
                    )
                ]
            )

    job_id = add(db, clock, "steal-attempt")
    assert make_worker(db, clock, own).run_once() == 1
    assert seen == [[]]
    assert row(db, job_id).status == DONE
    assert effects.rows(effects_engine) == {job_id: ("w1", 1)}


def test_batch_size_bounds_a_claim(
    db: Database, clock: FakeClock, handlers: Registry, effects_engine: Engine
) -> None:
    for _ in range(5):
        add(db, clock, "effect")
    worker = make_worker(db, clock, handlers, batch_size=2)
    assert [worker.run_once() for _ in range(4)] == [2, 2, 1, 0]
    assert effects.count(effects_engine) == 5


def test_the_thread_wakes_on_demand_and_stops(
    db: Database, clock: FakeClock, handlers: Registry, effects_engine: Engine
) -> None:
    worker = make_worker(db, clock, handlers)  # polls every 30 s: only a wake is quick
    thread = worker.start_thread()
    try:
        for _ in range(3):
            job_id = add(db, clock, "effect")
            worker.wake.set()
            deadline = time.monotonic() + 10
            while row(db, job_id).status != DONE:
                assert time.monotonic() < deadline, "the worker did not wake up"
                time.sleep(0.01)
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert isinstance(thread, threading.Thread)
    assert effects.count(effects_engine) == 3


def test_a_job_queued_by_a_job_runs_without_waiting_for_the_poll(
    db: Database, clock: FakeClock, handlers: Registry, effects_engine: Engine
) -> None:
    """An escalation step queues its notifications due now: they must not wait a poll
    interval (30 s here) for the worker to look again."""
    worker = make_worker(db, clock, handlers)
    thread = worker.start_thread()
    try:
        spawner = add(db, clock, "spawn")
        worker.wake.set()
        deadline = time.monotonic() + 10
        while effects.count(effects_engine) < 2:
            assert time.monotonic() < deadline, "the follow-up waited for the poll interval"
            time.sleep(0.01)
        assert row(db, spawner).status == DONE
    finally:
        worker.stop()
        thread.join(timeout=10)


def test_a_batch_handler_gets_its_jobs_together_and_a_failure_isolates_the_bad_one(
    db: Database, clock: FakeClock, effects_engine: Engine
) -> None:
    """Escalation steps run in sets; one bad job must not keep the others from running."""
    own = Registry()
    calls: list[list[int]] = []

    @own.register_batch("together")
    def together(runs: list[JobRun]) -> None:
        calls.append([run.payload["n"] for run in runs])
        for run in runs:
            if run.payload["n"] == 2:
                raise RuntimeError("job 2 is broken")
            effects.record(run, "together")

    ids = [add(db, clock, "together", payload={"n": n}) for n in range(4)]
    worker = make_worker(db, clock, own)
    assert worker.run_once() == 4
    # Once all four at once (rolled back: job 2 failed), then one at a time.
    assert calls == [[0, 1, 2, 3], [0], [1], [2], [3]]
    assert [row(db, i).status for i in ids] == [DONE, DONE, PENDING, DONE]
    assert effects.count(effects_engine) == 3
    assert "job 2 is broken" in (row(db, ids[2]).last_error or "")


def test_a_kind_has_one_handler_of_one_sort(handlers: Registry) -> None:
    with pytest.raises(ValueError, match="already has a handler"):
        handlers.register_batch("effect")(lambda runs: None)


def test_next_due_is_the_earliest_pending_run_or_lease_end(db: Database, clock: FakeClock) -> None:
    with db.read() as session:
        assert queue.next_due(session) is None
    add(db, clock, "effect", run_at=clock.now() + timedelta(minutes=5))
    add(db, clock, "effect", run_at=clock.now() + timedelta(minutes=9))
    with db.read() as session:
        assert queue.next_due(session) == clock.now() + timedelta(minutes=5)
    clock.advance(minutes=9)
    lease = timedelta(seconds=LEASE)
    for expected in (clock.now(), clock.now() + lease):
        # A worker claims one and dies: that job is due again when its lease ends.
        with db.transaction() as session:
            queue.claim(session, worker="gone", now=clock.now(), lease=lease, limit=1)
        with db.read() as session:
            assert queue.next_due(session) == expected


def test_an_idle_worker_wakes_when_the_next_job_comes_due_not_at_the_next_poll(
    db: Database, handlers: Registry, effects_engine: Engine
) -> None:
    """An escalation step due in a moment must not wait out a poll interval (30 s)."""
    worker = Worker(db, system_clock, handlers=handlers, poll_seconds=30.0, name="timely")
    thread = worker.start_thread()
    try:
        time.sleep(0.05)  # the worker has looked, found nothing, and gone to sleep
        due = system_clock.now() + timedelta(seconds=0.3)
        with db.transaction() as session:
            queue.enqueue(session, kind="effect", payload={}, now=due, run_at=due)
        worker.wake.set()  # as the enqueueing process would; the job is not due yet
        deadline = time.monotonic() + 10
        while effects.count(effects_engine) < 1:
            assert time.monotonic() < deadline, "the due job waited for the poll interval"
            time.sleep(0.01)
        assert system_clock.now() >= due
    finally:
        worker.stop()
        thread.join(timeout=10)
