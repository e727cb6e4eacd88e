"""The intake writer wakes the job worker only when a batch queued work for it: a new
incident's escalation. Repeats and alerts joining an open incident queue nothing, and
waking the worker for them would cost a claim transaction per batch. Both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.intake.helpers import rows
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.intake.events import RESOLVE, TRIGGER, AlertEvent
from watchbill.intake.writer import IntakeWriter, Submission
from watchbill.integrations.models import EVENTS_V2


def test_the_worker_is_woken_only_for_new_incidents(
    client: TestClient, admin: dict[str, str], keys: dict[str, str], db: Database, clock: FakeClock
) -> None:
    grouped = client.patch(
        "/api/v1/services/checkout", json={"grouping": {"by": ["alertname"]}}, headers=admin
    )
    assert grouped.status_code == 200, grouped.text
    wakes: list[int] = []
    writer = IntakeWriter(db, clock, wake_worker=lambda: wakes.append(1))

    def send(action: str, dedup: str, alertname: str = "DiskFull") -> str:
        event = AlertEvent(action=action, dedup_key=dedup, labels={"alertname": alertname})
        sub = Submission(key=keys["pd"], types=(EVENTS_V2,), events=[event])
        return writer.submit(sub).result(5).outcomes[0].result

    assert send(TRIGGER, "a") == "created" and len(wakes) == 1  # opens an incident
    assert send(TRIGGER, "a") == "deduplicated" and len(wakes) == 1
    assert send(TRIGGER, "b") == "created" and len(wakes) == 1  # joins the open incident
    assert send(RESOLVE, "a") == "resolved" and len(wakes) == 1
    assert send(TRIGGER, "c", alertname="CPUHigh") == "created" and len(wakes) == 2
    queued = rows(db, "jobs", "kind = 'incident.triggered'")
    assert len(queued) == len(wakes)
