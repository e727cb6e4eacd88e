"""Incident list at scale: 1,000,000 alerts and 100,000 incidents, first page ≤ 100 ms.

    .venv/bin/python benchmarks/incidents_list.py                     # SQLite file
    .venv/bin/python benchmarks/incidents_list.py \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test  # and PostgreSQL
    .venv/bin/python benchmarks/incidents_list.py --incidents 10000 --alerts 100000  # quick

Fills a scratch database (a SQLite file in a temporary directory; with --postgres also
a scratch database created on that server and dropped at the end) with bulk inserts
(executemany on SQLite, COPY on PostgreSQL): services, users, incidents (the newest
2% open, some suppressed, some assigned), their alerts and two timeline entries each.
Then it builds the real application (`create_app`) on it and times requests *inside*
the ASGI app (routing, auth, queries, templates, serialisation; not the test client's
transport): `--runs` requests each after 3 warm-up requests.

Prints one JSON line per figure: wall-clock p50/p99/max in ms inside the app, the CPU
time the app process used per request (cpu_p50_ms/cpu_p99_ms: what one dedicated core
would take, which unlike wall time does not grow when other processes compete for the
CPUs; PostgreSQL's own CPU is not in it), the target, the database, and the row counts.
Figures (target ≤ 100 ms at p99 for the first two):

    api_first_page        GET /api/v1/incidents (50 newest, any status)
    page_first_page       GET /incidents (the default view: open incidents) as a signed-in user
    page_all_statuses     GET /incidents?f=1 (newest of every status)
    api_status_triggered, api_service, api_assignee, api_text_search, api_cursor_deep,
    page_partial_refresh, api_detail, page_detail   (informational)

SQLite runs without ANALYZE (what an embedded install has); PostgreSQL gets
VACUUM ANALYZE after the load (what autovacuum would do).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient
from scratch import scratch_postgres
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from watchbill.access import Principal, Role
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.adapters.memory import tune_garbage_collector
from watchbill.app.assembly import migrations
from watchbill.app.web import create_app
from watchbill.auth import service as auth
from watchbill.catalog.models import Service
from watchbill.catalog.resources import SERVICES
from watchbill.catalog.schemas import ServiceSpec
from watchbill.context import Ctx
from watchbill.resources import service as resources
from watchbill.settings import Settings
from watchbill.users.models import User
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec

TARGET_MS = 100.0
SETUP = Principal(kind="cli", name="bench", role=Role.OWNER, source_ip="local")
PASSWORD = "benchmark passphrase"
SERVICES_N = 50
USERS_N = 20
CHUNK = 50_000

INCIDENT_COLS = [
    "id",
    "service_id",
    "title",
    "status",
    "severity",
    "priority",
    "urgency",
    "group_key",
    "escalation_policy",
    "suppressed",
    "auto_resolve",
    "alert_count",
    "merged_into_id",
    "created_at",
    "updated_at",
    "acknowledged_at",
    "resolved_at",
]
ALERT_COLS = [
    "id",
    "service_id",
    "integration_id",
    "incident_id",
    "dedup_key",
    "status",
    "severity",
    "summary",
    "source",
    "count",
    "suppressed",
    "first_seen",
    "last_seen",
    "resolved_at",
]
PAYLOAD_COLS = ["alert_id", "labels", "details", "links", "raw"]
EVENT_COLS = ["id", "incident_id", "at", "kind", "actor", "message", "data"]
WORDS = [
    "latency",
    "errors",
    "saturation",
    "disk",
    "memory",
    "cpu",
    "queue",
    "replication",
    "certificate",
    "dns",
]
ALERT_SEV = ("critical", "error", "warning", "info")


def log(message: str) -> None:
    print(f"[incidents_list] {message}", file=sys.stderr, flush=True)


def emit(figure: str, database: str, samples: list[float], **extra: Any) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
    line = {
        "benchmark": "incidents_list",
        "figure": figure,
        "database": database,
        "runs": len(samples),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(ordered[-1], 2),
        "unit": "ms",
        "cpus": os.cpu_count(),
        "loadavg": round(os.getloadavg()[0], 2),
        **extra,
    }
    print(json.dumps(line), flush=True)


# ------------------------------------------------------------------------ the data


def _ts(dialect: str, value: datetime | None) -> Any:
    """A timestamp as the UTCDateTime column stores it (naive UTC text on SQLite)."""
    if value is None or dialect != "sqlite":
        return value
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def generate(
    dialect: str, incidents: int, alerts: int, service_ids: list[int], now: datetime
) -> Iterator[tuple[str, list[str], list[tuple[Any, ...]]]]:
    """(table, columns, rows) chunks: incidents first, then alerts, then the timeline."""
    rng = random.Random(42)
    per = alerts / incidents
    span = timedelta(days=365).total_seconds()
    open_from = int(incidents * 0.98)
    rows: list[tuple[Any, ...]] = []
    plan: list[tuple[int, int, str, datetime, datetime | None, int, str]] = []
    for n in range(1, incidents + 1):
        created = now - timedelta(seconds=span * (incidents - n) / incidents + 60)
        sid = service_ids[n % len(service_ids)]
        status = "resolved"
        if n > open_from:
            status = "triggered" if n % 3 else "acknowledged"
        resolved = (
            created + timedelta(minutes=rng.randint(5, 240)) if status == "resolved" else None
        )
        acked = created + timedelta(minutes=2) if status != "triggered" else None
        count = int(per * n) - int(per * (n - 1))
        sev = rng.choice(("SEV1", "SEV2", "SEV3", "SEV3", "SEV4"))
        suppressed = "silenced by silence 7 (ada: planned failover)" if n % 37 == 0 else ""
        title = f"{rng.choice(WORDS).capitalize()} on svc-{sid} cluster-{n % 17} #{n}"
        rows.append(
            (
                n, sid, title, status, sev, None if n % 4 else f"P{1 + n % 5}",
                "high" if sev in ("SEV1", "SEV2") else "low", f"cluster-{n % 17}", None,
                suppressed, True, count, None,
                _ts(dialect, created), _ts(dialect, resolved or acked or created),
                _ts(dialect, acked), _ts(dialect, resolved),
            )
        )  # fmt: skip
        plan.append((n, sid, status, created, resolved, count, suppressed))
        if len(rows) >= CHUNK:
            yield "incidents", INCIDENT_COLS, rows
            rows = []
    if rows:
        yield "incidents", INCIDENT_COLS, rows
    aid = 0
    rows = []
    payloads: list[tuple[Any, ...]] = []
    for n, sid, _status, created, resolved, count, suppressed in plan:
        for k in range(count):
            aid += 1
            labels = orjson.dumps(
                {"alertname": f"{WORDS[aid % 10]}_high", "instance": f"node-{aid % 300}:9100",
                 "cluster": f"cluster-{n % 17}", "severity": ALERT_SEV[aid % 4]}
            ).decode()  # fmt: skip
            seen = created + timedelta(seconds=30 * k)
            rows.append(
                (
                    aid, sid, None, n, f"k{aid}", "firing" if resolved is None else "resolved",
                    ALERT_SEV[aid % 4], f"{WORDS[aid % 10]} high on node-{aid % 300}",
                    "prometheus", 1 + aid % 7,
                    suppressed, _ts(dialect, seen), _ts(dialect, resolved or seen),
                    _ts(dialect, resolved),
                )
            )  # fmt: skip
            payloads.append((aid, labels, '{"value": "0.97"}', "[]", "{}"))
            if len(rows) >= CHUNK:
                yield "alerts", ALERT_COLS, rows
                yield "alert_payloads", PAYLOAD_COLS, payloads
                rows, payloads = [], []
    if rows:
        yield "alerts", ALERT_COLS, rows
        yield "alert_payloads", PAYLOAD_COLS, payloads
    eid = 0
    rows = []
    for n, _sid, _status, created, resolved, count, _s in plan:
        eid += 1
        rows.append(
            (eid, n, _ts(dialect, created), "incident.triggered", "integration:prometheus",
             f"incident opened with {count} alert(s)", "{}")
        )  # fmt: skip
        if resolved is not None:
            eid += 1
            rows.append(
                (eid, n, _ts(dialect, resolved), "status.resolved", "system:watchbill",
                 "resolved: all of its alerts resolved", '{"auto": true}')
            )  # fmt: skip
        if len(rows) >= CHUNK:
            yield "incident_events", EVENT_COLS, rows
            rows = []
    if rows:
        yield "incident_events", EVENT_COLS, rows


def catalog(db: Database) -> tuple[list[int], list[int], str]:
    """Services and users through the real service functions; an owner with a password."""
    with db.transaction() as session:
        ctx = Ctx(session, SETUP, system_clock)
        for i in range(SERVICES_N):
            resources.put(ctx, SERVICES, f"svc-{i}", ServiceSpec(tier=1 + i % 4))
        for i in range(USERS_N):
            resources.put(
                ctx, USERS, f"user-{i}", UserSpec(email=f"user-{i}@example.com", role="responder")
            )
        owner = resources.put(
            ctx, USERS, "bench-owner", UserSpec(email="owner@example.com", role=Role.OWNER)
        ).obj
        auth.set_password(ctx, owner, PASSWORD)
        token = auth.create_token(ctx, name="bench", role=Role.VIEWER).secret
    with db.read() as session:
        sids = list(session.scalars(select(Service.id).order_by(Service.id)))
        uids = list(
            session.scalars(select(User.id).where(User.name.like("user-%")).order_by(User.id))
        )
    return sids, uids, token


def fill(db: Database, incidents: int, alerts: int) -> dict[str, Any]:
    started = time.perf_counter()
    sids, uids, token = catalog(db)
    now = system_clock.now()
    counts: dict[str, int] = {}
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, cols, rows in generate(db.dialect, incidents, alerts, sids, now):
            counts[table] = counts.get(table, 0) + len(rows)
            if db.dialect == "postgresql":
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(cols))
                cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
            log(f"{table}: {counts[table]:,} rows ({time.perf_counter() - started:.0f}s)")
        # Every 10th incident has an assignee (user-0 most often: the assignee filter).
        assigned = [(n, uids[(n // 10) % len(uids)]) for n in range(10, incidents + 1, 10)]
        marks = "%s, %s" if db.dialect == "postgresql" else "?, ?"
        cur.executemany(
            f"INSERT INTO incident_assignees (incident_id, user_id) VALUES ({marks})", assigned
        )
        counts["incident_assignees"] = len(assigned)
        if db.dialect == "postgresql":
            for table in ("incidents", "alerts", "incident_events"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        raw.commit()
    finally:
        raw.close()
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    log(f"filled in {time.perf_counter() - started:.0f}s")
    return {"rows": counts, "token": token, "fill_seconds": round(time.perf_counter() - started, 1)}


# ------------------------------------------------------------------------- timing


class Timed:
    """Wraps the ASGI app and records how long each request spent inside it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.samples: list[float] = []
        self.cpu: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.samples.append((time.perf_counter() - start) * 1000)
                self.cpu.append((time.process_time() - cpu) * 1000)


def measure(
    client: TestClient, timed: Timed, runs: int, path: str, headers: dict[str, str] | None = None
) -> tuple[list[float], dict[str, float]]:
    """Wall-clock samples inside the app, and the app process's CPU time per request."""
    for _ in range(3):
        resp = client.get(path, headers=headers)
        if resp.status_code != 200:
            raise SystemExit(f"GET {path}: {resp.status_code} {resp.text[:300]}")
    timed.samples.clear()
    timed.cpu.clear()
    for _ in range(runs):
        client.get(path, headers=headers)
    cpu = sorted(timed.cpu)
    figures = {
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p99_ms": round(cpu[min(len(cpu) - 1, max(0, round(0.99 * len(cpu)) - 1))], 2),
    }
    return list(timed.samples), figures


def sign_in(client: TestClient) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert csrf, "no login CSRF field"
    resp = client.post(
        "/login",
        data={"username": "bench-owner", "password": PASSWORD, "csrf": csrf[1], "next": "/"},
        follow_redirects=False,
    )
    if resp.status_code != 303:
        raise SystemExit(f"login failed: {resp.status_code}")


def reuse(db: Database) -> dict[str, Any] | None:
    """A database filled by an earlier run (--sqlite-path): a fresh token, its counts."""
    try:
        with db.read() as session:
            counts = {
                t: int(session.scalar(text(f"SELECT count(*) FROM {t}")) or 0)
                for t in ("incidents", "alerts")
            }
    except (OperationalError, ProgrammingError):  # not migrated yet: fill it
        return None
    if not counts["incidents"]:
        return None
    with db.transaction() as session:
        ctx = Ctx(session, SETUP, system_clock)
        token = auth.create_token(ctx, name=f"bench-{uuid.uuid4().hex[:6]}", role=Role.VIEWER)
    log(f"reusing the filled database: {counts}")
    return {"rows": counts, "token": token.secret}


def bench(url: str, label: str, args: argparse.Namespace, workdir: Path) -> None:
    db = Database(url)
    filled = reuse(db) if args.sqlite_path and label == "sqlite" else None
    db.dispose()
    if filled is None:
        log(f"{label}: migrating {make_url(url).render_as_string(hide_password=True)}")
        migrations().upgrade(url)
        db = Database(url)
        filled = fill(db, args.incidents, args.alerts)
        db.dispose()

    db = Database(url)
    settings = Settings(data_dir=workdir / "data", database_url=url)
    app = create_app(settings, db=db, run_worker=False)
    tune_garbage_collector()  # as `watchbill serve` does
    timed = Timed(app)
    api = {"Authorization": f"Bearer {filled['token']}"}
    extra = {"alerts": filled["rows"].get("alerts"), "incidents": filled["rows"].get("incidents")}
    with TestClient(timed) as client:  # type: ignore[arg-type]
        sign_in(client)
        main: list[tuple[str, str, dict[str, str] | None]] = [
            ("api_first_page", "/api/v1/incidents", api),
            ("page_first_page", "/incidents", None),
        ]
        for figure, path, headers in main:
            samples, cpu = measure(client, timed, args.runs, path, headers)
            emit(figure, label, samples, path=path, target_ms=TARGET_MS, **cpu, **extra)
        first = client.get("/api/v1/incidents", headers=api).json()
        deep_cursor = None
        page = first
        for _ in range(20):  # 20 pages down: the cursor stays an index seek
            deep_cursor = page["nextCursor"]
            page = client.get(
                "/api/v1/incidents", params={"cursor": deep_cursor}, headers=api
            ).json()
        newest = first["items"][0]["id"]
        informational: list[tuple[str, str, dict[str, str] | None]] = [
            ("page_all_statuses", "/incidents?f=1", None),
            (
                "page_partial_refresh",
                "/incidents?f=1&status=triggered&status=acknowledged",
                {"HX-Request": "true"},
            ),
            ("api_status_triggered", "/api/v1/incidents?status=triggered", api),
            ("api_status_open", "/api/v1/incidents?status=triggered,acknowledged", api),
            ("api_service", "/api/v1/incidents?service=svc-7", api),
            ("api_assignee", "/api/v1/incidents?assignee=user-3", api),
            ("api_suppressed", "/api/v1/incidents?suppressed=true", api),
            ("api_text_search", "/api/v1/incidents?q=certificate%20on%20svc-12", api),
            ("api_cursor_deep", f"/api/v1/incidents?cursor={deep_cursor}", api),
            ("api_detail", f"/api/v1/incidents/{newest}", api),
            ("page_detail", f"/incidents/{newest}", None),
        ]
        for figure, path, headers in informational:
            samples, cpu = measure(client, timed, max(10, args.runs // 2), path, headers)
            emit(figure, label, samples, path=path, **cpu, **extra)
    db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--postgres", metavar="URL", help="also on a scratch database here")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument(
        "--sqlite-path",
        type=Path,
        help="SQLite file to fill and keep; reused as it is when already filled",
    )
    args = parser.parse_args()
    if args.incidents < 100 or args.alerts < args.incidents:
        parser.error("need at least 100 incidents and one alert per incident")
    workdir = Path(tempfile.mkdtemp(prefix="wb-incidents-bench-"))
    try:
        if not args.no_sqlite:
            path = args.sqlite_path.resolve() if args.sqlite_path else workdir / "bench.db"
            bench(f"sqlite:///{path}", "sqlite", args, workdir)
        if args.postgres:
            with scratch_postgres(args.postgres, keep=args.keep) as url:
                bench(url, "postgresql", args, workdir)
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
