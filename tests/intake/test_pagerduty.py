"""PagerDuty Events API v2 at /v2/enqueue: trigger, repeat, acknowledge, resolve, with the
answers PagerDuty gives, and what each leaves in the database."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.intake.helpers import counts, pd_event, put_service, rows, snapshot


def post(client: TestClient, event: dict) -> dict:  # type: ignore[type-arg]
    response = client.post("/v2/enqueue", json=event)
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()  # type: ignore[no-any-return]


def test_trigger_answers_exactly_as_pagerduty(client, keys, db, clock):
    event = pd_event(keys["pd"], dedup_key="checkout/latency")
    event["payload"].update(
        component="api",
        group="web",
        **{"class": "latency"},
        timestamp="2026-03-02T08:59:00.000+0000",
        custom_details={"p99_ms": 2300, "region": "eu-west-1"},
    )
    event["links"] = [{"href": "https://grafana.example.com/d/1", "text": "Dashboard"}]
    event["client"] = "Grafana"
    event["client_url"] = "https://grafana.example.com"

    body = post(client, event)

    assert body == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "checkout/latency",
    }
    [alert] = rows(db, "alerts")
    [incident] = rows(db, "incidents")
    assert alert["dedup_key"] == "checkout/latency"
    assert alert["status"] == "firing"
    assert alert["summary"] == "Checkout latency above 2 s"
    assert alert["severity"] == "critical"
    assert alert["source"] == "web-01.example.com"
    assert alert["labels"] == {
        "severity": "critical",
        "source": "web-01.example.com",
        "component": "api",
        "group": "web",
        "class": "latency",
    }
    assert alert["details"] == {"p99_ms": 2300, "region": "eu-west-1"}
    assert alert["links"] == [{"href": "https://grafana.example.com/d/1", "text": "Dashboard"}]
    assert "routing_key" not in alert["raw"]  # the secret is not kept in the raw payload
    assert alert["raw"]["client"] == "Grafana"
    assert alert["count"] == 1
    assert alert["first_seen"] == alert["last_seen"] == clock.now()
    assert alert["incident_id"] == incident["id"]
    assert incident["status"] == "triggered"
    assert incident["title"] == "Checkout latency above 2 s"
    assert incident["severity"] == "SEV1"
    assert incident["urgency"] == "high"
    assert incident["alert_count"] == 1
    assert incident["created_at"] == clock.now()


def test_dedup_key_is_generated_when_absent(client, keys, db):
    first = post(client, pd_event(keys["pd"]))["dedup_key"]
    second = post(client, pd_event(keys["pd"]))["dedup_key"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second  # without a key, every trigger is a new alert
    assert [a["dedup_key"] for a in rows(db, "alerts")] == [first, second]
    assert counts(db)["incidents"] == 2


def test_a_repeat_counts_on_the_same_alert(client, keys, db, clock):
    post(client, pd_event(keys["pd"], dedup_key="k"))
    first_seen = clock.now()
    clock.advance(seconds=30)
    body = post(client, pd_event(keys["pd"], dedup_key="k"))
    assert body["dedup_key"] == "k"

    [alert] = rows(db, "alerts")
    [incident] = rows(db, "incidents")
    assert alert["count"] == 2
    assert alert["first_seen"] == first_seen
    assert alert["last_seen"] == clock.now()
    assert incident["alert_count"] == 1  # alerts, not events
    assert counts(db)["jobs"] == 1

    # a repeat that changes what is shown updates it
    changed = pd_event(keys["pd"], dedup_key="k")
    changed["payload"].update(summary="Checkout latency above 5 s", severity="warning")
    post(client, changed)
    [alert] = rows(db, "alerts")
    assert (alert["count"], alert["summary"], alert["severity"]) == (
        3,
        "Checkout latency above 5 s",
        "warning",
    )


def test_acknowledge_acknowledges_the_incident(client, keys, db, clock):
    post(client, pd_event(keys["pd"], dedup_key="k"))
    clock.advance(minutes=2)
    body = post(client, pd_event(keys["pd"], "acknowledge", dedup_key="k"))
    assert body == {"status": "success", "message": "Event processed", "dedup_key": "k"}

    [alert] = rows(db, "alerts")
    [incident] = rows(db, "incidents")
    assert alert["status"] == "firing"  # an acknowledged alert still fires
    assert incident["status"] == "acknowledged"
    assert incident["acknowledged_at"] == clock.now()
    [ack] = rows(db, "incident_events", "kind = 'status.acknowledged'")
    assert ack["actor"] == "integration:checkout/pd"

    # acknowledging again changes nothing
    before = snapshot(db)
    clock.advance(minutes=1)
    post(client, pd_event(keys["pd"], "acknowledge", dedup_key="k"))
    after = snapshot(db)
    assert after["incidents"] == before["incidents"]
    assert after["incident_events"] == before["incident_events"]


def test_resolve_resolves_the_alert_and_the_incident(client, keys, db, clock):
    post(client, pd_event(keys["pd"], dedup_key="k"))
    clock.advance(minutes=5)
    body = post(client, pd_event(keys["pd"], "resolve", dedup_key="k"))
    assert body == {"status": "success", "message": "Event processed", "dedup_key": "k"}

    [alert] = rows(db, "alerts")
    [incident] = rows(db, "incidents")
    assert alert["status"] == "resolved"
    assert alert["resolved_at"] == clock.now()
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] == clock.now()
    kinds = [(e["kind"], e["actor"]) for e in rows(db, "incident_events")]
    assert kinds[-2:] == [
        ("alert.resolved", "integration:checkout/pd"),
        ("status.resolved", "system:watchbill"),
    ]

    # the same key triggers again: a new alert and a new incident
    post(client, pd_event(keys["pd"], dedup_key="k"))
    alerts = rows(db, "alerts")
    incidents = rows(db, "incidents")
    assert [a["status"] for a in alerts] == ["resolved", "firing"]
    assert [i["status"] for i in incidents] == ["resolved", "triggered"]
    assert alerts[1]["incident_id"] == incidents[1]["id"]


def test_an_incident_resolves_only_when_all_of_its_alerts_do(client, admin, db):
    keys = put_service(client, admin, grouping={"by": ["..."]})
    post(client, pd_event(keys["pd"], dedup_key="a"))
    post(client, pd_event(keys["pd"], dedup_key="b"))
    [incident] = rows(db, "incidents")
    assert incident["alert_count"] == 2

    post(client, pd_event(keys["pd"], "resolve", dedup_key="a"))
    assert rows(db, "incidents")[0]["status"] == "triggered"
    post(client, pd_event(keys["pd"], "resolve", dedup_key="b"))
    assert rows(db, "incidents")[0]["status"] == "resolved"


def test_without_auto_resolve_the_incident_stays_open(client, admin, db):
    keys = put_service(client, admin, autoResolve=False)
    post(client, pd_event(keys["pd"], dedup_key="k"))
    post(client, pd_event(keys["pd"], "resolve", dedup_key="k"))
    [alert] = rows(db, "alerts")
    [incident] = rows(db, "incidents")
    assert alert["status"] == "resolved"
    assert incident["status"] == "triggered"
    assert incident["resolved_at"] is None
    assert not rows(db, "incident_events", "kind = 'status.resolved'")


def test_resolve_or_acknowledge_of_an_unknown_key_is_accepted_and_changes_nothing(client, keys, db):
    post(client, pd_event(keys["pd"], dedup_key="known"))
    before = snapshot(db)
    for action in ("resolve", "acknowledge"):
        body = post(client, pd_event(keys["pd"], action, dedup_key="never-seen"))
        assert body == {
            "status": "success",
            "message": "Event processed",
            "dedup_key": "never-seen",
        }
    after = snapshot(db)
    assert {t: v for t, v in after.items() if t != "integrations"} == {
        t: v for t, v in before.items() if t != "integrations"
    }


def test_dedup_is_per_service(client, admin, db):
    one = put_service(client, admin, "one", integrations=[{"name": "pd", "type": "events-v2"}])
    two = put_service(client, admin, "two", integrations=[{"name": "pd", "type": "events-v2"}])
    post(client, pd_event(one["pd"], dedup_key="same"))
    post(client, pd_event(two["pd"], dedup_key="same"))
    alerts = rows(db, "alerts")
    assert len(alerts) == 2
    assert alerts[0]["service_id"] != alerts[1]["service_id"]
    post(client, pd_event(one["pd"], "resolve", dedup_key="same"))
    assert [a["status"] for a in rows(db, "alerts")] == ["resolved", "firing"]


def test_a_dedup_key_of_255_characters_is_accepted(client, keys, db):
    key = "k" * 255
    assert post(client, pd_event(keys["pd"], dedup_key=key))["dedup_key"] == key
    assert rows(db, "alerts")[0]["dedup_key"] == key


def test_severity_maps_to_incident_severity_and_urgency(client, keys, db):
    for severity in ("critical", "error", "warning", "info"):
        event = pd_event(keys["pd"], dedup_key=severity)
        event["payload"]["severity"] = severity
        post(client, event)
    got = [(i["severity"], i["urgency"]) for i in rows(db, "incidents")]
    assert got == [("SEV1", "high"), ("SEV2", "high"), ("SEV3", "low"), ("SEV4", "low")]


def test_the_routing_key_may_have_surrounding_whitespace(client, keys, db):
    post(client, pd_event(f"  {keys['pd']}\n", dedup_key="k"))
    assert counts(db)["alerts"] == 1


def test_last_event_at_is_recorded_on_the_integration(client, keys, db, clock):
    clock.advance(minutes=3)
    post(client, pd_event(keys["pd"], dedup_key="k"))
    [pd] = rows(db, "integrations", "name = 'pd'")
    assert pd["last_event_at"] == clock.now()
    [am] = rows(db, "integrations", "name = 'am'")
    assert am["last_event_at"] is None
