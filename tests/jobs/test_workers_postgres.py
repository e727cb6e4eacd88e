"""Several worker processes on one PostgreSQL database: each job runs exactly once, and
a job whose worker is killed mid-run is run again by another once its lease ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from tests.jobs import effects
from tests.jobs.worker_process import KIND
from watchbill.adapters.clock import system_clock
from watchbill.jobs import queue
from watchbill.jobs.models import DONE, Job

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg(pg_server_url: str | None) -> Iterator[tuple[str, Engine]]:
    """The test run's PostgreSQL database, with no jobs and an empty effects table."""
    if pg_server_url is None:
        if os.environ.get("WATCHBILL_REQUIRE_POSTGRES") == "1":
            pytest.fail("WATCHBILL_TEST_DATABASE_URL is unset but PostgreSQL tests are required")
        pytest.skip("multi-process workers need PostgreSQL: set WATCHBILL_TEST_DATABASE_URL")
    engine = create_engine(pg_server_url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE jobs RESTART IDENTITY"))
    effects.reset(engine)
    yield pg_server_url, engine
    engine.dispose()


class Workers:
    """Worker processes started by one test, killed at its end whatever happened."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url, self.tmp = url, tmp
        self.procs: dict[str, subprocess.Popen[str]] = {}

    def start(self, name: str, *extra: str) -> subprocess.Popen[str]:
        with open(self.tmp / f"{name}.err", "w") as err:  # the child keeps its own copy
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.jobs.worker_process",
                    "--url",
                    self.url,
                    "--name",
                    name,
                    "--ready",
                    str(self.ready(name)),
                    *extra,
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        self.procs[name] = proc
        return proc

    def ready(self, name: str) -> Path:
        return self.tmp / f"{name}.ready"

    def stderr(self, name: str) -> str:
        return (self.tmp / f"{name}.err").read_text()[-3000:]

    def wait_until(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            for name, proc in self.procs.items():
                if proc.poll() not in (None, 0, -signal.SIGKILL):
                    pytest.fail(f"worker {name} exited {proc.returncode}:\n{self.stderr(name)}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.02)

    def finish(self, name: str, timeout: float) -> dict[str, object]:
        out, _ = self.procs[name].communicate(timeout=timeout)
        assert self.procs[name].returncode == 0, self.stderr(name)
        return json.loads(out.strip().splitlines()[-1])

    def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def workers(pg: tuple[str, Engine], tmp_path: Path) -> Iterator[Workers]:
    started = Workers(pg[0], tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


def enqueue(engine: Engine, n: int) -> list[int]:
    now = system_clock.now()
    with Session(engine) as session, session.begin():
        ids = [
            queue.enqueue(session, kind=KIND, payload={"n": i}, now=now, idempotency_key=f"t-{i}")
            for i in range(n)
        ]
    assert all(isinstance(i, int) for i in ids)
    return ids  # type: ignore[return-value]


def test_three_workers_run_each_job_exactly_once(
    pg: tuple[str, Engine], workers: Workers, tmp_path: Path
) -> None:
    _, engine = pg
    n = 2000
    ids = enqueue(engine, n)
    names = ["w1", "w2", "w3"]
    go = tmp_path / "go"
    for name in names:
        workers.start(name, "--go", str(go), "--drain", "--batch", "50")
    workers.wait_until(
        "workers to connect", lambda: all(workers.ready(m).exists() for m in names), timeout=30
    )
    go.touch()  # all start together, so they compete for the same rows
    reports = [workers.finish(name, timeout=120) for name in names]

    with engine.connect() as conn:
        jobs = conn.execute(select(Job.id, Job.status, Job.attempts, Job.locked_by)).all()
    assert sorted(j.id for j in jobs) == ids
    assert {j.status for j in jobs} == {DONE}
    assert {j.attempts for j in jobs} == {1}
    done_by = {j.id: j.locked_by for j in jobs}
    # Exactly one effect per job, written by the worker that holds it.
    landed = effects.rows(engine)
    assert effects.count(engine) == n
    assert {job_id: worker for job_id, (worker, _) in landed.items()} == done_by
    assert {attempt for _, attempt in landed.values()} == {1}
    # Every process did part of the work, and no job was claimed twice.
    assert set(done_by.values()) == set(names)
    assert sum(int(r["claimed"]) for r in reports) == n  # type: ignore[call-overload]


def test_a_job_of_a_killed_worker_runs_again_after_its_lease(
    pg: tuple[str, Engine], workers: Workers
) -> None:
    _, engine = pg
    lease = 2.0
    [job_id] = enqueue(engine, 1)
    doomed = workers.start("doomed", "--handler", "block", "--lease", str(lease))
    running = workers.ready("doomed").with_suffix(".running")
    workers.wait_until("the first worker to start the job", running.exists, timeout=30)
    assert running.read_text() == str(job_id)

    doomed.send_signal(signal.SIGKILL)  # kill -9, mid-job
    doomed.wait(timeout=10)
    with engine.connect() as conn:
        job = conn.execute(select(Job).where(Job.id == job_id)).one()
    assert (job.status, job.attempts, job.locked_by) == ("running", 1, "doomed")
    first_lease_until = job.lease_until
    assert effects.count(engine) == 0  # its effect died with its transaction

    workers.start("heir", "--lease", str(lease))

    def done() -> bool:
        with engine.connect() as conn:
            return conn.scalar(select(Job.status).where(Job.id == job_id)) == DONE

    workers.wait_until("the job to be run again", done, timeout=lease + 20)
    with engine.connect() as conn:
        job = conn.execute(select(Job).where(Job.id == job_id)).one()
        assert conn.scalar(select(func.count()).select_from(Job)) == 1
    assert (job.status, job.attempts, job.locked_by) == (DONE, 2, "heir")
    # Not before the lease ran out: the heir could claim the job only after it.
    assert job.finished_at >= first_lease_until
    assert effects.rows(engine) == {job_id: ("heir", 2)}
