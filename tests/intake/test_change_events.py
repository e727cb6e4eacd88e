"""Change events (/v2/change/enqueue) are stored with their service; they open nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.intake.helpers import counts, rows


def test_a_change_event_is_stored(client, keys, db, clock):
    event = {
        "routing_key": keys["pd"],
        "payload": {
            "summary": "Deployed checkout v2.3.1",
            "source": "github-actions",
            "timestamp": "2026-03-02T08:30:00Z",
            "custom_details": {"commit": "abc123", "author": "alice"},
        },
        "links": [{"href": "https://github.com/acme/checkout/pull/42", "text": "PR #42"}],
    }
    response = client.post("/v2/change/enqueue", json=event)
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Change event processed"}

    [change] = rows(db, "change_events")
    [pd] = rows(db, "integrations", "name = 'pd'")
    assert change["service_id"] == pd["service_id"]
    assert change["integration_id"] == pd["id"]
    assert change["summary"] == "Deployed checkout v2.3.1"
    assert change["source"] == "github-actions"
    assert change["occurred_at"] == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert change["received_at"] == clock.now()
    assert change["details"] == {"commit": "abc123", "author": "alice"}
    assert change["links"] == [
        {"href": "https://github.com/acme/checkout/pull/42", "text": "PR #42"}
    ]
    assert "routing_key" not in change["raw"]
    assert change["raw"]["payload"]["summary"] == "Deployed checkout v2.3.1"
    c = counts(db)
    assert (c["alerts"], c["incidents"], c["jobs"]) == (0, 0, 0)


def test_without_a_timestamp_the_change_happened_on_receipt(client, keys, db, clock):
    clock.advance(hours=2)
    event = {"routing_key": keys["pd"], "payload": {"summary": "Config push"}}
    assert client.post("/v2/change/enqueue", json=event).status_code == 202
    [change] = rows(db, "change_events")
    assert change["occurred_at"] == clock.now()
    assert change["source"] == ""
    assert change["details"] == {}
