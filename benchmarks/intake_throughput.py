"""Alert intake throughput of one `watchbill serve`, beside Debian's Alertmanager 0.25.

    .venv/bin/python benchmarks/intake_throughput.py                     # SQLite
    .venv/bin/python benchmarks/intake_throughput.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # PostgreSQL

Starts one `watchbill serve` (per-key rate limiting off) on a fresh data directory,
with a scratch PostgreSQL database created on the given server and dropped at the end
when --database-url is given, and applies one service with an Alertmanager and an
Events API v2 integration. The load comes from the shared generator
(shared/bench/alert_load.py), on the same machine:

  (a) am-webhook: Alertmanager webhook payloads of 100 alerts, 5,000 identities,
      at concurrency 4 and 8 -> alerts/s;
  (b) pagerduty-v2: one Events API v2 event per request, a new dedup key each,
      concurrency 8 -> events/s, p50/p99 ms.

Alertmanager itself (its own /api/v2/alerts, batch 100 and batch 1, as
am_ingest_matrix.sh does) is measured in the same run, alternating with Watchbill, and
each figure carries the ratio Watchbill / Alertmanager. After every Watchbill run the
database is checked against what the generator saw accepted: the sum of alert counts
grew by exactly the accepted am-webhook alerts, and each accepted PagerDuty event is
one new alert row. Prints one JSON line per figure (the median of --repeat runs, with
every run's value), then a summary line; exits non-zero if a check failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scratch import scratch_postgres
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(os.environ.get("WATCHBILL_BENCH_DIR", REPO.parent / "shared" / "bench"))
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"
PD_KEY = "0123456789abcdef0123456789abcdef"
SERVICE_YAML = f"""\
apiVersion: watchbill/v1
kind: Service
metadata: {{name: api}}
spec:
  tier: 1
  grouping: {{by: [alertname]}}
  integrations:
    - {{name: prom, type: alertmanager}}
    - {{name: pd, type: events-v2, key: {PD_KEY}}}
"""
# More identities than any run sends events: each PagerDuty event is a new alert
# (a repeat would need ~10^7 events to become likely).
UNIQUE = 10**15
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mb(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def terminate(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


# ------------------------------------------------------------------ Watchbill
@dataclass
class Watchbill:
    """`watchbill serve` on a data directory (and optionally a PostgreSQL database)."""

    workdir: Path
    database_url: str | None = None
    worker: bool = True
    documents: str = SERVICE_YAML
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    keys: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    _engine: Engine | None = None

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'watchbill.db'}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
        env.update(
            WATCHBILL_DATA_DIR=str(self.data_dir),
            WATCHBILL_LOG_LEVEL="warning",
            WATCHBILL_INTAKE_RATE_PER_KEY="0",
        )
        if self.database_url:
            env["WATCHBILL_DATABASE_URL"] = self.database_url
        env.update(self.env_extra)
        return env

    def cli(self, *args: str) -> str:
        cmd = [str(Path(sys.executable).parent / "watchbill"), *args]
        proc = subprocess.run(
            cmd, env=self.env(), capture_output=True, text=True, timeout=120, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
        return proc.stdout

    def prepare(self) -> None:
        """`db upgrade`, apply the service, read the integration keys back."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        spec = self.workdir / "service.yaml"
        spec.write_text(self.documents, encoding="utf-8")
        self.cli("db", "upgrade")
        self.cli("apply", "-f", str(spec))
        found = json.loads(self.cli("integrations", "list", "--json"))
        self.keys = {i["name"]: i["key"] for i in found if i["service"] == "api"}
        rows = self.query("SELECT name, id FROM integrations")
        self.ids = {name: int(i) for name, i in rows}

    def start(self, port: int | None = None) -> None:
        self.port = port or free_port()
        cmd = [
            str(Path(sys.executable).parent / "watchbill"),
            *("serve", "--host", "127.0.0.1", "--port", str(self.port)),
        ]
        if not self.worker:
            cmd.append("--no-worker")
        out = (self.workdir / "serve.log").open("ab")
        self.proc = subprocess.Popen(
            cmd, env=self.env(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        out.close()
        wait_http(f"{self.base_url}/healthz", self.proc, 60.0)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(15)

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc)

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url)
        return self._engine

    def query(self, sql: str, **params: Any) -> list[Any]:
        with self.engine().connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params).all()]

    def alert_totals(self, integration: str) -> tuple[int, int]:
        """(alert rows, sum of their counts) of one integration."""
        ((rows, counts),) = self.query(
            "SELECT count(*), coalesce(sum(count), 0) FROM alerts WHERE integration_id = :i",
            i=self.ids[integration],
        )
        return int(rows), int(counts)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


# ------------------------------------------------------------------ Alertmanager
@contextlib.contextmanager
def alertmanager(
    workdir: Path,
    binary: str = ALERTMANAGER_BIN,
    *,
    sink_port: int | None = None,
    group_wait: str | None = None,
) -> Iterator[tuple[str, int]]:
    """Alertmanager 0.25 as in shared/bench/alertmanager-bench.yml, notifying a sink: its
    own webhook_sink.py, or one already listening on `sink_port`."""
    workdir.mkdir(parents=True, exist_ok=True)
    own_sink = sink_port is None
    sink_port, port = sink_port or free_port(), free_port()
    config = (BENCH_DIR / "alertmanager-bench.yml").read_text()
    config = config.replace("127.0.0.1:9099", f"127.0.0.1:{sink_port}")
    if group_wait is not None:
        config = config.replace("group_wait: 1s", f"group_wait: {group_wait}")
    (workdir / "am.yml").write_text(config)
    sink = (
        subprocess.Popen(
            [
                sys.executable,
                str(BENCH_DIR / "webhook_sink.py"),
                "--listen",
                f"127.0.0.1:{sink_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if own_sink
        else None
    )
    with (workdir / "am.log").open("ab") as out:
        am = subprocess.Popen(
            [
                binary,
                f"--config.file={workdir / 'am.yml'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                f"--storage.path={workdir / 'data'}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/-/ready", am, 30.0)
        yield f"http://127.0.0.1:{port}", am.pid
    finally:
        terminate(am)
        if sink is not None:
            terminate(sink)


# ------------------------------------------------------------------ load
def alert_load(target: str, fmt: str, **opts: Any) -> dict[str, Any]:
    """One run of shared/bench/alert_load.py; its JSON line (it exits 1 on any error)."""
    cmd = [sys.executable, str(BENCH_DIR / "alert_load.py"), "--target", target, "--format", fmt]
    for name, value in opts.items():
        cmd += [f"--{name.replace('_', '-')}", str(value)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"alert_load.py printed no result:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def measured(pid: int, target: str, fmt: str, **opts: Any) -> dict[str, Any]:
    """A load run with the server's CPU seconds and the load average beside it."""
    cpu0 = cpu_seconds(pid)
    res = alert_load(target, fmt, **opts)
    res["server_cpu_s"] = round(cpu_seconds(pid) - cpu0, 3)
    res["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return res


@dataclass(frozen=True)
class Spec:
    figure: str
    system: str  # watchbill | alertmanager
    fmt: str
    events: int
    batch: int
    concurrency: int
    distinct: int


def specs(scale: float) -> list[tuple[Spec, Spec | None]]:
    """(Watchbill spec, the Alertmanager spec it is compared with)."""

    def n(events: int) -> int:
        return max(1000, int(events * scale))

    am100 = n(100_000)
    single = n(20_000)
    return [
        (
            Spec("am_webhook_b100_c4", "watchbill", "am-webhook", am100, 100, 4, 5000),
            Spec("alertmanager_v2_b100_c4", "alertmanager", "alertmanager-v2", am100, 100, 4, 5000),
        ),
        (
            Spec("am_webhook_b100_c8", "watchbill", "am-webhook", am100, 100, 8, 5000),
            Spec("alertmanager_v2_b100_c8", "alertmanager", "alertmanager-v2", am100, 100, 8, 5000),
        ),
        (
            Spec("pagerduty_v2_single_c8", "watchbill", "pagerduty-v2", single, 1, 8, UNIQUE),
            Spec("alertmanager_v2_b1_c8", "alertmanager", "alertmanager-v2", single, 1, 8, 5000),
        ),
    ]


def run_watchbill(wb: Watchbill, spec: Spec, seed: int, analyze: bool = False) -> dict[str, Any]:
    assert wb.proc is not None
    integration = "prom" if spec.fmt == "am-webhook" else "pd"
    path = (
        f"/integrations/{wb.keys['prom']}/alertmanager"
        if spec.fmt == "am-webhook"
        else "/v2/enqueue"
    )
    if analyze and wb.database_url:
        with wb.engine().begin() as conn:
            conn.execute(text("ANALYZE"))
    rows0, counts0 = wb.alert_totals(integration)
    res = measured(
        wb.proc.pid,
        wb.base_url + path,
        spec.fmt,
        events=spec.events,
        batch=spec.batch,
        concurrency=spec.concurrency,
        distinct=spec.distinct,
        seed=seed,
        routing_key=wb.keys["pd"],
        max_seconds=300,
    )
    rows1, counts1 = wb.alert_totals(integration)
    ok, sent = res["events_ok"], res["events_sent"]
    new_rows, new_counts = rows1 - rows0, counts1 - counts0
    if spec.fmt == "am-webhook":
        # Every accepted alert is one more on a count (new alert: 1, repeat: +1).
        passed = new_counts == ok and new_rows <= spec.distinct
    else:
        # Distinct dedup keys: every accepted event is one new alert row.
        passed = ok <= new_rows <= sent and new_counts == new_rows
    res["check"] = {
        "accepted": ok,
        "sent": sent,
        "new_alert_rows": new_rows,
        "sum_count_delta": new_counts,
        "passed": passed and not res["errors"],
    }
    return res


def figure_line(spec: Spec, runs: list[dict[str, Any]], database: str) -> dict[str, Any]:
    rates = [r["events_per_s"] for r in runs]
    median_run = sorted(runs, key=lambda r: r["events_per_s"])[len(runs) // 2]
    line: dict[str, Any] = {
        "figure": spec.figure,
        "system": spec.system,
        "database": database if spec.system == "watchbill" else None,
        "format": spec.fmt,
        "events": spec.events,
        "batch": spec.batch,
        "concurrency": spec.concurrency,
        "distinct": spec.distinct if spec.distinct < UNIQUE else "unique",
        "unit": "alerts/s" if spec.batch > 1 else "events/s",
        "value": round(statistics.median(rates), 1),
        "runs": rates,
        "latency_ms": median_run["latency_ms"],
        "server_cpu_s": median_run["server_cpu_s"],
        "client_cpu_s": median_run["client_cpu_s"],
        "per_server_cpu_s": round(median_run["events_ok"] / median_run["server_cpu_s"], 1)
        if median_run["server_cpu_s"]
        else None,
        "errors": [r["errors"] for r in runs if r["errors"]],
        "loadavg": median_run["loadavg_after"],
    }
    if spec.system == "watchbill":
        line["checks"] = [r["check"] for r in runs]
        line["verified"] = all(r["check"]["passed"] for r in runs)
    return line


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--database-url", help="PostgreSQL server to make a scratch database on")
    p.add_argument("--repeat", type=int, default=3, help="measured runs per figure (median)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every event count")
    p.add_argument("--no-alertmanager", action="store_true", help="Watchbill figures only")
    p.add_argument("--no-worker", action="store_true", help="serve --no-worker")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument(
        "--analyze",
        action="store_true",
        help="PostgreSQL: ANALYZE before each run (what autovacuum would do; see README)",
    )
    a = p.parse_args(argv)
    if not (BENCH_DIR / "alert_load.py").exists():
        sys.exit(f"no alert_load.py in {BENCH_DIR}: set WATCHBILL_BENCH_DIR")
    use_am = not a.no_alertmanager
    if use_am and not os.access(ALERTMANAGER_BIN, os.X_OK):
        log(f"{ALERTMANAGER_BIN} missing: Watchbill figures only")
        use_am = False

    workdir = Path(tempfile.mkdtemp(prefix="watchbill-intake-bench-"))
    database = "postgresql" if a.database_url else "sqlite"
    failed = False
    try:
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(scratch_postgres(a.database_url)) if a.database_url else None
            wb = Watchbill(workdir / "watchbill", url, worker=not a.no_worker)
            wb.prepare()
            wb.start()
            stack.callback(wb.dispose)
            stack.callback(wb.stop)
            am_url, am_pid = (
                stack.enter_context(alertmanager(workdir / "alertmanager")) if use_am else (None, 0)
            )
            log(
                f"watchbill {wb.base_url} ({database}), alertmanager {am_url}, "
                f"load {os.getloadavg()}"
            )
            # Warm-up (not reported): imports, statement caches, the first alert rows.
            for spec, peer in specs(a.scale * 0.1):
                run_watchbill(wb, spec, seed=1000, analyze=a.analyze)
                if am_url and peer:
                    alert_load(
                        am_url,
                        peer.fmt,
                        events=peer.events,
                        batch=peer.batch,
                        concurrency=peer.concurrency,
                        distinct=peer.distinct,
                        seed=1000,
                    )
            pairs = specs(a.scale)
            results: dict[str, list[dict[str, Any]]] = {}
            for rep in range(a.repeat):
                for wspec, amspec in pairs:
                    run = run_watchbill(wb, wspec, seed=rep + 1, analyze=a.analyze)
                    results.setdefault(wspec.figure, []).append(run)
                    log(f"{wspec.figure} #{rep + 1}: {run['events_per_s']}/s {run['check']}")
                    if am_url and amspec:
                        am_run = measured(
                            am_pid,
                            am_url,
                            amspec.fmt,
                            events=amspec.events,
                            batch=amspec.batch,
                            concurrency=amspec.concurrency,
                            distinct=amspec.distinct,
                            seed=rep + 1,
                            max_seconds=300,
                        )
                        results.setdefault(amspec.figure, []).append(am_run)
                        log(f"{amspec.figure} #{rep + 1}: {am_run['events_per_s']}/s")
            lines = {}
            for wspec, amspec in pairs:
                line = figure_line(wspec, results[wspec.figure], database)
                if am_url and amspec:
                    peer = figure_line(amspec, results[amspec.figure], database)
                    line["alertmanager_figure"] = amspec.figure
                    line["alertmanager_value"] = peer["value"]
                    line["ratio_vs_alertmanager"] = round(line["value"] / peer["value"], 3)
                    lines[amspec.figure] = peer
                lines[wspec.figure] = line
                failed |= not line["verified"]
            for line in lines.values():
                print(json.dumps(line, separators=(",", ":")), flush=True)
            summary = {
                "summary": "intake_throughput",
                "database": database,
                "worker": not a.no_worker,
                "autovacuum": wb.query("SHOW autovacuum")[0][0] if url else None,
                "analyze_before_runs": bool(a.analyze and url),
                "cpus": os.cpu_count(),
                "repeat": a.repeat,
                "watchbill_peak_rss_mb": peak_rss_mb(wb.proc.pid) if wb.proc else None,
                "verified": not failed,
                "loadavg_end": [round(x, 2) for x in os.getloadavg()],
            }
            print(json.dumps(summary, separators=(",", ":")), flush=True)
    finally:
        if a.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
