"""Alertmanager's webhook (payload version 4): batches, grouping, resolution, fingerprints."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.intake.helpers import put_service, rows
from watchbill.core.fingerprint import fingerprint

EXTERNAL = "http://alertmanager.example.com:9093"


def alert(alertname: str, instance: str, status: str = "firing", **extra: Any) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": alertname, "instance": instance, "severity": "page"},
        "annotations": {"summary": f"{alertname} on {instance}"},
        "startsAt": "2026-03-02T08:58:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus:9090/graph?g0.expr={alertname}",
        **extra,
    }


def webhook(alerts: list[dict[str, Any]], status: str = "firing", **extra: Any) -> dict[str, Any]:
    """A payload as Alertmanager 0.25+ sends it, with every top-level field it sets."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "watchbill",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": EXTERNAL,
        "alerts": alerts,
        **extra,
    }


def post(client: TestClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/integrations/{key}/alertmanager", json=body)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_batch_forms_one_incident_per_group(client, admin, db):
    keys = put_service(client, admin, grouping={"by": ["alertname"]})
    batch = [
        alert("DiskFull", "db1:9100"),
        alert("DiskFull", "db2:9100"),
        alert("CPUHigh", "web1:9100"),
        alert("DiskFull", "db3:9100"),
        alert("CPUHigh", "web2:9100"),
    ]
    body = post(client, keys["am"], webhook(batch))
    assert body == {
        "status": "success",
        "service": "checkout",
        "events": 5,
        "results": {"created": 5},
    }

    incidents = rows(db, "incidents")
    assert [(i["group_key"], i["alert_count"]) for i in incidents] == [
        ("{alertname='DiskFull'}", 3),
        ("{alertname='CPUHigh'}", 2),
    ]
    by_incident = Counter(a["incident_id"] for a in rows(db, "alerts"))
    assert by_incident == {incidents[0]["id"]: 3, incidents[1]["id"]: 2}
    assert len(rows(db, "jobs")) == 2  # one escalation job per incident, not per alert

    # the same batch again only counts repeats
    again = post(client, keys["am"], webhook(batch))
    assert again["results"] == {"deduplicated": 5}
    assert len(rows(db, "alerts")) == 5
    assert all(a["count"] == 2 for a in rows(db, "alerts"))


def test_an_alert_becomes_an_alert_row(client, keys, db):
    post(client, keys["am"], webhook([alert("DiskFull", "db1:9100")]))
    [row] = rows(db, "alerts")
    labels = {"alertname": "DiskFull", "instance": "db1:9100", "severity": "page"}
    assert row["dedup_key"] == fingerprint(labels)
    assert row["labels"] == labels
    assert row["summary"] == "DiskFull on db1:9100"
    assert row["severity"] == "critical"  # severity=page
    assert row["source"] == "db1:9100"
    assert row["details"] == {"summary": "DiskFull on db1:9100"}
    assert row["links"] == [
        {"href": "http://prometheus:9090/graph?g0.expr=DiskFull", "text": "Source"},
        {"href": EXTERNAL, "text": "Alertmanager"},
    ]
    assert row["raw"]["startsAt"] == "2026-03-02T08:58:00.000Z"


def test_summary_and_severity_fall_back(client, keys, db):
    alerts = [
        {"labels": {"alertname": "A", "severity": "warn"}, "annotations": {"description": "d"}},
        {"labels": {"alertname": "B", "severity": "Major"}, "annotations": {"message": "m"}},
        {"labels": {"alertname": "C", "severity": "odd-one", "job": "node"}},
        {"labels": {"severity": "info"}},
    ]
    post(client, keys["am"], {"alerts": alerts})
    got = [(a["summary"], a["severity"], a["source"]) for a in rows(db, "alerts")]
    assert got == [
        ("d", "warning", ""),
        ("m", "error", ""),
        ("C", "warning", "node"),  # unknown severity words are warnings
        ("alert", "info", ""),
    ]


def test_resolved_alerts_resolve(client, admin, db):
    keys = put_service(client, admin, grouping={"by": ["alertname"]})
    post(
        client,
        keys["am"],
        webhook([alert("DiskFull", "db1"), alert("DiskFull", "db2"), alert("CPUHigh", "web1")]),
    )

    resolved = [alert("DiskFull", "db1", "resolved"), alert("DiskFull", "db2", "resolved")]
    body = post(client, keys["am"], webhook(resolved, status="resolved"))
    assert body["results"] == {"resolved": 2}
    assert [a["status"] for a in rows(db, "alerts")] == ["resolved", "resolved", "firing"]
    incidents = rows(db, "incidents")
    assert [i["status"] for i in incidents] == ["resolved", "triggered"]
    # the resolution is announced, once, so escalation cancels the incident's pending pages
    announced = rows(db, "jobs", "kind = 'incident.resolved'")
    assert [j["payload"] for j in announced] == [{"incidentId": incidents[0]["id"]}]

    # a resolved alert nobody saw fire is ignored
    body = post(client, keys["am"], webhook([alert("Never", "x", "resolved")]))
    assert body["results"] == {"ignored": 1}
    assert len(rows(db, "alerts")) == 3


def test_a_missing_fingerprint_is_computed_as_alertmanager_does(client, keys, db):
    labels = {"alertname": "HighLatency", "service": "checkout", "severity": "critical", "z": "é☃"}
    # 95dfa23d0590cbb4: what Alertmanager 0.25 itself reports for these labels
    post(client, keys["am"], {"alerts": [{"labels": labels}]})
    [row] = rows(db, "alerts")
    assert row["dedup_key"] == "95dfa23d0590cbb4"

    # the same alert, now with the fingerprint Alertmanager sends, is the same alert
    body = post(
        client,
        keys["am"],
        {"alerts": [{"labels": labels, "fingerprint": "95dfa23d0590cbb4", "status": "resolved"}]},
    )
    assert body["results"] == {"resolved": 1}
    assert [a["status"] for a in rows(db, "alerts")] == ["resolved"]


def test_a_given_fingerprint_is_the_identity(client, keys, db):
    post(client, keys["am"], {"alerts": [{"labels": {"alertname": "A"}, "fingerprint": "f1"}]})
    post(client, keys["am"], {"alerts": [{"labels": {"alertname": "B"}, "fingerprint": "f1"}]})
    [row] = rows(db, "alerts")
    assert row["dedup_key"] == "f1"
    assert row["count"] == 2


def test_unknown_fields_are_ignored(client, keys, db):
    future = alert("DiskFull", "db1", someFutureField={"nested": [1, 2]}, silencedBy=["x"])
    body = webhook([future], newTopLevel={"a": 1}, anotherOne=[None], version="5")
    assert post(client, keys["am"], body)["results"] == {"created": 1}
    assert rows(db, "alerts")[0]["summary"] == "DiskFull on db1"


def test_an_empty_batch_is_fine(client, keys, db):
    assert post(client, keys["am"], webhook([]))["events"] == 0
    assert rows(db, "alerts") == []


def test_status_defaults_to_firing_and_labels_may_be_empty(client, keys, db):
    post(client, keys["am"], {"alerts": [{"labels": {"alertname": "A"}}, {"labels": {}}]})
    alerts = rows(db, "alerts")
    assert [a["status"] for a in alerts] == ["firing", "firing"]
    assert alerts[1]["dedup_key"] == fingerprint({}) == "cbf29ce484222325"


def test_the_grouping_window_closes(client, admin, db, clock):
    keys = put_service(client, admin, grouping={"by": ["alertname"], "windowSeconds": 300})
    post(client, keys["am"], {"alerts": [alert("DiskFull", "db1")]})
    clock.advance(seconds=300)  # the boundary is still inside the window
    post(client, keys["am"], {"alerts": [alert("DiskFull", "db2")]})
    clock.advance(seconds=1)
    post(client, keys["am"], {"alerts": [alert("DiskFull", "db3")]})
    incidents = rows(db, "incidents")
    assert [i["alert_count"] for i in incidents] == [2, 1]
    assert incidents[0]["group_key"] == incidents[1]["group_key"]
    assert incidents[1]["created_at"] == datetime(2026, 3, 2, 9, 5, 1, tzinfo=UTC)


def test_a_resolved_incident_takes_no_new_alerts(client, admin, db):
    keys = put_service(client, admin, grouping={"by": ["alertname"]})
    post(client, keys["am"], {"alerts": [alert("DiskFull", "db1")]})
    post(client, keys["am"], {"alerts": [alert("DiskFull", "db1", "resolved")]})
    post(client, keys["am"], {"alerts": [alert("DiskFull", "db2")]})
    assert [i["status"] for i in rows(db, "incidents")] == ["resolved", "triggered"]


def test_group_by_a_label_with_a_very_long_value(client, admin, db):
    # The group key is stored in 512 characters; a longer one is hashed to fit.
    keys = put_service(client, admin, grouping={"by": ["alertname", "cluster"]})
    long_name = "L" * 4000
    post(client, keys["am"], {"alerts": [{"labels": {"alertname": long_name, "cluster": "a"}}]})
    post(
        client,
        keys["am"],
        {"alerts": [{"labels": {"alertname": long_name, "cluster": "a", "i": "2"}}]},
    )
    post(client, keys["am"], {"alerts": [{"labels": {"alertname": long_name, "cluster": "b"}}]})
    incidents = rows(db, "incidents")
    assert [i["alert_count"] for i in incidents] == [2, 1]
    assert all(len(i["group_key"]) <= 512 for i in incidents)
