"""Job-queue throughput: N jobs claimed, run and completed by W worker processes.

    .venv/bin/python benchmarks/jobs_throughput.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --jobs 20000 --workers 2

Creates a scratch database on the given server (dropped at the end), migrates it,
enqueues the jobs in bulk, starts the workers, and measures the wall time from
releasing the workers until every one has found the queue empty. Each job's handler
inserts a row keyed by the job id into `job_effects` inside the job's own session, so
"exactly once" is checked from the database: one effect row per job, every job done
on its first attempt. Prints one JSON line per run (and one more with --sqlite, for
SQLite with a single worker).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from typing import Any

from scratch import scratch_postgres, scratch_sqlite
from sqlalchemy import insert, text

from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import migrations
from watchbill.jobs.handlers import JobRun, Registry
from watchbill.jobs.models import DONE, PENDING, Job
from watchbill.jobs.worker import Worker

KIND = "bench.effect"
EFFECTS_DDL = "CREATE TABLE job_effects (job_id BIGINT PRIMARY KEY, worker VARCHAR(200))"


def effect(run: JobRun) -> None:
    run.session.execute(
        text("INSERT INTO job_effects (job_id, worker) VALUES (:id, :w)"),
        {"id": run.id, "w": run.payload["bench"]},
    )


def worker_main(url: str, batch_size: int, lease: float, barrier: Any, result: Any) -> None:
    """One worker process: wait for the start signal, drain the queue, report the count."""
    handlers = Registry()
    handlers.register(KIND)(effect)
    db = Database(url, pool_size=2)
    worker = Worker(db, system_clock, handlers=handlers, lease_seconds=lease, batch_size=batch_size)
    # Warm the pool and the statement caches outside the timed window.
    with db.read() as session:
        session.execute(text("SELECT 1"))
    barrier.wait()
    done = 0
    while claimed := worker.run_once():
        done += claimed
    db.dispose()
    result.put(done)


def enqueue_bulk(url: str, jobs: int) -> None:
    now = system_clock.now()
    db = Database(url)
    with db.transaction() as session:
        session.execute(text(EFFECTS_DDL))
    chunk = 5000
    for start in range(0, jobs, chunk):
        rows = [
            {
                "kind": KIND,
                "payload": {"bench": "x", "n": n},
                "idempotency_key": f"bench-{n}",
                "status": PENDING,
                "run_at": now,
                "attempts": 0,
                "max_attempts": 8,
                "created_at": now,
            }
            for n in range(start, min(jobs, start + chunk))
        ]
        with db.transaction() as session:
            session.execute(insert(Job), rows)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE jobs"))
    db.dispose()


def verify(url: str, jobs: int) -> dict[str, Any]:
    db = Database(url)
    with db.read() as session:
        effects = session.scalar(text("SELECT count(*) FROM job_effects"))
        distinct = session.scalar(text("SELECT count(DISTINCT job_id) FROM job_effects"))
        done_once = session.scalar(
            text("SELECT count(*) FROM jobs WHERE status = :s AND attempts = 1"), {"s": DONE}
        )
        missing = session.scalar(
            text(
                "SELECT count(*) FROM jobs j WHERE NOT EXISTS "
                "(SELECT 1 FROM job_effects e WHERE e.job_id = j.id)"
            )
        )
        lockers = session.scalar(text("SELECT count(DISTINCT locked_by) FROM jobs"))
    db.dispose()
    ok = effects == jobs and distinct == jobs and done_once == jobs and missing == 0
    return {
        "exactly_once": ok,
        "effects": effects,
        "done_first_try": done_once,
        "workers_seen": lockers,
    }


def run(url: str, dialect: str, jobs: int, workers: int, batch_size: int, lease: float) -> dict:
    enqueue_bulk(url, jobs)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers + 1)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=worker_main, args=(url, batch_size, lease, barrier, results))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    counts = [results.get(timeout=600) for _ in procs]
    seconds = time.perf_counter() - started
    for p in procs:
        p.join(timeout=30)
    report = {
        "database": dialect,
        "jobs": jobs,
        "workers": workers,
        "batch_size": batch_size,
        "seconds": round(seconds, 3),
        "jobs_per_s": round(jobs / seconds, 1),
        "per_worker": counts,
    }
    report.update(verify(url, jobs))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (a scratch db is made)")
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the Worker's")
    parser.add_argument("--lease-seconds", type=float, default=60.0)
    parser.add_argument("--sqlite", action="store_true", help="also run SQLite, 1 worker")
    args = parser.parse_args(argv)
    if not args.database_url and not args.sqlite:
        parser.error("give --database-url, --sqlite, or both")
    batch = args.batch_size or Worker.__init__.__kwdefaults__["batch_size"]
    ok = True
    if args.database_url:
        with scratch_postgres(args.database_url) as url:
            migrations().upgrade(url)
            report = run(url, "postgresql", args.jobs, args.workers, batch, args.lease_seconds)
        print(json.dumps(report), flush=True)
        ok &= report["exactly_once"]
    if args.sqlite:
        with scratch_sqlite() as url:
            migrations().upgrade(url)
            report = run(url, "sqlite", args.jobs, 1, batch, args.lease_seconds)
        print(json.dumps(report), flush=True)
        ok &= report["exactly_once"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
