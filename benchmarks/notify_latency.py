"""Alert accepted -> first notification at a loopback webhook receiver, beside Alertmanager.

    .venv/bin/python benchmarks/notify_latency.py                     # SQLite
    .venv/bin/python benchmarks/notify_latency.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # PostgreSQL

One `watchbill serve` (embedded worker) on a fresh data directory (and a scratch
PostgreSQL database, dropped at the end, with --database-url): one person whose webhook
contact method points at the probe's receiver, an escalation policy paging them at its
first level, and a service naming that policy (no grouping: every alert opens an
incident, the "no grouping wait" of the issue). The probe is the shared
shared/bench/notify_latency.py: it posts a new PagerDuty Events v2 trigger and times
until its receiver holds a webhook naming it. It runs:

  idle       nothing else happening;
  loaded     while a background sender triggers --load-rate new incidents per second
             (each paging the same person, each notification sent to the receiver too);
  alertmanager   Debian's Alertmanager 0.25 (group_wait 0s, nothing durable) through
             the same probe, for the ratio.

Prints one JSON line per figure (min, median, p90 and max of the first-notification
latency; with the default 200 trials the max bounds the p99), with, under load, how many
background incidents were triggered and how many of their pages were sent by the end.
Targets (issue): median <= 25 ms, p99 <= 150 ms, idle and under 100 incidents/s.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from intake_throughput import (
    ALERTMANAGER_BIN,
    BENCH_DIR,
    PD_KEY,
    Watchbill,
    alertmanager,
    free_port,
    log,
)
from scratch import scratch_postgres

TARGET_MEDIAN_MS = 25.0
TARGET_P99_MS = 150.0


def organisation(sink_port: int) -> str:
    return f"""\
apiVersion: watchbill/v1
kind: User
metadata: {{name: bench-oncall}}
spec:
  email: bench-oncall@example.com
  contactMethods:
    - {{label: hook, type: webhook, address: "http://127.0.0.1:{sink_port}/page"}}
---
apiVersion: watchbill/v1
kind: EscalationPolicy
metadata: {{name: api-oncall}}
spec:
  levels:
    - targets: [{{type: user, name: bench-oncall}}]
      delayMinutes: 30
---
apiVersion: watchbill/v1
kind: Service
metadata: {{name: api}}
spec:
  tier: 1
  escalationPolicy: api-oncall
  integrations:
    - {{name: prom, type: alertmanager}}
    - {{name: pd, type: events-v2, key: {PD_KEY}}}
"""


def probe(target: str, fmt: str, sink_port: int, trials: int) -> dict[str, Any]:
    """One run of shared/bench/notify_latency.py; its JSON line."""
    cmd = [
        sys.executable,
        str(BENCH_DIR / "notify_latency.py"),
        *("--format", fmt, "--target", target, "--listen", f"127.0.0.1:{sink_port}"),
        *("--trials", str(trials), "--timeout", "10"),
    ]
    if fmt == "pagerduty-v2":
        cmd += ["--routing-key", PD_KEY]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"notify_latency.py printed no result:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


class Background:
    """Triggers `rate` new incidents per second (paced, one keep-alive connection) until
    stopped; counts what was accepted."""

    def __init__(self, port: int, rate: float) -> None:
        self.port, self.rate = port, rate
        self.accepted = self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._run_id = uuid.uuid4().hex[:8]

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        start, n = time.monotonic(), 0
        while not self._stop.is_set():
            due = start + n / self.rate
            pause = due - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)
                continue
            event = {
                "routing_key": PD_KEY,
                "event_action": "trigger",
                "dedup_key": f"background-{self._run_id}-{n}",
                "payload": {"summary": f"background {n}", "source": "bench", "severity": "error"},
            }
            conn.request(
                "POST", "/v2/enqueue", json.dumps(event), {"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            response.read()
            if response.status == 202:
                self.accepted += 1
            else:
                self.refused += 1
            n += 1
        conn.close()

    def __enter__(self) -> Background:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(15)


def figure(
    name: str, system: str, database: str | None, run: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    lat = run["first_notify_ms"]
    return {
        "figure": name,
        "system": system,
        "database": database,
        "unit": "ms",
        "trials": run["trials"],
        "received": run["received"],
        "missed": run["missed"],
        **lat,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        **extra,
    }


def pages_sent(wb: Watchbill) -> int:
    ((n,),) = wb.query("SELECT count(*) FROM notification_deliveries WHERE status = 'sent'")
    return int(n)


@contextlib.contextmanager
def watchbill(workdir: Path, database_url: str | None, sink_port: int) -> Iterator[Watchbill]:
    wb = Watchbill(
        workdir,
        database_url,
        documents=organisation(sink_port),
        env_extra={"WATCHBILL_SECRET_KEY": uuid.uuid4().hex * 2},
    )
    wb.prepare()
    wb.start()
    try:
        yield wb
    finally:
        wb.stop()
        wb.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--database-url", help="PostgreSQL server to make a scratch database on")
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--load-rate", type=float, default=100.0, help="background incidents/s")
    p.add_argument("--no-alertmanager", action="store_true")
    a = p.parse_args(argv)
    database = "postgresql" if a.database_url else "sqlite"
    sink_port = free_port()
    failed = False
    with (
        tempfile.TemporaryDirectory(prefix="watchbill-notify-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        url = stack.enter_context(scratch_postgres(a.database_url)) if a.database_url else None
        wb = stack.enter_context(watchbill(workdir / "watchbill", url, sink_port))
        log(f"watchbill {wb.base_url} ({database}); receiver on {sink_port}")
        probe(wb.base_url, "pagerduty-v2", sink_port, 10)  # warm-up
        idle = probe(wb.base_url, "pagerduty-v2", sink_port, a.trials)
        lines = [figure("first_notification_idle", "watchbill", database, idle)]
        before = pages_sent(wb)
        with Background(wb.port, a.load_rate) as background:
            started = time.monotonic()
            loaded = probe(wb.base_url, "pagerduty-v2", sink_port, a.trials)
            seconds = time.monotonic() - started
        settle_deadline = time.monotonic() + 30
        while pages_sent(wb) - before < background.accepted + loaded["received"]:
            if time.monotonic() > settle_deadline:
                break
            time.sleep(0.2)
        lines.append(
            figure(
                "first_notification_loaded",
                "watchbill",
                database,
                loaded,
                background_incidents=background.accepted,
                background_refused=background.refused,
                background_rate_per_s=round(background.accepted / seconds, 1),
                pages_sent_after=pages_sent(wb) - before,
            )
        )
        if not a.no_alertmanager and Path(ALERTMANAGER_BIN).exists():
            am_url, _pid = stack.enter_context(
                alertmanager(workdir / "alertmanager", sink_port=sink_port, group_wait="0s")
            )
            probe(am_url, "alertmanager-v2", sink_port, 10)
            am = probe(am_url, "alertmanager-v2", sink_port, a.trials)
            lines.append(figure("first_notification_idle", "alertmanager", None, am))
            for line in lines[:2]:
                line["ratio_median_vs_alertmanager"] = round(
                    line["median"] / am["first_notify_ms"]["median"], 2
                )
        for line in lines:
            if line["system"] == "watchbill":
                line["met"] = bool(
                    line["missed"] == 0
                    and line["median"] <= TARGET_MEDIAN_MS
                    and line["max"] <= TARGET_P99_MS
                )
                failed |= line["missed"] > 0
            print(json.dumps(line, separators=(",", ":")), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
