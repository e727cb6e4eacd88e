"""What a new incident writes: its timeline rows with actors, and exactly one durable
incident.triggered job (none when nobody should be paged)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from tests.intake.helpers import pd_event, put_service, rows
from watchbill.alerts.models import MaintenanceWindow
from watchbill.jobs.queue import enqueue
from watchbill.jobs.worker import Worker


def test_a_new_incident_has_its_timeline(client, keys, db, clock):
    client.post("/v2/enqueue", json=pd_event(keys["pd"], dedup_key="k"))
    [incident] = rows(db, "incidents")
    events = rows(db, "incident_events")
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("incident.triggered", "integration:checkout/pd"),
        ("alert.triggered", "integration:checkout/pd"),
        ("escalation.queued", "system:watchbill"),
    ]
    assert all(e["incident_id"] == incident["id"] and e["at"] == clock.now() for e in events)
    triggered, alert, queued = events
    assert triggered["message"] == "SEV1 incident opened on checkout"
    assert triggered["data"] == {"groupKey": "alert:k", "severity": "SEV1"}
    assert alert["message"] == "Checkout latency above 2 s"
    assert alert["data"] == {"dedupKey": "k", "severity": "critical", "suppressed": ""}
    assert queued["data"] == {}


def test_one_job_per_incident_whatever_happens_next(client, admin, db):
    keys = put_service(client, admin, grouping={"by": ["..."]})
    for key in ("a", "b", "a"):  # one incident: two alerts, one repeat
        client.post("/v2/enqueue", json=pd_event(keys["pd"], dedup_key=key))
    client.post("/v2/enqueue", json=pd_event(keys["pd"], "acknowledge", dedup_key="a"))
    [incident] = rows(db, "incidents")
    [job] = rows(db, "jobs", "kind = 'incident.triggered'")
    # The acknowledge event announces itself too (escalation stops on it).
    [acked] = rows(db, "jobs", "kind = 'incident.acknowledged'")
    assert acked["payload"] == {"incidentId": incident["id"]}
    assert job["payload"] == {"incidentId": incident["id"]}
    assert job["idempotency_key"] == f"incident.triggered:{incident['id']}"
    assert job["status"] == "pending"
    kinds = [e["kind"] for e in rows(db, "incident_events")]
    assert kinds.count("incident.triggered") == 1
    assert kinds.count("alert.triggered") == 2
    assert kinds.count("escalation.queued") == 1

    # the idempotency key holds even if something asked again
    with db.engine.begin() as conn:
        again = enqueue(
            conn,
            kind="incident.triggered",
            payload={"incidentId": incident["id"]},
            now=job["created_at"],
            idempotency_key=job["idempotency_key"],
        )
    assert again is None
    assert len(rows(db, "jobs", "kind = 'incident.triggered'")) == 1


def test_each_new_incident_gets_its_own_job_and_the_job_runs_once(client, keys, db, clock):
    for key in ("a", "b", "c"):
        client.post("/v2/enqueue", json=pd_event(keys["pd"], dedup_key=key))
    incidents = rows(db, "incidents")
    jobs = rows(db, "jobs")
    assert sorted(j["payload"]["incidentId"] for j in jobs) == [i["id"] for i in incidents]

    worker = Worker(db, clock)
    assert worker.run_once() == 3
    assert worker.run_once() == 0
    skipped = rows(db, "incident_events", "kind = 'escalation.skipped'")
    assert sorted(e["incident_id"] for e in skipped) == [i["id"] for i in incidents]
    assert {e["actor"] for e in skipped} == {"system:watchbill"}
    assert {j["status"] for j in rows(db, "jobs")} == {"done"}


def test_a_suppressed_incident_queues_no_job(client, keys, db, clock):
    [pd] = rows(db, "integrations", "name = 'pd'")
    with db.engine.begin() as conn:
        conn.execute(
            insert(MaintenanceWindow),
            [
                {
                    "service_id": pd["service_id"],
                    "starts_at": clock.now() - timedelta(minutes=5),
                    "ends_at": clock.now() + timedelta(hours=1),
                    # longer than the 500 characters the suppression reason is stored in
                    "description": "database migration " + "x" * 1500,
                    "created_by": "ops",
                    "created_at": clock.now(),
                }
            ],
        )
    response = client.post("/v2/enqueue", json=pd_event(keys["pd"], dedup_key="k"))
    assert response.status_code == 202, response.text
    [alert] = rows(db, "alerts")
    [incident] = rows(db, "incidents")
    assert alert["suppressed"].startswith("maintenance window #1: database migration")
    assert incident["suppressed"] == alert["suppressed"]
    assert rows(db, "jobs") == []
    kinds = [(e["kind"], e["actor"]) for e in rows(db, "incident_events")]
    assert kinds == [
        ("incident.triggered", "integration:checkout/pd"),
        ("incident.suppressed", "system:watchbill"),
        ("alert.triggered", "integration:checkout/pd"),
    ]

    # after the window, the next incident pages again
    clock.advance(hours=2)
    client.post("/v2/enqueue", json=pd_event(keys["pd"], dedup_key="after"))
    [job] = rows(db, "jobs")
    assert job["payload"] == {"incidentId": rows(db, "incidents")[1]["id"]}
