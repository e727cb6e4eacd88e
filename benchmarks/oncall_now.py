"""Who is on call now, and a year of a schedule: the on-call read paths at scale.

    .venv/bin/python benchmarks/oncall_now.py                     # SQLite file
    .venv/bin/python benchmarks/oncall_now.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Fills a scratch database (a SQLite file in a temporary directory; with --postgres also
a scratch database on that server, dropped at the end) with 1,000 schedules of three
layers each (a weekly rotation, a nights layer with a daily restriction, a weekend layer
with a weekly restriction) across 60 people, written through the real Schedule resource,
and 3 overrides per schedule (two past, one future) plus a current one on every tenth
schedule. Then it times:

    oncall_now_cold     service.who_is_on_call for all 1,000 schedules, parse cache empty
    oncall_now          the same, warm: 2 queries + the core (target ≤ 50 ms)
    oncall_now_api      GET /api/v1/oncall inside the app (auth, JSON; informational)
    oncall_now_core     the pure core alone: on_call_at over 1,000 parsed schedules
    year_5_layers       core final_shifts for one year of a 5-layer schedule with
                        restrictions and 50 overrides (target ≤ 50 ms)
    year_sub_day        core layer_shifts for one year of five layers with turns of 1,
                        2, 8 and 12 hours and a day, counted on New York's wall clock
                        (informational: 15,333 shifts, both DST changes)

Prints one JSON line per figure: wall-clock p50/p99 in ms and CPU p50 (process time:
what one dedicated core would take; it does not grow when other processes compete for
the CPUs, wall time does).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from fastapi.testclient import TestClient
from scratch import scratch_database
from timing import emit, timed

from watchbill.access import Principal, Role
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import migrations
from watchbill.app.web import create_app
from watchbill.auth import service as auth
from watchbill.context import Ctx
from watchbill.core import schedule as core
from watchbill.resources import service as resources
from watchbill.schedules import service
from watchbill.schedules.models import ScheduleOverride
from watchbill.schedules.resource import SCHEDULES
from watchbill.schedules.schemas import ScheduleSpec
from watchbill.settings import Settings
from watchbill.users.models import User
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec

SCHEDULES_N = 1000
PEOPLE = 60
OWNER = Principal(kind="cli", name="bench", role=Role.OWNER, source_ip="local")
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"]


def spec(i: int) -> ScheduleSpec:
    people = [f"p{(i * 7 + k) % PEOPLE:02d}" for k in range(6)]
    return ScheduleSpec.model_validate(
        {
            "timeZone": ZONES[i % len(ZONES)],
            "layers": [
                {
                    "name": "week",
                    "users": people[:4],
                    "rotationStart": "2025-01-06",
                    "handoffTime": f"{8 + i % 3:02d}:00",
                    "turn": {"weeks": 1},
                },
                {
                    "name": "nights",
                    "users": people[4:],
                    "rotationStart": "2025-01-06",
                    "turn": {"days": 1 + i % 3},
                    "restrictions": [
                        {
                            "type": "daily",
                            "startTime": f"{18 + i % 4}:00",
                            "duration": {"hours": 12},
                        }
                    ],
                },
                {
                    "name": "weekend",
                    "users": people[1:3],
                    "rotationStart": "2025-01-06",
                    "turn": {"weeks": 1},
                    "restrictions": [
                        {
                            "type": "weekly",
                            "startDay": "saturday",
                            "startTime": "09:00",
                            "duration": {"hours": 36},
                        }
                    ],
                },
            ],
        }
    )


def fill(db: Database, now: datetime) -> None:
    with db.transaction() as session:
        ctx = Ctx(session, OWNER, system_clock)
        for p in range(PEOPLE):
            resources.put(ctx, USERS, f"p{p:02d}", UserSpec(email=f"p{p:02d}@example.com"))
        for i in range(SCHEDULES_N):
            row = resources.put(ctx, SCHEDULES, f"s{i:04d}", spec(i)).obj
            user_ids = [u.id for u in row.members]
            # Two past and one future override each; every tenth schedule also has one
            # now (an override answers at once, so most must go through the layers).
            offsets = (-72, -30, 20, -1) if i % 10 == 0 else (-72, -30, 20)
            for k, offset in enumerate(offsets):
                session.add(
                    ScheduleOverride(
                        schedule_id=row.id,
                        user_id=user_ids[(i + k) % len(user_ids)],
                        starts_at=now + timedelta(hours=offset),
                        ends_at=now + timedelta(hours=offset + 4),
                        created_by="bench",
                        created_at=now,
                    )
                )
        session.flush()
        assert session.query(User).count() == PEOPLE


def year_schedule() -> core.Schedule:
    tz = "America/New_York"
    start = datetime(2025, 1, 6, 9, tzinfo=UTC)
    layers = tuple(
        core.Layer(
            f"l{i}",
            ("a", "b", "c", "d")[: 2 + i % 3],
            start,
            86_400 * (1 + i),
            restrictions=(
                (core.Restriction("daily", dtime(6 + 3 * i), timedelta(hours=9)),) if i else ()
            ),
        )
        for i in range(5)
    )
    overrides = tuple(
        core.Override(
            "o",
            datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=7 * k),
            datetime(2026, 1, 1, 5, tzinfo=UTC) + timedelta(days=7 * k),
        )
        for k in range(50)
    )
    return core.Schedule(tz, layers, overrides)


def sub_day_layers() -> tuple[core.Layer, ...]:
    start = datetime(2025, 1, 6, 9, tzinfo=UTC)
    return tuple(
        core.Layer(f"h{hours}", ("a", "b", "c"), start, hours * 3600) for hours in (1, 2, 8, 12, 24)
    )


def measure(url: str, runs: int) -> None:
    migrations().upgrade(url)
    db = Database(url, pool_size=4)
    now = system_clock.now()
    started = time.perf_counter()
    fill(db, now)
    dialect = db.dialect
    print(
        json.dumps({"filled": dialect, "seconds": round(time.perf_counter() - started, 1)}),
        file=sys.stderr,
    )
    service._cache.clear()
    with db.read() as session:
        emit(
            "oncall_now_cold",
            timed(lambda: service.who_is_on_call(session, now), 1),
            database=dialect,
            schedules=SCHEDULES_N,
        )
        answers = service.who_is_on_call(session, now)
        assert len(answers) == SCHEDULES_N and all(a.user for a in answers)
        emit(
            "oncall_now",
            timed(lambda: service.who_is_on_call(session, now), runs),
            target_ms=50,
            database=dialect,
            schedules=SCHEDULES_N,
        )
    parsed = [service._cache[k][1] for k in sorted(service._cache)]
    emit(
        "oncall_now_core",
        timed(lambda: [core.on_call_at(s, now) for s in parsed], runs),
        database=dialect,
        schedules=len(parsed),
    )
    with db.transaction() as session:
        ctx = Ctx(session, OWNER, system_clock)
        token = auth.create_token(ctx, name="bench", role=Role.VIEWER).secret
    app = create_app(Settings(database_url=url), db=db, run_worker=False)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        assert client.get("/api/v1/oncall", headers=headers).status_code == 200
        emit(
            "oncall_now_api",
            timed(lambda: client.get("/api/v1/oncall", headers=headers), max(1, runs // 2)),
            database=dialect,
            schedules=SCHEDULES_N,
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="also run on this PostgreSQL server URL")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    targets = [None] + ([args.postgres] if args.postgres else [])
    sched = year_schedule()
    y0, y1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    shifts = core.final_shifts(sched, y0, y1)
    emit(
        "year_5_layers",
        timed(lambda: core.final_shifts(sched, y0, y1), args.runs),
        target_ms=50,
        shifts=len(shifts),
    )
    layers = sub_day_layers()

    def sub_day() -> list[core.Shift]:
        return [s for layer in layers for s in core.layer_shifts(layer, "America/New_York", y0, y1)]

    emit("year_sub_day", timed(sub_day, args.runs), shifts=len(sub_day()))
    for pg in targets:
        with scratch_database(pg) as url:
            measure(url, args.runs)


if __name__ == "__main__":
    main()
