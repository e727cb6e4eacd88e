"""The audit chain under concurrent writers: commit latency of audited transactions and
what `watchbill audit verify` costs.

    .venv/bin/python benchmarks/audit_chain.py                       # SQLite file
    .venv/bin/python benchmarks/audit_chain.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Each writer process commits `--transactions` transactions that change a team and record
one audit entry, as an API write does; the entries are sealed at commit, one process at
a time (PostgreSQL: an advisory lock held to the commit). Prints one JSON line per
number of writers with the p50/p99 commit latency and the total rate, then one for
verifying the whole log. The chain is checked to be linear and intact at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from typing import Any

from scratch import scratch_postgres, scratch_sqlite
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from timing import emit

from watchbill.access import Principal, Role
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import migrations
from watchbill.audit import chain
from watchbill.audit.models import AuditEvent
from watchbill.audit.service import record
from watchbill.catalog.models import Team
from watchbill.context import Ctx

KEY = b"benchmark server key, 32 bytes or more"
ACTOR = Principal(kind="cli", name="bench", role=Role.OWNER, source_ip="local")


def writer(url: str, n: int, team_id: int, barrier: Any, out: Any) -> None:
    db = Database(url, pool_size=1, info=chain.session_info(KEY))
    with db.read() as session:
        session.execute(select(1))
    barrier.wait()
    took = []
    for i in range(n):
        start = time.perf_counter()
        with db.transaction() as session:
            session.execute(update(Team).where(Team.id == team_id).values(description=str(i)))
            record(
                Ctx(session, ACTOR, system_clock),
                action="team.update",
                object_type="Team",
                object_id=f"t{team_id}",
                before={"description": str(i - 1)},
                after={"description": str(i)},
            )
        took.append((time.perf_counter() - start) * 1000)
    db.dispose()
    out.put(took)


def run(url: str, writers: int, n: int) -> None:
    barrier = mp.Barrier(writers + 1)
    out: Any = mp.Queue()
    procs = [mp.Process(target=writer, args=(url, n, w + 1, barrier, out)) for w in range(writers)]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.perf_counter()
    took = sorted(t for _ in procs for t in out.get(timeout=600))
    seconds = time.perf_counter() - start
    for p in procs:
        p.join()
    emit(
        "audited_commit",
        {
            "p50_ms": round(statistics.median(took), 2),
            "p99_ms": round(took[int(len(took) * 0.99)], 2),
            "per_second": round(len(took) / seconds),
        },
        database=make_url(url).get_backend_name(),
        writers=writers,
    )


def measure(url: str, n: int) -> None:
    migrations().upgrade(url, audit_key=KEY)
    db = Database(url, pool_size=1, info=chain.session_info(KEY))
    with db.transaction() as session:
        now = system_clock.now()
        session.add_all(Team(name=f"t{i}", created_at=now, updated_at=now) for i in range(1, 9))
    for writers in (1, 4, 8):
        run(url, writers, n)
    with db.read() as session:
        entries = session.query(AuditEvent).count()
        start = time.perf_counter()
        verdict = chain.verify(session)
        seconds = time.perf_counter() - start
    assert verdict.intact and verdict.entries == entries == verdict.head_id, verdict
    emit(
        "audit_verify",
        {"seconds": round(seconds, 2), "entries_per_second": round(entries / seconds)},
        database=db.dialect,
        entries=entries,
    )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="also run on this PostgreSQL server URL")
    parser.add_argument("--transactions", type=int, default=300, help="per writer")
    args = parser.parse_args()
    with scratch_sqlite() as url:
        measure(url, args.transactions)
    if args.postgres:
        with scratch_postgres(args.postgres) as url:
            measure(url, args.transactions)


if __name__ == "__main__":
    main()
