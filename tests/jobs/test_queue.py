"""The queue's operations on SQLite and PostgreSQL, with a hand-driven clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from watchbill.adapters.db.engine import Database
from watchbill.core.backoff import retry_delay
from watchbill.core.clock import FakeClock
from watchbill.jobs import queue
from watchbill.jobs.models import CANCELLED, DONE, FAILED, PENDING, RUNNING, Job

LEASE = timedelta(seconds=30)


def add(db: Database, clock: FakeClock, kind: str = "test.kind", **kwargs: object) -> int:
    with db.transaction() as session:
        job_id = queue.enqueue(
            session,
            kind=kind,
            payload=kwargs.pop("payload", {"k": kind}),
            now=clock.now(),
            **kwargs,  # type: ignore[arg-type]
        )
    assert job_id is not None
    return job_id


def claim(
    db: Database, clock: FakeClock, worker: str = "w1", limit: int = 10, lease: timedelta = LEASE
) -> list[queue.ClaimedJob]:
    with db.transaction() as session:
        return queue.claim(session, worker=worker, now=clock.now(), lease=lease, limit=limit)


def row(db: Database, job_id: int) -> Job:
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def count_jobs(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


# --- enqueue -------------------------------------------------------------------------


def test_enqueue_returns_the_id_of_a_pending_due_job(db: Database, clock: FakeClock) -> None:
    first = add(db, clock, payload={"a": [1, 2]}, max_attempts=3)
    second = add(db, clock)
    assert isinstance(first, int) and isinstance(second, int)
    assert first != second
    job = row(db, first)
    assert (job.kind, job.payload, job.status) == ("test.kind", {"a": [1, 2]}, PENDING)
    assert (job.attempts, job.max_attempts) == (0, 3)
    assert job.run_at == clock.now() and job.created_at == clock.now()
    assert job.lease_token is None and job.finished_at is None


def test_the_same_idempotency_key_twice_adds_one_row(db: Database, clock: FakeClock) -> None:
    with db.transaction() as session:
        first = queue.enqueue(
            session, kind="a", payload={"n": 1}, now=clock.now(), idempotency_key="k1"
        )
    with db.transaction() as session:
        again = queue.enqueue(
            session, kind="a", payload={"n": 2}, now=clock.now(), idempotency_key="k1"
        )
        other = queue.enqueue(
            session, kind="a", payload={"n": 3}, now=clock.now(), idempotency_key="k2"
        )
    assert isinstance(first, int)
    assert again is None
    assert isinstance(other, int) and other != first
    assert count_jobs(db) == 2
    assert row(db, first).payload == {"n": 1}  # the first one wins; nothing is overwritten


def test_many_at_once_keep_their_fields_and_skip_keys_seen_before(
    db: Database, clock: FakeClock
) -> None:
    first = add(db, clock, idempotency_key="seen")
    later = clock.now() + timedelta(minutes=5)
    with db.transaction() as session:
        queue.enqueue_many(
            session,
            [
                {"kind": "a", "payload": {"n": 1}, "idempotency_key": "seen"},
                {"kind": "b", "payload": {"n": 2}, "run_at": later, "max_attempts": 3},
                {"kind": "c", "payload": {"n": 3}, "idempotency_key": "new"},
            ],
            clock.now(),
        )
        queue.enqueue_many(session, [], clock.now())
    assert count_jobs(db) == 3
    with db.read() as session:
        jobs = {j.kind: j for j in session.scalars(select(Job).where(Job.id != first))}
    assert set(jobs) == {"b", "c"}
    assert (jobs["b"].run_at, jobs["b"].max_attempts, jobs["b"].status) == (later, 3, PENDING)
    assert (jobs["c"].run_at, jobs["c"].idempotency_key) == (clock.now(), "new")
    assert row(db, first).payload == {"k": "test.kind"}  # the first one wins


def test_the_key_stays_taken_after_the_job_finished(db: Database, clock: FakeClock) -> None:
    job_id = add(db, clock, idempotency_key="once")
    [job] = claim(db, clock)
    with db.transaction() as session:
        assert queue.complete(session, job, clock.now())
    with db.transaction() as session:
        assert (
            queue.enqueue(session, kind="a", payload={}, now=clock.now(), idempotency_key="once")
            is None
        )
    assert count_jobs(db) == 1
    assert row(db, job_id).status == DONE


# --- claim ---------------------------------------------------------------------------


def test_claim_takes_only_due_jobs_in_run_at_order(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    # Ids and run_at disagree on the order, so the test sees which one claim follows.
    late = add(db, clock, run_at=now)
    earliest = add(db, clock, run_at=now - timedelta(seconds=30))
    middle = add(db, clock, run_at=now - timedelta(seconds=20))
    future = add(db, clock, run_at=now + timedelta(seconds=10))

    assert {j.id for j in claim(db, clock, limit=2)} == {earliest, middle}
    assert [j.id for j in claim(db, clock, limit=10)] == [late]
    assert claim(db, clock, limit=10) == []
    clock.advance(9)
    assert claim(db, clock) == []
    clock.advance(1)
    assert [j.id for j in claim(db, clock)] == [future]


def test_claim_merges_expired_leases_and_pending_jobs_by_run_at(
    db: Database, clock: FakeClock
) -> None:
    start = clock.now()
    # Three jobs claimed at start: their leases end at start + 30 s.
    expired = [add(db, clock) for _ in range(3)]
    assert len(claim(db, clock, limit=3)) == 3
    # Pending jobs due on both sides of that instant.
    before = add(db, clock, run_at=start + timedelta(seconds=20))
    after = [add(db, clock, run_at=start + timedelta(seconds=s)) for s in (40, 50)]
    clock.set(start + timedelta(seconds=60))

    first = claim(db, clock, worker="w2", limit=4)
    assert {j.id for j in first} == {before, *expired}
    assert {j.attempts for j in first if j.id in expired} == {2}
    assert [j.id for j in claim(db, clock, worker="w2", limit=4)] == after


def test_claim_respects_the_limit(db: Database, clock: FakeClock) -> None:
    ids = [add(db, clock) for _ in range(5)]
    first = claim(db, clock, limit=3)
    second = claim(db, clock, limit=3)
    assert len(first) == 3 and len(second) == 2
    assert sorted(j.id for j in first + second) == ids
    assert claim(db, clock, limit=0) == []


def test_claim_leases_the_job(db: Database, clock: FakeClock) -> None:
    job_id = add(db, clock, payload={"x": 1}, max_attempts=4)
    [job] = claim(db, clock, worker="host:1")
    assert (job.id, job.kind, job.payload, job.attempts, job.max_attempts) == (
        job_id,
        "test.kind",
        {"x": 1},
        1,
        4,
    )
    stored = row(db, job_id)
    assert stored.status == RUNNING
    assert stored.lease_token == job.lease_token and len(job.lease_token) == 32
    assert stored.lease_until == clock.now() + LEASE
    assert stored.run_at == clock.now() + LEASE
    assert stored.locked_by == "host:1"
    assert stored.attempts == 1


def test_a_claimed_job_is_claimed_again_only_after_its_lease(
    db: Database, clock: FakeClock
) -> None:
    job_id = add(db, clock)
    [first] = claim(db, clock, worker="w1")
    clock.advance((LEASE - timedelta(seconds=1)).total_seconds())
    assert claim(db, clock, worker="w2") == []
    clock.advance(1)
    [second] = claim(db, clock, worker="w2")
    assert second.id == job_id
    assert second.attempts == 2
    assert second.lease_token != first.lease_token
    assert row(db, job_id).locked_by == "w2"


@pytest.mark.parametrize("status", [DONE, FAILED, CANCELLED])
def test_finished_jobs_are_never_claimed(db: Database, clock: FakeClock, status: str) -> None:
    job_id = add(db, clock, idempotency_key="k")
    if status == CANCELLED:
        with db.transaction() as session:
            assert queue.cancel(session, "k", clock.now())
    else:
        [job] = claim(db, clock)
        with db.transaction() as session:
            if status == DONE:
                assert queue.complete(session, job, clock.now())
            else:
                job = queue.ClaimedJob(job.id, job.kind, job.payload, 1, 1, job.lease_token)
                assert queue.fail(session, job, clock.now(), "boom")
    assert row(db, job_id).status == status
    clock.advance(days=365)
    assert claim(db, clock) == []


# --- complete ------------------------------------------------------------------------


def test_complete_marks_done_and_clears_the_lease(db: Database, clock: FakeClock) -> None:
    job_id = add(db, clock)
    [job] = claim(db, clock)
    clock.advance(5)
    with db.transaction() as session:
        assert queue.complete(session, job, clock.now()) is True
    stored = row(db, job_id)
    assert stored.status == DONE
    assert stored.finished_at == clock.now()
    assert stored.lease_token is None and stored.lease_until is None
    with db.transaction() as session:
        assert queue.complete(session, job, clock.now()) is False  # not twice


def test_complete_with_a_stale_lease_token_changes_nothing(db: Database, clock: FakeClock) -> None:
    job_id = add(db, clock)
    [stale] = claim(db, clock, worker="w1")
    clock.advance(LEASE.total_seconds())
    [fresh] = claim(db, clock, worker="w2")
    before = row(db, job_id)

    with db.transaction() as session:
        assert queue.complete(session, stale, clock.now()) is False
        assert queue.fail(session, stale, clock.now(), "late") is False
    after = row(db, job_id)
    for column in (c.key for c in Job.__table__.columns):
        assert getattr(after, column) == getattr(before, column), column
    assert after.status == RUNNING and after.lease_token == fresh.lease_token

    with db.transaction() as session:
        assert queue.complete(session, fresh, clock.now()) is True
    assert row(db, job_id).status == DONE


# --- fail ----------------------------------------------------------------------------


def test_fail_backs_off_exponentially_then_gives_up(db: Database, clock: FakeClock) -> None:
    job_id = add(db, clock, max_attempts=4)
    for attempt in range(1, 4):
        [job] = claim(db, clock)
        assert job.attempts == attempt
        with db.transaction() as session:
            assert queue.fail(session, job, clock.now(), f"error {attempt}") is True
        stored = row(db, job_id)
        expected = clock.now() + timedelta(seconds=retry_delay(attempt))
        assert stored.status == PENDING
        assert stored.run_at == expected
        assert stored.last_error == f"error {attempt}"
        assert stored.lease_token is None and stored.finished_at is None
        # Not before the delay is up, and then exactly on time.
        clock.set(expected - timedelta(milliseconds=1))
        assert claim(db, clock) == []
        clock.set(expected)

    [job] = claim(db, clock)
    assert job.attempts == 4
    with db.transaction() as session:
        assert queue.fail(session, job, clock.now(), "x" * 5000) is True
    stored = row(db, job_id)
    assert stored.status == FAILED
    assert stored.finished_at == clock.now()
    assert stored.last_error == "x" * 4000  # kept, but bounded
    assert stored.attempts == 4
    clock.advance(days=30)
    assert claim(db, clock) == []


def test_backoff_doubles_between_retries(db: Database, clock: FakeClock) -> None:
    job_id = add(db, clock)
    delays = []
    for _ in range(4):
        [job] = claim(db, clock)
        failed_at = clock.now()
        with db.transaction() as session:
            queue.fail(session, job, failed_at, "again")
        run_at = row(db, job_id).run_at
        delays.append((run_at - failed_at).total_seconds())
        clock.set(run_at)
    assert delays == [1.0, 2.0, 4.0, 8.0]


# --- cancel --------------------------------------------------------------------------


def test_cancel_affects_only_pending_jobs(db: Database, clock: FakeClock) -> None:
    pending = add(db, clock, idempotency_key="pending", run_at=clock.now() + LEASE)
    running = add(db, clock, idempotency_key="running")
    done = add(db, clock, idempotency_key="done")
    untouched = add(db, clock, idempotency_key="other", run_at=clock.now() + LEASE)
    jobs = {j.id: j for j in claim(db, clock)}
    assert set(jobs) == {running, done}
    with db.transaction() as session:
        assert queue.complete(session, jobs[done], clock.now())

    clock.advance(1)
    with db.transaction() as session:
        assert queue.cancel(session, "pending", clock.now()) is True
        assert queue.cancel(session, "pending", clock.now()) is False  # already cancelled
        assert queue.cancel(session, "running", clock.now()) is False
        assert queue.cancel(session, "done", clock.now()) is False
        assert queue.cancel(session, "no-such-key", clock.now()) is False

    assert (row(db, pending).status, row(db, pending).finished_at) == (CANCELLED, clock.now())
    assert row(db, running).status == RUNNING
    assert row(db, done).status == DONE
    assert row(db, untouched).status == PENDING
    clock.advance(days=1)
    assert {j.id for j in claim(db, clock)} == {untouched, running}


# --- depth ---------------------------------------------------------------------------


def test_depth_counts_by_state(db: Database, clock: FakeClock) -> None:
    def depth() -> dict[str, int]:
        with db.read() as session:
            return queue.depth(session, clock.now())

    assert depth() == {"pending": 0, "running": 0, "failed": 0, "due": 0}
    a, b, c = (add(db, clock) for _ in range(3))
    add(db, clock, run_at=clock.now() + timedelta(minutes=5))
    assert depth() == {"pending": 4, "running": 0, "failed": 0, "due": 3}

    jobs = {j.id: j for j in claim(db, clock, limit=3)}
    assert set(jobs) == {a, b, c}
    assert depth() == {"pending": 1, "running": 3, "failed": 0, "due": 0}

    with db.transaction() as session:
        queue.complete(session, jobs[a], clock.now())
        gone = queue.ClaimedJob(b, "test.kind", {}, 1, 1, jobs[b].lease_token)
        queue.fail(session, gone, clock.now(), "final")
    assert depth() == {"pending": 1, "running": 1, "failed": 1, "due": 0}

    clock.advance(LEASE.total_seconds())  # c's lease ran out: due again
    assert depth() == {"pending": 1, "running": 1, "failed": 1, "due": 1}
    clock.advance(minutes=5)
    assert depth() == {"pending": 1, "running": 1, "failed": 1, "due": 2}


# --- hold and complete_many (what the worker settles a batch with) --------------------


def test_hold_keeps_only_jobs_still_leased_to_us(db: Database, clock: FakeClock) -> None:
    ids = [add(db, clock) for _ in range(3)]
    mine = claim(db, clock, worker="w1")
    clock.advance(LEASE.total_seconds())
    [taken] = claim(db, clock, worker="w2", limit=1)
    assert taken.id == ids[0]
    with db.transaction() as session:
        assert queue.hold(session, mine) == {ids[1], ids[2]}
        assert queue.hold(session, []) == set()
        assert queue.complete_many(session, mine, clock.now()) == {ids[1], ids[2]}
        assert queue.complete_many(session, mine, clock.now()) == set()
    assert [row(db, i).status for i in ids] == [RUNNING, DONE, DONE]
    assert row(db, ids[0]).lease_token == taken.lease_token


def test_hold_does_not_wait_for_a_row_another_worker_holds(db: Database, clock: FakeClock) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer: two batches never overlap")
    ids = [add(db, clock) for _ in range(2)]
    mine = claim(db, clock, worker="w1")
    clock.advance(LEASE.total_seconds())
    [theirs] = claim(db, clock, worker="w2", limit=1)
    with db.transaction() as other:
        assert queue.hold(other, [theirs]) == {ids[0]}  # w2 runs its batch: the row is locked
        with db.transaction() as session:
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
            assert queue.hold(session, mine) == {ids[1]}
