"""Debian's Alertmanager 0.25 notifying a real Watchbill, by webhook and by PagerDuty v2.

One receiver has both a `webhook_configs` entry pointing at the Alertmanager
integration and a `pagerduty_configs` entry pointing at `/v2/enqueue`, both with
`send_resolved`. Alerts posted to Alertmanager must open alerts and incidents in
Watchbill; the same alerts posted again with `endsAt` in the past must resolve them,
and the incidents must resolve by themselves (auto-resolve). The webhook alerts'
identities must be Alertmanager's own fingerprints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.server import wait_until
from tests.realtools.harness import (
    PD_KEY,
    Alertmanager,
    Watchbill,
    alertmanager,
    alertmanager_binary,
    watchbill,
)

pytestmark = pytest.mark.e2e

DEADLINE = 20.0
ALERTS = [
    {"alertname": name, "instance": f"{host}:9100", "job": "node", "severity": sev}
    for name, sev in (("HighLatency", "critical"), ("DiskFilling", "warning"))
    for host in ("web-1", "web-2")
]


def _config(wb: Watchbill) -> str:
    return f"""\
route:
  receiver: watchbill
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: watchbill
  webhook_configs:
  - url: {wb.base_url}/integrations/{wb.keys["prom"]}/alertmanager
    send_resolved: true
  pagerduty_configs:
  - url: {wb.base_url}/v2/enqueue
    routing_key: {PD_KEY}
    send_resolved: true
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Watchbill, Alertmanager]]:
    binary = alertmanager_binary()
    base = tmp_path_factory.mktemp("realtools-am")
    with (
        watchbill(base / "watchbill" / "data", worker=False) as wb,
        alertmanager(binary, base / "alertmanager", _config(wb)) as am,
    ):
        yield wb, am


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _post(am: Alertmanager, starts: datetime, ends: datetime | None) -> None:
    body: list[dict[str, Any]] = []
    for labels in ALERTS:
        alert: dict[str, Any] = {
            "labels": labels,
            "annotations": {"summary": f"{labels['alertname']} on {labels['instance']}"},
            "startsAt": _iso(starts),
            "generatorURL": "http://127.0.0.1:9090/graph",
        }
        if ends is not None:
            alert["endsAt"] = _iso(ends)
        body.append(alert)
    resp = httpx.post(f"{am.base_url}/api/v2/alerts", json=body, timeout=10.0)
    assert resp.status_code == 200, resp.text


def _json(value: Any) -> Any:
    """A JSON column read with plain SQL: a string on SQLite, decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def _alerts(wb: Watchbill, integration: str) -> list[Any]:
    return wb.rows(
        "SELECT a.dedup_key, a.status, a.incident_id, p.labels FROM alerts a "
        "JOIN alert_payloads p ON p.alert_id = a.id WHERE a.integration_id = :i",
        i=wb.ids[integration],
    )


def test_alertmanager_notifications_open_and_resolve_alerts(
    stack: tuple[Watchbill, Alertmanager],
) -> None:
    wb, am = stack
    starts = datetime.now(UTC) - timedelta(minutes=1)
    _post(am, starts, None)

    # Alertmanager's own view: every alert active, each with its fingerprint.
    reported = wait_until(
        lambda: (
            r
            if len(r := httpx.get(f"{am.base_url}/api/v2/alerts", timeout=5).json()) == len(ALERTS)
            else None
        ),
        DEADLINE,
        "Alertmanager to list the posted alerts",
    )
    assert {a["status"]["state"] for a in reported} == {"active"}
    fingerprints = {a["fingerprint"]: a["labels"] for a in reported}

    # Webhook: one Watchbill alert per Alertmanager alert, keyed by its fingerprint.
    webhook = wait_until(
        lambda: r if len(r := _alerts(wb, "prom")) == len(ALERTS) else None,
        DEADLINE,
        f"{len(ALERTS)} webhook alerts in Watchbill",
    )
    assert {a.dedup_key for a in webhook} == set(fingerprints)
    for alert in webhook:
        assert alert.status == "firing"
        assert _json(alert.labels) == fingerprints[alert.dedup_key]
    # Grouped by alertname in Watchbill too: one incident per alertname.
    assert len({a.incident_id for a in webhook}) == 2

    # PagerDuty v2: Alertmanager sends one event per notification group (2 groups).
    pd = wait_until(
        lambda: r if len(r := _alerts(wb, "pd")) == 2 else None,
        DEADLINE,
        "2 PagerDuty v2 alerts (one per Alertmanager group) in Watchbill",
    )
    assert {a.status for a in pd} == {"firing"}
    incident_ids = {a.incident_id for a in [*webhook, *pd]}
    assert None not in incident_ids
    assert wb.count("SELECT count(*) FROM incidents WHERE status = 'triggered'") == len(
        incident_ids
    )

    # The same alerts with endsAt in the past: Alertmanager sends the resolved
    # notifications on both channels, and Watchbill resolves alerts, then incidents.
    _post(am, starts, datetime.now(UTC) - timedelta(seconds=1))
    wait_until(
        lambda: (
            wb.count("SELECT count(*) FROM alerts WHERE status = 'resolved'") == len(ALERTS) + 2
        ),
        DEADLINE,
        "every alert resolved in Watchbill",
    )
    assert wb.count("SELECT count(*) FROM alerts WHERE status = 'firing'") == 0
    wait_until(
        lambda: (
            wb.count(
                "SELECT count(*) FROM incidents WHERE status = 'resolved' AND id IN "
                f"({', '.join(str(i) for i in incident_ids)})"
            )
            == len(incident_ids)
        ),
        DEADLINE,
        "every incident auto-resolved",
    )
    auto = wb.rows("SELECT incident_id, data FROM incident_events WHERE kind = 'status.resolved'")
    assert {r.incident_id for r in auto} == incident_ids
    assert all(_json(r.data).get("auto") is True for r in auto), auto
    assert am.proc.poll() is None, am.output()


def test_am_log_has_no_notify_errors(stack: tuple[Watchbill, Alertmanager]) -> None:
    """Alertmanager itself must not have seen a failed notification to Watchbill."""
    _wb, am = stack
    errors = [line for line in am.output().splitlines() if "level=error" in line]
    assert not errors, "\n".join(errors)
