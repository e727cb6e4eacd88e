"""A table owned by the job tests: handlers record what they did in it, keyed by job id.

Its primary key makes a second effect for the same job an error, and counting its rows
tells whether each job's effect landed exactly once.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Engine, MetaData, String, Table, delete, func, select

from watchbill.jobs.handlers import JobRun

metadata = MetaData()
job_effects = Table(
    "job_effects",
    metadata,
    Column("job_id", BigInteger, primary_key=True, autoincrement=False),
    Column("worker", String(200)),
    Column("attempt", BigInteger),
)


def reset(engine: Engine) -> None:
    """Create the table if needed and empty it."""
    metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(delete(job_effects))


def record(run: JobRun, worker: str = "") -> None:
    """The effect of a job: one row in the job's own session."""
    run.session.execute(
        job_effects.insert().values(job_id=run.id, worker=worker, attempt=run.attempt)
    )


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(job_effects)) or 0)


def rows(engine: Engine) -> dict[int, tuple[str, int]]:
    with engine.connect() as conn:
        return {r.job_id: (r.worker, r.attempt) for r in conn.execute(select(job_effects)).all()}
