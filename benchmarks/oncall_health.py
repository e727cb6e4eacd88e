"""On-call health over a quarter: the Director's report at the size of a real department.

    .venv/bin/python benchmarks/oncall_health.py                     # SQLite file
    .venv/bin/python benchmarks/oncall_health.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Fills a scratch database (a SQLite file in a temporary directory; with --postgres also a
scratch database on that server, dropped at the end) with 50 people in five time zones
and five teams, 10 schedules written through the real Schedule resource (a weekly
rotation of five with a nights layer and a weekend layer), and a quarter of paging
history: 6,000 incidents, 10,000 pages (each sent on two channels: 20,000 deliveries)
and an acknowledgement for 90 % of the incidents in the audit log. Then it times:

    health_quarter       service.report over the quarter, every person and team
                         (target: well under a second)
    health_quarter_team  the same for one team
    health_api_csv       GET /api/v1/oncall/health.csv for the quarter inside the app

Prints one JSON line per figure: wall-clock p50/p99 in ms and CPU p50 (process time).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from scratch import scratch_database
from sqlalchemy import insert
from timing import emit, timed

from watchbill.access import Principal, Role
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import migrations
from watchbill.app.web import create_app
from watchbill.audit import chain
from watchbill.audit.models import AuditEvent
from watchbill.auth import service as auth
from watchbill.catalog.models import Service
from watchbill.catalog.resources import TEAMS
from watchbill.catalog.schemas import TeamSpec
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.core.oncall_load import Limits
from watchbill.incidents.models import Incident
from watchbill.notify.models import Delivery
from watchbill.oncall_health import service
from watchbill.resources import service as resources
from watchbill.schedules.resource import SCHEDULES
from watchbill.schedules.schemas import ScheduleSpec
from watchbill.settings import Settings
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec

PEOPLE = 50
SCHEDULES_N = 10
INCIDENTS = 6_000
PAGES = 10_000
START = datetime(2026, 1, 5, tzinfo=UTC)
END = START + timedelta(weeks=13)
OWNER = Principal(kind="cli", name="bench", role=Role.OWNER, source_ip="local")
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"]
LIMITS = Limits(hours_on_call=42, sleep_pages=3, nights_interrupted=2)


def schedule(i: int) -> ScheduleSpec:
    people = [f"p{(i * 5 + k) % PEOPLE:02d}" for k in range(5)]
    return ScheduleSpec.model_validate(
        {
            "timeZone": ZONES[i % len(ZONES)],
            "layers": [
                {
                    "name": "week",
                    "users": people,
                    "rotationStart": "2025-12-01",
                    "turn": {"weeks": 1},
                },
                {
                    "name": "nights",
                    "users": people[::-1],
                    "rotationStart": "2025-12-01",
                    "turn": {"days": 1},
                    "restrictions": [
                        {"type": "daily", "startTime": "20:00", "duration": {"hours": 12}}
                    ],
                },
                {
                    "name": "weekend",
                    "users": people[1:3],
                    "rotationStart": "2025-12-01",
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


def fill(db: Database) -> None:
    rng = random.Random(7)
    span = (END - START).total_seconds()
    with db.transaction() as session:
        # The catalog as made at the start of the quarter: the audit log is in time
        # order, and the acknowledgements below follow it.
        ctx = Ctx(session, OWNER, FakeClock(START))
        for p in range(PEOPLE):
            spec = UserSpec(email=f"p{p:02d}@example.com", timeZone=ZONES[p % len(ZONES)])
            resources.put(ctx, USERS, f"p{p:02d}", spec)
        for t in range(5):
            members = [f"p{p:02d}" for p in range(t * 10, t * 10 + 12) if p < PEOPLE]
            resources.put(ctx, TEAMS, f"team-{t}", TeamSpec(members=members))
        for i in range(SCHEDULES_N):
            resources.put(ctx, SCHEDULES, f"s{i:02d}", schedule(i))
        svc = Service(name="checkout", created_at=START, updated_at=START)
        session.add(svc)
        session.flush()
        opened = sorted(START + timedelta(seconds=rng.uniform(0, span)) for _ in range(INCIDENTS))
        session.execute(
            insert(Incident),
            [
                {
                    "id": n + 1,
                    "service_id": svc.id,
                    "title": f"incident {n}",
                    "status": "acknowledged",
                    "severity": "SEV3",
                    "urgency": "high",
                    "group_key": f"alert:{n}",
                    "created_at": at,
                    "updated_at": at,
                }
                for n, at in enumerate(opened)
            ],
        )
        deliveries, acks = [], []
        for k in range(PAGES):
            n = k % INCIDENTS
            paged = opened[n] + timedelta(minutes=5 * (k // INCIDENTS))
            user = f"p{rng.randrange(PEOPLE):02d}"
            for channel in ("webhook", "email"):
                deliveries.append(
                    {
                        "incident_id": n + 1,
                        "user_name": user,
                        "contact_method": channel,
                        "channel": channel,
                        "address": "x",
                        "urgency": "high",
                        "status": "sent",
                        "send_at": paged,
                        "sent_at": paged + timedelta(seconds=1),
                        "created_at": paged,
                        "updated_at": paged,
                    }
                )
            if k < INCIDENTS and rng.random() < 0.9:
                acks.append(
                    {
                        "at": paged + timedelta(seconds=rng.uniform(30, 900)),
                        "actor": f"user:{user}",
                        "action": "incident.acknowledge",
                        "object_type": "Incident",
                        "object_id": str(n + 1),
                    }
                )
        session.execute(insert(Delivery), deliveries)
        # The audit log takes entries only at its end, in time order, sealed at commit.
        for ack in sorted(acks, key=lambda a: a["at"]):
            chain.append(session, AuditEvent(**ack, source_ip=""))


def measure(url: str, runs: int) -> None:
    migrations().upgrade(url)
    db = Database(url, pool_size=4)
    started = time.perf_counter()
    fill(db)
    dialect = db.dialect
    print(
        json.dumps({"filled": dialect, "seconds": round(time.perf_counter() - started, 1)}),
        file=sys.stderr,
    )
    with db.read() as session:

        def quarter(team: str | None = None) -> service.Report:
            return service.report(session, start=START, end=END, team=team, weekly_limits=LIMITS)

        report = quarter()
        pages = sum(p.load.pages for p in report.people)
        assert len(report.people) == PEOPLE and pages == PAGES, (len(report.people), pages)
        emit(
            "health_quarter",
            timed(quarter, runs),
            database=dialect,
            people=PEOPLE,
            schedules=SCHEDULES_N,
            pages=pages,
            warned=sum(1 for p in report.people if p.load.warnings),
        )
        emit("health_quarter_team", timed(lambda: quarter("team-2"), runs), database=dialect)
    with db.transaction() as session:
        token = auth.create_token(Ctx(session, OWNER, system_clock), name="bench", role=Role.VIEWER)
    app = create_app(Settings(database_url=url), db=db, run_worker=False)
    headers = {"Authorization": f"Bearer {token.secret}"}
    params = {"from": START.isoformat(), "to": END.isoformat()}
    with TestClient(app) as client:
        assert (
            client.get("/api/v1/oncall/health.csv", params=params, headers=headers).status_code
            == 200
        )
        emit(
            "health_api_csv",
            timed(
                lambda: client.get("/api/v1/oncall/health.csv", params=params, headers=headers),
                runs,
            ),
            database=dialect,
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="also run on this PostgreSQL server URL")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    for pg in [None] + ([args.postgres] if args.postgres else []):
        with scratch_database(pg) as url:
            measure(url, args.runs)


if __name__ == "__main__":
    main()
