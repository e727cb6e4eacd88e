"""No accepted event is lost when `watchbill serve` is killed with SIGKILL under load.

    .venv/bin/python benchmarks/intake_durability.py                     # SQLite
    .venv/bin/python benchmarks/intake_durability.py --cycles 5 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # PostgreSQL

Each cycle starts `watchbill serve` on the same database, drives it with the shared
generator (shared/bench/alert_load.py, pagerduty-v2, a new dedup key per event, so
every accepted event is one alert row), and sends SIGKILL once the database holds about
--kill-at of the run's events; the generator sees the rest of its requests fail. After
the last cycle the server is restarted once more and the database is compared with
what the generator saw accepted (2xx): rows >= accepted must hold (an event whose
commit landed but whose answer was lost to the kill is a row nobody saw accepted), and
the rows may not exceed what was sent. Prints one JSON line per cycle and a summary
line; exits non-zero if an accepted event is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_throughput import (
    BENCH_DIR,
    UNIQUE,
    Watchbill,
    alert_load,
    log,
)
from scratch import scratch_postgres


def run_cycle(wb: Watchbill, cycle: int, events: int, concurrency: int, kill_at: float) -> dict:
    """One load run with a SIGKILL when the database holds `kill_at` of its events."""
    wb.start()
    assert wb.proc is not None
    pid = wb.proc.pid
    rows0, _ = wb.alert_totals("pd")
    result: dict[str, Any] = {}

    def load() -> None:
        result.update(
            alert_load(
                f"{wb.base_url}/v2/enqueue",
                "pagerduty-v2",
                events=events,
                concurrency=concurrency,
                distinct=UNIQUE,
                seed=cycle + 1,
                routing_key=wb.keys["pd"],
                timeout=10,
                max_seconds=120,
            )
        )

    loader = threading.Thread(target=load)
    started = time.monotonic()
    loader.start()
    target = rows0 + int(events * kill_at)
    killed_with = None
    while loader.is_alive() and time.monotonic() - started < 120:
        rows, _ = wb.alert_totals("pd")
        if rows >= target:
            wb.kill9()
            killed_with = rows - rows0
            break
        time.sleep(0.02)
    loader.join(180)
    if killed_with is None:
        wb.stop()  # the run ended before the kill point: the cycle proves nothing
    wb.dispose()
    return {
        "cycle": cycle,
        "pid": pid,
        "killed": killed_with is not None,
        "rows_seen_at_kill": killed_with,
        "sent": result.get("events_sent", 0),
        "accepted": result.get("events_ok", 0),
        "status_counts": result.get("status_counts", {}),
        "events_per_s": result.get("events_per_s"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--database-url", help="PostgreSQL server to make a scratch database on")
    p.add_argument("--cycles", type=int, default=3, help="kill -9 this many times")
    p.add_argument("--events", type=int, default=20_000, help="events per cycle")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--kill-at", type=float, default=0.5, help="fraction of events before kill")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    a = p.parse_args(argv)
    if not (BENCH_DIR / "alert_load.py").exists():
        sys.exit(f"no alert_load.py in {BENCH_DIR}: set WATCHBILL_BENCH_DIR")
    workdir = Path(tempfile.mkdtemp(prefix="watchbill-durability-"))
    database = "postgresql" if a.database_url else "sqlite"
    try:
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(scratch_postgres(a.database_url)) if a.database_url else None
            wb = Watchbill(workdir / "watchbill", url)
            wb.prepare()
            stack.callback(wb.dispose)
            stack.callback(wb.stop)
            cycles = []
            for cycle in range(a.cycles):
                line = run_cycle(wb, cycle, a.events, a.concurrency, a.kill_at)
                line["loadavg"] = [round(x, 2) for x in os.getloadavg()]
                cycles.append(line)
                print(json.dumps(line, separators=(",", ":")), flush=True)
            # Restart on the same database: what survives is what a restarted server has.
            wb.start()
            rows, counts = wb.alert_totals("pd")
            firing = wb.query(
                "SELECT count(*) FROM alerts WHERE integration_id = :i AND status = 'firing'",
                i=wb.ids["pd"],
            )[0][0]
            accepted = sum(c["accepted"] for c in cycles)
            sent = sum(c["sent"] for c in cycles)
            ok = accepted <= rows <= sent and counts == rows and firing == rows
            summary = {
                "summary": "intake_durability",
                "database": database,
                "cycles": a.cycles,
                "kills": sum(c["killed"] for c in cycles),
                "accepted": accepted,
                "rows_after_restart": rows,
                "sum_count": counts,
                "sent": sent,
                "committed_but_unanswered": rows - accepted,
                "lost": max(0, accepted - rows),
                "passed": ok and all(c["killed"] for c in cycles),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
            print(json.dumps(summary, separators=(",", ":")), flush=True)
    finally:
        if a.keep:
            log(f"kept {workdir} (server log: {workdir / 'watchbill' / 'serve.log'})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
