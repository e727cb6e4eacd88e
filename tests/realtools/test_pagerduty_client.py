"""PagerDuty's own Python client (`pagerduty` on PyPI) talking to Watchbill unchanged.

The library only speaks HTTPS, so the server runs with a throwaway self-signed
certificate and the client trusts it; the only thing changed is the base URL, exactly
what a user moving from PagerDuty would change. Trigger, acknowledge, resolve and a
change event must all succeed as the library sees it, and Watchbill's database must say
what happened.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.server import self_signed_cert
from tests.realtools.harness import PD_KEY, Watchbill, watchbill

pagerduty = pytest.importorskip(
    "pagerduty", reason="pip install pagerduty (dev extra) for the PagerDuty client tests"
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watchbill]:
    base = tmp_path_factory.mktemp("realtools-pd")
    with watchbill(base / "data", tls=self_signed_cert(base), worker=False) as server:
        yield server


@pytest.fixture
def statuses() -> list[tuple[str, int]]:
    return []


@pytest.fixture
def client(wb: Watchbill, statuses: list[tuple[str, int]]) -> Iterator[Any]:
    verify = wb.server.verify
    assert isinstance(verify, ssl.SSLContext)

    def record(response: Any) -> None:
        statuses.append((response.request.url.path, response.status_code))

    events = pagerduty.EventsApiV2Client(
        PD_KEY,
        base_url=wb.base_url,
        verify=verify,
        trust_env=False,
        event_hooks={"response": [record]},
    )
    events.max_network_attempts = 0  # a refused connection is a failure, not a retry loop
    try:
        yield events
    finally:
        events.close()


def _alert(wb: Watchbill, dedup_key: str) -> Any:
    rows = wb.rows(
        "SELECT a.status, a.summary, a.severity, a.source, a.count, a.details, a.links, "
        "a.integration_id, i.id AS incident_id, i.status AS incident_status "
        "FROM alerts a JOIN incidents i ON i.id = a.incident_id WHERE a.dedup_key = :k",
        k=dedup_key,
    )
    assert len(rows) == 1, rows
    return rows[0]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_trigger_acknowledge_resolve(
    wb: Watchbill, client: Any, statuses: list[tuple[str, int]]
) -> None:
    key = client.trigger(
        "Checkout latency above 2s",
        "checkout-1.prod",
        dedup_key="pdclient-checkout-latency",
        severity="error",
        custom_details={"p99_ms": 2300, "region": "eu-west-1"},
        links=[{"href": "https://runbooks.example.com/checkout", "text": "Runbook"}],
    )
    assert key == "pdclient-checkout-latency"
    alert = _alert(wb, key)
    assert alert.status == "firing"
    assert (alert.summary, alert.severity, alert.source) == (
        "Checkout latency above 2s",
        "error",
        "checkout-1.prod",
    )
    assert alert.integration_id == wb.ids["pd"]
    assert _json(alert.details) == {"p99_ms": 2300, "region": "eu-west-1"}
    assert {"href": "https://runbooks.example.com/checkout", "text": "Runbook"} in _json(
        alert.links
    )
    assert alert.incident_status == "triggered"

    # A repeat trigger deduplicates into the same alert.
    assert client.trigger("Checkout latency above 2s", "checkout-1.prod", dedup_key=key) == key
    assert _alert(wb, key).count == 2

    assert client.acknowledge(key) == key
    alert = _alert(wb, key)
    assert (alert.status, alert.incident_status) == ("firing", "acknowledged")

    assert client.resolve(key) == key
    alert = _alert(wb, key)
    assert (alert.status, alert.incident_status) == ("resolved", "resolved")

    assert statuses == [("/v2/enqueue", 202)] * 4


def test_trigger_without_dedup_key_gets_one(wb: Watchbill, client: Any) -> None:
    key = client.trigger("Queue depth high", "worker-3", severity="warning")
    assert key and isinstance(key, str)
    alert = _alert(wb, key)
    assert (alert.status, alert.severity) == ("firing", "warning")
    assert client.resolve(key) == key
    assert _alert(wb, key).status == "resolved"


def test_change_event(wb: Watchbill, client: Any, statuses: list[tuple[str, int]]) -> None:
    before = wb.count("SELECT count(*) FROM change_events")
    # `submit()` without a timestamp fails inside pagerduty 7.2.0 itself
    # (`datetime.timezone` on the datetime class), so pass one as callers must.
    client.submit(
        "Deployed checkout v42",
        source="ci-pipeline",
        custom_details={"build": 42, "sha": "abc123"},
        links=[{"href": "https://ci.example.com/builds/42", "text": "Build 42"}],
        timestamp=datetime(2026, 3, 2, 9, 30, tzinfo=UTC).isoformat(),
    )
    client.send_change_event(payload={"summary": "Feature flag checkout.v2 on"})
    assert statuses == [("/v2/change/enqueue", 202)] * 2
    rows = wb.rows(
        "SELECT summary, source, details, links, integration_id FROM change_events "
        "ORDER BY id DESC LIMIT 2"
    )
    assert wb.count("SELECT count(*) FROM change_events") == before + 2
    flag, deploy = rows
    assert (deploy.summary, deploy.source) == ("Deployed checkout v42", "ci-pipeline")
    assert _json(deploy.details) == {"build": 42, "sha": "abc123"}
    assert {"href": "https://ci.example.com/builds/42", "text": "Build 42"} in _json(deploy.links)
    assert flag.summary == "Feature flag checkout.v2 on"
    assert {deploy.integration_id, flag.integration_id} == {wb.ids["pd"]}


def test_library_sees_pagerduty_errors(wb: Watchbill, client: Any) -> None:
    """What PagerDuty refuses, Watchbill refuses the same way: the library raises."""
    with pytest.raises(pagerduty.HttpError) as bad_severity:
        client.trigger("x", "y", severity="fatal")
    assert bad_severity.value.response.status_code == 400
    assert bad_severity.value.response.json()["status"] == "invalid event"

    stranger = pagerduty.EventsApiV2Client(
        "f" * 32, base_url=wb.base_url, verify=wb.server.verify, trust_env=False
    )
    try:
        with pytest.raises(pagerduty.HttpError) as unknown_key:
            stranger.trigger("x", "y")
        assert unknown_key.value.response.status_code == 400
    finally:
        stranger.close()
