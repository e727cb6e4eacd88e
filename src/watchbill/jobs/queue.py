"""Enqueueing, claiming and settling jobs.

A claim moves a job to `running` with a fresh lease token and pushes its `run_at` to
the end of the lease, so one index (status, run_at) finds both due jobs and jobs whose
worker died. Settling checks the token: a worker that lost its lease changes nothing.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    Table,
    Update,
    any_,
    bindparam,
    func,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from watchbill.adapters.db.bulk import insert_rows
from watchbill.core.backoff import retry_delay
from watchbill.jobs.models import CANCELLED, DONE, FAILED, PENDING, RUNNING, Job


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    lease_token: str


def _row(
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    run_at: datetime | None,
    idempotency_key: str | None,
    max_attempts: int,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "payload": payload,
        "idempotency_key": idempotency_key,
        "status": PENDING,
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": max_attempts,
        "created_at": now,
    }


def _insert(session: Session | Connection) -> Any:
    bind = session if isinstance(session, Connection) else session.get_bind()
    return pg_insert if bind.dialect.name == "postgresql" else sqlite_insert


def enqueue(
    session: Session | Connection,
    *,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    run_at: datetime | None = None,
    idempotency_key: str | None = None,
    max_attempts: int = 8,
) -> int | None:
    """Add a job in the caller's transaction; with a key seen before, add nothing (None)."""
    values = _row(kind, payload, now, run_at, idempotency_key, max_attempts)
    stmt = _insert(session)(Job).values(**values).returning(Job.id)
    if idempotency_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])
    return session.execute(stmt).scalar_one_or_none()


def enqueue_many(session: Session | Connection, jobs: list[dict[str, Any]], now: datetime) -> None:
    """Add many jobs in one statement, in the caller's transaction; each is a dict of
    `kind`, `payload` and optionally `run_at`, `idempotency_key`, `max_attempts`. Keys
    seen before add nothing, as with `enqueue`."""
    if not jobs:
        return
    rows = [
        _row(
            job["kind"],
            job["payload"],
            now,
            job.get("run_at"),
            job.get("idempotency_key"),
            job.get("max_attempts", 8),
        )
        for job in jobs
    ]
    insert_rows(session, cast(Table, Job.__table__), rows, skip_conflicts_on="idempotency_key")


def claim(
    session: Session, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedJob]:
    """Lease up to `limit` due jobs, earliest run_at first; on PostgreSQL rows held by
    another worker are skipped.

    Due pending jobs and running jobs whose lease ran out are found by two scans of the
    (status, run_at) index, each stopping after `limit` unlocked rows, and merged: one
    `status IN (...)` scan could not follow the index order and would sort every due row
    on each claim. The chosen rows are then updated by primary key, in a statement of
    their own, so no plan can fall back to scanning the whole table for them.
    """
    if limit <= 0:
        return []
    token = secrets.token_hex(16)
    until = now + lease
    stmts = _statements(session)
    conn = session.connection()
    ids = list(conn.scalars(stmts.due, {"p_now": now, "p_limit": limit}))
    if not ids:
        return []
    rows = conn.execute(
        stmts.lease,
        {"ids": ids, "p_now": now, "p_token": token, "p_until": until, "p_worker": worker},
    ).all()
    return sorted(
        (ClaimedJob(r.id, r.kind, r.payload, r.attempts, r.max_attempts, token) for r in rows),
        key=lambda j: j.id,
    )


def complete(session: Session, job: ClaimedJob, now: datetime) -> bool:
    """Mark done if we still hold the lease; False means another worker took it over."""
    result = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.lease_token == job.lease_token, Job.status == RUNNING)
        .values(status=DONE, finished_at=now, lease_token=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def fail(session: Session, job: ClaimedJob, now: datetime, error: str) -> bool:
    """Schedule a retry with exponential backoff, or give up after max_attempts."""
    final = job.attempts >= job.max_attempts
    values: dict[str, Any] = {
        "status": FAILED if final else PENDING,
        # PostgreSQL text cannot hold NUL; an error it refused would sink the whole batch.
        "last_error": error.replace("\x00", "\\x00")[:4000],
        "lease_token": None,
        "lease_until": None,
    }
    if final:
        values["finished_at"] = now
    else:
        values["run_at"] = now + timedelta(seconds=retry_delay(job.attempts))
    result = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.lease_token == job.lease_token, Job.status == RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def cancel(session: Session, idempotency_key: str, now: datetime) -> bool:
    """Cancel a job that has not run yet (a timer made moot by an acknowledge, say)."""
    result = session.execute(
        update(Job)
        .where(Job.idempotency_key == idempotency_key, Job.status == PENDING)
        .values(status=CANCELLED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def next_due(session: Session) -> datetime | None:
    """When the earliest job not yet done comes due (a pending job's run_at, or the end
    of a running job's lease); None with nothing waiting. Two reads of the ends of the
    (status, run_at) index."""
    jobs = cast(Table, Job.__table__)
    ends = [
        select(func.min(jobs.c.run_at)).where(jobs.c.status == status).scalar_subquery()
        for status in (PENDING, RUNNING)
    ]
    found = [at for at in session.execute(select(*ends)).one() if at is not None]
    return min(found, default=None)


def depth(session: Session, now: datetime) -> dict[str, int]:
    """Jobs waiting by state: pending (due or not), due now, running, failed."""
    counts = dict(
        session.execute(
            select(Job.status, func.count())
            .where(Job.status.in_((PENDING, RUNNING, FAILED)))
            .group_by(Job.status)
        ).all()
    )
    due = session.scalar(
        select(func.count()).where(Job.status.in_((PENDING, RUNNING)), Job.run_at <= now)
    )
    return {
        "pending": int(counts.get(PENDING, 0)),
        "running": int(counts.get(RUNNING, 0)),
        "failed": int(counts.get(FAILED, 0)),
        "due": int(due or 0),
    }


def hold(session: Session, jobs: list[ClaimedJob]) -> set[int]:
    """Lock the rows of `jobs` still leased to us, for the rest of the transaction.

    Returns their ids; a job missing from the answer lost its lease (it expired and
    another worker claimed it) and must not run. While the lock is held no other worker
    can claim the row (PostgreSQL's SKIP LOCKED passes it by; SQLite has one writer at a
    time), so effects written in this transaction and the completion commit together.
    """
    if not jobs:
        return set()
    rows = session.connection().execute(
        _statements(session).hold,
        {"ids": [j.id for j in jobs], "p_tokens": sorted({j.lease_token for j in jobs})},
    )
    current = {r.id: (r.lease_token, r.status) for r in rows}
    return {j.id for j in jobs if current.get(j.id) == (j.lease_token, RUNNING)}


def complete_many(session: Session, jobs: list[ClaimedJob], now: datetime) -> set[int]:
    """Mark done every job of `jobs` whose lease we still hold; returns the ids marked."""
    done: set[int] = set()
    by_token: dict[str, list[int]] = {}
    for job in jobs:
        by_token.setdefault(job.lease_token, []).append(job.id)
    stmts = _statements(session)
    conn = session.connection()
    for token, ids in by_token.items():
        done.update(conn.scalars(stmts.complete, {"ids": ids, "p_token": token, "p_now": now}))
    return done


@dataclass(frozen=True, slots=True)
class _Statements:
    due: Select[tuple[int]]
    lease: Update
    hold: Select[tuple[int, str | None, str]]
    complete: Update


def _statements(session: Session) -> _Statements:
    return _build_statements(session.get_bind().dialect.name == "postgresql")


@functools.cache
def _build_statements(postgres: bool) -> _Statements:
    """The worker's per-batch statements, built once: a claim costs a compile-cache
    lookup, not the construction of a statement with two CTEs."""
    jobs = cast(Table, Job.__table__)
    when = jobs.c.run_at.type
    # A list of ids: on PostgreSQL one array parameter (`id = ANY(:ids)`), whatever the
    # count, so the text stays the same and the server parses and plans it once.
    ids = (
        jobs.c.id == any_(bindparam("ids", type_=ARRAY(Integer)))
        if postgres
        else jobs.c.id.in_(bindparam("ids", expanding=True))
    )
    tokens = (
        jobs.c.lease_token == any_(bindparam("p_tokens", type_=ARRAY(String)))
        if postgres
        else jobs.c.lease_token.in_(bindparam("p_tokens", expanding=True))
    )
    scans = [
        select(jobs.c.id, jobs.c.run_at)
        .where(jobs.c.status == status, jobs.c.run_at <= bindparam("p_now", type_=when))
        .order_by(jobs.c.run_at)
        .limit(bindparam("p_limit", type_=Integer))
        .with_for_update(skip_locked=True)
        .cte(f"due_{status}")
        for status in (PENDING, RUNNING)
    ]
    due = union_all(*(select(scan.c.id, scan.c.run_at) for scan in scans)).subquery("due")
    return _Statements(
        due=select(due.c.id)
        .order_by(due.c.run_at, due.c.id)
        .limit(bindparam("p_limit", type_=Integer)),
        # The pick locked these rows; the guard restates why they may be leased.
        lease=update(jobs)
        .where(ids, jobs.c.status.in_((PENDING, RUNNING)))
        .where(jobs.c.run_at <= bindparam("p_now", type_=when))
        .values(
            status=RUNNING,
            lease_token=bindparam("p_token", type_=String),
            lease_until=bindparam("p_until", type_=when),
            run_at=bindparam("p_until", type_=when),
            attempts=jobs.c.attempts + 1,
            locked_by=bindparam("p_worker", type_=String),
        )
        .returning(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.max_attempts),
        # Only rows still leased to us are locked (in id order, as every worker does);
        # a row another worker took over is neither returned nor waited for long.
        hold=select(jobs.c.id, jobs.c.lease_token, jobs.c.status)
        .where(ids, tokens, jobs.c.status == RUNNING)
        .order_by(jobs.c.id)
        .with_for_update(),
        complete=update(jobs)
        .where(ids, jobs.c.lease_token == bindparam("p_token", type_=String))
        .where(jobs.c.status == RUNNING)
        .values(
            status=DONE,
            finished_at=bindparam("p_now", type_=when),
            lease_token=None,
            lease_until=None,
        )
        .returning(jobs.c.id),
    )
