"""A job worker in a process of its own, for the multi-process tests.

    python -m tests.jobs.worker_process --url URL --name w1 --ready DIR/w1.ready \\
        [--go DIR/go] [--handler effect|block] [--lease 60] [--batch 25] [--drain]

It builds a Worker with a registry of its own, whose handler for the kind `test.job`
inserts a row into `job_effects` inside the job's session (`effect`), or does that and
then waits for a file that never appears (`block`), touching `<ready>.running` first so
the test knows it is mid-job. It writes the `--ready` file once connected, waits for
`--go` if given, then runs until the queue is empty (`--drain`) or until killed.
On exit it prints one JSON line: its name and how many jobs it claimed.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from sqlalchemy import text

from tests.jobs import effects
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.jobs import queue
from watchbill.jobs.handlers import JobRun, Registry
from watchbill.jobs.worker import Worker

KIND = "test.job"
MAX_SECONDS = 150.0  # nothing here may outlive a stuck test run


def wait_for(path: Path, deadline: float) -> None:
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--go", type=Path)
    parser.add_argument("--handler", choices=["effect", "block"], default="effect")
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--drain", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    deadline = time.monotonic() + MAX_SECONDS

    handlers = Registry()

    @handlers.register(KIND)
    def handle(run: JobRun) -> None:
        effects.record(run, args.name)
        if args.handler == "block":
            running = args.ready.with_suffix(".running")
            running.write_text(str(run.id))
            wait_for(args.ready.with_suffix(".never"), deadline)

    db = Database(args.url, pool_size=2)
    worker = Worker(
        db,
        system_clock,
        handlers=handlers,
        lease_seconds=args.lease,
        batch_size=args.batch,
        name=args.name,
    )
    with db.read() as session:
        session.execute(text("SELECT 1"))
    args.ready.write_text("ready")
    if args.go is not None:
        wait_for(args.go, deadline)

    claimed = 0
    while time.monotonic() < deadline:
        n = worker.run_once()
        claimed += n
        if n:
            continue
        if args.drain:
            with db.read() as session:
                left = queue.depth(session, system_clock.now())
            if left["pending"] == 0 and left["running"] == 0:
                break
        time.sleep(0.05)
    db.dispose()
    print(json.dumps({"name": args.name, "claimed": claimed}), flush=True)


if __name__ == "__main__":
    main()
