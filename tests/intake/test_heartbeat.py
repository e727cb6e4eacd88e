"""Heartbeats: no ping for longer than the interval raises one alert; a ping resolves it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.intake.helpers import put_service, rows
from watchbill.adapters.db.engine import Database
from watchbill.app.worker import start_recurring
from watchbill.core.clock import FakeClock
from watchbill.intake.heartbeat import SWEEP_JOB, sweep
from watchbill.jobs.handlers import JobRun
from watchbill.jobs.worker import Worker

PING = {"status": "success", "message": "Ping recorded"}


def sweep_now(db: Database, clock: FakeClock) -> None:
    with db.transaction() as session:
        sweep(JobRun(0, SWEEP_JOB, {}, 1, session, clock))


def ping(client: TestClient, key: str, method: str = "GET") -> None:
    response = client.request(method, f"/integrations/{key}/heartbeat")
    assert response.status_code == 202, response.text
    assert response.json() == PING


def test_a_missed_heartbeat_raises_one_alert_and_a_ping_resolves_it(client, keys, db, clock):
    [hb] = rows(db, "integrations", "name = 'hb'")
    clock.advance(seconds=60)
    sweep_now(db, clock)  # exactly the interval: not late yet
    assert rows(db, "alerts") == []

    clock.advance(seconds=1)
    sweep_now(db, clock)
    [alert] = rows(db, "alerts")
    assert alert["dedup_key"] == f"heartbeat:{hb['id']}"
    assert alert["status"] == "firing"
    assert alert["severity"] == "critical"
    assert alert["source"] == "watchbill-heartbeat"
    assert alert["summary"] == (
        "Heartbeat 'hb' of checkout missed: no ping in 60 s (last ping: never)"
    )
    assert alert["labels"] == {
        "alertname": "HeartbeatMissed",
        "heartbeat": "hb",
        "severity": "critical",
    }
    assert alert["integration_id"] == hb["id"]
    [incident] = rows(db, "incidents")
    assert incident["severity"] == "SEV1"
    assert {
        e["actor"] for e in rows(db, "incident_events") if e["kind"] != "escalation.queued"
    } == {"heartbeat:checkout"}

    clock.advance(seconds=30)
    sweep_now(db, clock)  # still late: still one alert, not counted again
    [alert] = rows(db, "alerts")
    assert alert["count"] == 1
    assert len(rows(db, "incidents")) == 1

    clock.advance(seconds=5)
    ping(client, keys["hb"])
    [alert] = rows(db, "alerts")
    [incident] = rows(db, "incidents")
    assert alert["status"] == "resolved"
    assert alert["resolved_at"] == clock.now()
    assert incident["status"] == "resolved"
    [hb] = rows(db, "integrations", "name = 'hb'")
    assert hb["last_event_at"] == clock.now()

    # the interval now runs from the ping
    pinged_at = clock.now()
    clock.advance(seconds=60)
    sweep_now(db, clock)
    assert len(rows(db, "alerts")) == 1
    clock.advance(seconds=1)
    sweep_now(db, clock)
    alerts = rows(db, "alerts")
    assert [a["status"] for a in alerts] == ["resolved", "firing"]
    assert f"(last ping: {pinged_at.isoformat()})" in alerts[1]["summary"]
    assert len(rows(db, "incidents")) == 2

    ping(client, keys["hb"], "POST")  # POST works as GET does
    assert [a["status"] for a in rows(db, "alerts")] == ["resolved", "resolved"]


def test_regular_pings_keep_it_quiet(client, admin, db, clock):
    keys = put_service(client, admin)
    late = put_service(
        client,
        admin,
        "batch",
        integrations=[{"name": "nightly", "type": "heartbeat", "intervalSeconds": 60}],
    )
    for _ in range(4):
        clock.advance(seconds=50)
        ping(client, keys["hb"])
        sweep_now(db, clock)
    # 200 s in: the pinged heartbeat is fine, the other one is late
    [alert] = rows(db, "alerts")
    assert alert["summary"].startswith("Heartbeat 'nightly' of batch missed")
    assert late["nightly"] != keys["hb"]


def test_a_ping_without_an_open_alert_only_records_the_time(client, keys, db, clock):
    clock.advance(seconds=5)
    ping(client, keys["hb"])
    assert rows(db, "alerts") == []
    assert rows(db, "incidents") == []
    [hb] = rows(db, "integrations", "name = 'hb'")
    assert hb["last_event_at"] == clock.now()


def test_the_worker_runs_the_sweep_chain_and_the_escalation_job(client, keys, db, clock):
    start_recurring(db, clock)
    start_recurring(db, clock)  # idempotent: one sweep per time slot
    worker = Worker(db, clock)
    assert worker.run_once() == 1  # the first sweep: nothing late yet
    assert rows(db, "alerts") == []

    clock.advance(seconds=61)
    assert worker.run_once() == 1  # the next sweep, scheduled by the first
    assert len(rows(db, "alerts")) == 1
    [incident] = rows(db, "incidents")
    assert worker.run_once() == 1  # incident.triggered (the next sweep is not due yet)
    skipped = rows(db, "incident_events", "kind = 'escalation.skipped'")
    assert [(e["incident_id"], e["message"]) for e in skipped] == [
        (incident["id"], "the service has no escalation policy; nobody was paged")
    ]
    clock.advance(seconds=10)
    assert worker.run_once() == 1  # the following sweep: still late, still one alert
    assert len(rows(db, "alerts")) == 1
    jobs = rows(db, "jobs")
    assert [j["kind"] for j in jobs].count("incident.triggered") == 1
    pending_sweeps = [j for j in jobs if j["kind"] == SWEEP_JOB and j["status"] == "pending"]
    assert len(pending_sweeps) == 1  # the chain goes on, one link at a time
