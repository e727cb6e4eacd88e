"""Watchbill's generic JSON events: one object or a list, every documented field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.intake.helpers import rows
from watchbill.intake.generic import parse_generic


def post(client: TestClient, key: str, body: Any) -> dict[str, Any]:
    response = client.post(f"/integrations/{key}/events", json=body)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_single_event_with_every_field(client, keys, db):
    event = {
        "action": "trigger",
        "dedupKey": "backup/nightly",
        "summary": "Nightly backup failed",
        "severity": "error",
        "source": "backup-01",
        "labels": {"team": "storage", "env": "prod"},
        "details": {"exitCode": 2, "log": ["line 1", "line 2"]},
        "links": [{"href": "https://ci.example.com/job/7", "text": "Job"}],
        "timestamp": "2026-03-02T03:00:00+01:00",
    }
    body = post(client, keys["gen"], event)
    assert body == {
        "status": "success",
        "service": "checkout",
        "events": 1,
        "results": {"created": 1},
    }

    [alert] = rows(db, "alerts")
    assert alert["dedup_key"] == "backup/nightly"
    assert alert["summary"] == "Nightly backup failed"
    assert alert["severity"] == "error"
    assert alert["source"] == "backup-01"
    assert alert["labels"] == {"severity": "error", "team": "storage", "env": "prod"}
    assert alert["details"] == {"exitCode": 2, "log": ["line 1", "line 2"]}
    assert alert["links"] == [{"href": "https://ci.example.com/job/7", "text": "Job"}]
    assert alert["raw"] == event
    [incident] = rows(db, "incidents")
    assert incident["severity"] == "SEV2"


def test_defaults_and_snake_case(client, keys, db):
    post(client, keys["gen"], {"dedup_key": "k", "summary": "s", "unknownField": True})
    [alert] = rows(db, "alerts")
    assert alert["dedup_key"] == "k"  # dedup_key is accepted as well as dedupKey
    assert (alert["severity"], alert["source"], alert["labels"]) == (
        "warning",
        "",
        {"severity": "warning"},
    )


def test_a_list_applies_in_order(client, keys, db):
    events = [
        {"dedupKey": "a", "summary": "A"},
        {"dedupKey": "b", "summary": "B", "severity": "critical"},
        {"dedupKey": "a", "summary": "A again"},
        {"action": "acknowledge", "dedupKey": "b"},
        {"action": "resolve", "dedupKey": "a"},
        {"action": "resolve", "dedupKey": "never-seen"},
    ]
    body = post(client, keys["gen"], events)
    assert body["events"] == 6
    assert body["results"] == {
        "created": 2,
        "deduplicated": 1,
        "acknowledged": 1,
        "resolved": 1,
        "ignored": 1,
    }
    a, b = rows(db, "alerts")
    assert (a["dedup_key"], a["status"], a["count"], a["summary"]) == (
        "a",
        "resolved",
        2,
        "A again",
    )
    assert (b["dedup_key"], b["status"]) == ("b", "firing")
    inc_a, inc_b = rows(db, "incidents")
    assert inc_a["status"] == "resolved"
    assert inc_b["status"] == "acknowledged"


def test_resolve_needs_no_summary(client, keys, db):
    post(client, keys["gen"], {"dedupKey": "k", "summary": "s"})
    post(client, keys["gen"], {"dedupKey": "k", "action": "resolve"})
    assert rows(db, "alerts")[0]["status"] == "resolved"


def test_a_list_of_1000_events_is_accepted(client, keys, db):
    events = [{"dedupKey": f"k{i}", "summary": f"event {i}"} for i in range(1000)]
    assert post(client, keys["gen"], events)["results"] == {"created": 1000}
    assert len(rows(db, "alerts")) == 1000


def test_the_timestamp_is_parsed_with_its_offset():
    [event] = parse_generic(
        {"dedupKey": "k", "summary": "s", "timestamp": "2026-03-02T03:00:00+01:00"}
    )
    assert event.occurred_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
