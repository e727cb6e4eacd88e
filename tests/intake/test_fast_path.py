"""Intake requests skip FastAPI's router (IntakeFastPath); what they skip must not
change what senders and operators see: metrics by route template (never the key), the
application's answers for anything that is not an intake request, and a retryable 503
(never a 500) when the database refuses the batch. Both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.intake.helpers import pd_event, snapshot
from watchbill.access import Role
from watchbill.adapters.db.engine import Database


def requests_counted(metrics: str, route: str, status: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "watchbill_http_requests_total" and sample.labels == {
                "method": sample.labels["method"],
                "route": route,
                "status": status,
            }:
                return float(sample.value)
    return 0.0


def test_intake_requests_are_counted_by_route_template_without_the_key(
    client: TestClient, keys: dict[str, str], token_for, db: Database
) -> None:
    viewer = token_for(Role.VIEWER)
    before = client.get("/metrics", headers=viewer).text
    am = {"alerts": [{"labels": {"alertname": "DiskFull"}, "status": "firing"}]}
    assert client.post(f"/integrations/{keys['am']}/alertmanager", json=am).status_code == 202
    assert client.post("/v2/enqueue", json=pd_event(keys["pd"])).status_code == 202
    assert client.get(f"/integrations/{keys['hb']}/heartbeat").status_code == 202
    after = client.get("/metrics", headers=viewer).text
    routes = ("/integrations/{key}/alertmanager", "/v2/enqueue", "/integrations/{key}/heartbeat")
    for route in routes:
        assert requests_counted(after, route, "202") == requests_counted(before, route, "202") + 1
    assert not any(key in after for key in keys.values())


def test_what_is_not_an_intake_request_gets_the_applications_answer(
    client: TestClient, keys: dict[str, str], db: Database
) -> None:
    before = snapshot(db)
    am = keys["am"]
    for method, url, status in [
        ("GET", f"/integrations/{am}/alertmanager", 405),
        ("PUT", "/v2/enqueue", 405),
        ("POST", f"/integrations/{am}/nothing-here", 404),
        ("POST", "/integrations//alertmanager", 404),
        ("POST", f"/integrations/{am}/alertmanager/extra", 404),
        ("POST", f"/v2/enqueue/{am}", 404),
    ]:
        response = client.request(method, url, json={"alerts": []})
        assert response.status_code == status, (method, url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), url
    assert snapshot(db) == before


@pytest.fixture
def refusing_database(db: Database) -> Iterator[None]:
    """A trigger that makes every new alert fail to store, as a full disk would."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_payloads() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_payloads BEFORE INSERT ON alert_payloads "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_payloads()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_payloads BEFORE INSERT ON alert_payloads "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
    yield
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER refuse_payloads ON alert_payloads"))
            conn.execute(text("DROP FUNCTION refuse_payloads()"))
        else:
            conn.execute(text("DROP TRIGGER refuse_payloads"))


def test_a_batch_the_database_refuses_is_a_retryable_503_and_writes_nothing(
    client: TestClient, keys: dict[str, str], db: Database, refusing_database: None
) -> None:
    before = snapshot(db)
    response = client.post("/v2/enqueue", json=pd_event(keys["pd"]))
    assert response.status_code == 503, response.text
    assert response.json()["status"] == "unavailable"
    am = {"alerts": [{"labels": {"alertname": "DiskFull"}, "status": "firing"}]}
    assert client.post(f"/integrations/{keys['am']}/alertmanager", json=am).status_code == 503
    assert snapshot(db) == before
