"""RoutingRule as a resource: API, validation, roles, listing order, YAML round trip, and
`route test` through the API and the CLI (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import OWNER
from tests.routing.helpers import make_rule, make_services, pointers, problem
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import kinds
from watchbill.audit.models import AuditEvent
from watchbill.config.apply import apply_documents, export_documents
from watchbill.config.documents import load_documents
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.errors import WatchbillError
from watchbill.routing.models import RoutingRule
from watchbill.routing.resource import ROUTING_RULES

RULE: dict[str, Any] = {
    "order": 10,
    "description": "disk alerts of the API belong to the database team",
    "match": {
        "services": ["api"],
        "severities": ["warning", "critical"],
        "labels": ['alertname=~"Disk.*"', 'env!="dev"'],
        "text": "disk|volume",
    },
    "set": {"service": "db", "severity": "SEV2", "priority": "P2", "urgency": "high"},
    "suppress": False,
}


def rule_count(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(RoutingRule)) or 0)


@pytest.fixture
def services(db: Database, clock: FakeClock) -> dict[str, int]:
    return make_services(db, clock, "api", "db", policies={"api": "api-oncall"})


def test_create_read_patch_delete_with_audit(
    client: TestClient, token_for: Any, services: dict[str, int], db: Database
) -> None:
    admin = token_for(Role.ADMIN)
    made = client.post("/api/v1/routing-rules", json={"name": "disk-to-db", **RULE}, headers=admin)
    assert made.status_code == 201, made.text
    body = made.json()
    assert {k: body[k] for k in RULE} == {**RULE, "set": {**RULE["set"], "escalationPolicy": None}}
    got = client.get("/api/v1/routing-rules/disk-to-db", headers=token_for(Role.VIEWER)).json()
    assert got == body

    patched = client.patch(
        "/api/v1/routing-rules/disk-to-db", json={"order": 3, "suppress": True}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["order"], patched.json()["suppress"]) == (3, True)
    with db.read() as s:
        row = s.scalar(select(RoutingRule).where(RoutingRule.name == "disk-to-db"))
        assert row is not None and row.position == 3 and row.actions["suppress"] is True
        actions = [
            a.action
            for a in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == "RoutingRule")
                .order_by(AuditEvent.id)
            )
        ]
    assert actions == ["routingrule.create", "routingrule.update"]
    assert client.delete("/api/v1/routing-rules/disk-to-db", headers=admin).status_code == 204
    assert rule_count(db) == 0


BAD_RULES: list[tuple[dict[str, Any], str]] = [
    ({"match": {"labels": ['alertname=~"Disk(("']}}, "#/match/labels/0"),
    ({"match": {"labels": ["not a matcher"]}}, "#/match/labels/0"),
    ({"match": {"text": "(unclosed"}}, "#/match/text"),
    ({"match": {"severities": ["fatal"]}}, "#/match/severities/0"),
    ({"match": {"services": ["api", "api"]}}, "#/match/services"),
    ({"set": {"severity": "SEV9"}}, "#/set/severity"),
    ({"set": {"priority": "P0"}}, "#/set/priority"),
    ({"set": {"urgency": "urgent"}}, "#/set/urgency"),
    ({"set": {"escalationPolicy": "Not A Name"}}, "#/set/escalationPolicy"),
    ({"order": -1}, "#/order"),
    ({"sett": {}}, "#/sett"),
    ({"set": {"service": "nowhere"}}, "#/set/service"),
    ({"match": {"services": ["api", "nowhere"]}}, "#/match/services/1"),
]


def test_bad_rules_are_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, token_for: Any, services: dict[str, int], db: Database
) -> None:
    admin = token_for(Role.ADMIN)
    for change, pointer in BAD_RULES:
        resp = client.post("/api/v1/routing-rules", json={"name": "bad", **change}, headers=admin)
        assert pointer in pointers(problem(resp, 422)), change
        resp = client.put("/api/v1/routing-rules/bad", json=change, headers=admin)
        assert pointer in pointers(problem(resp, 422)), change
    made = client.put("/api/v1/routing-rules/good", json=RULE, headers=admin)
    assert made.status_code == 201, made.text
    resp = client.patch("/api/v1/routing-rules/good", json={"match": {"text": "(("}}, headers=admin)
    assert "#/match/text" in pointers(problem(resp, 422))
    assert rule_count(db) == 1
    assert client.get("/api/v1/routing-rules/good", headers=admin).json()["match"] == RULE["match"]


def test_only_admins_change_rules_and_every_role_reads_them(
    client: TestClient, token_for: Any, services: dict[str, int], db: Database
) -> None:
    for role in (Role.VIEWER, Role.RESPONDER):
        headers = token_for(role)
        problem(
            client.post("/api/v1/routing-rules", json={"name": "r", **RULE}, headers=headers), 403
        )
        problem(client.put("/api/v1/routing-rules/r", json=RULE, headers=headers), 403)
    assert rule_count(db) == 0
    assert (
        client.put("/api/v1/routing-rules/r", json=RULE, headers=token_for(Role.ADMIN)).status_code
        == 201
    )
    assert (
        client.get("/api/v1/routing-rules", headers=token_for(Role.VIEWER)).json()["items"][0][
            "name"
        ]
        == "r"
    )


def test_listing_is_in_evaluation_order_across_pages(
    client: TestClient, token_for: Any, db: Database, clock: FakeClock
) -> None:
    make_services(db, clock, "api")
    for name, order in [("b", 5), ("a", 5), ("c", 1), ("d", 30), ("e", 0)]:
        make_rule(db, clock, name, order=order)
    viewer = token_for(Role.VIEWER)
    names, cursor = [], None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/routing-rules", params=params, headers=viewer).json()
        names.append([i["name"] for i in page["items"]])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert names == [["e", "c"], ["a", "b"], ["d"]]
    problem(client.get("/api/v1/routing-rules?cursor=bm9wZQ", headers=viewer), 422)


YAML = """
apiVersion: watchbill/v1
kind: Service
metadata: {name: api}
spec: {tier: 1}
---
apiVersion: watchbill/v1
kind: Service
metadata: {name: db}
spec: {tier: 1}
---
apiVersion: watchbill/v1
kind: RoutingRule
metadata: {name: disk-to-db}
spec:
  order: 10
  description: disk alerts belong to the database team
  match:
    services: [api]
    labels: ['alertname=~"Disk.*"']
  set: {service: db, severity: SEV2}
---
apiVersion: watchbill/v1
kind: RoutingRule
metadata: {name: quiet-dev}
spec:
  order: 1
  match: {labels: [env=dev]}
  suppress: true
"""


def _apply(db: Database, clock: FakeClock, path: Path) -> list[Any]:
    with db.transaction() as session:
        return apply_documents(Ctx(session, OWNER, clock), kinds(), load_documents([path], kinds()))


def test_yaml_apply_export_round_trip(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    source = tmp_path / "rules.yaml"
    source.write_text(YAML)
    first = _apply(db, clock, source)
    assert [(c.doc.resource.kind, c.action) for c in first].count(("RoutingRule", "created")) == 2
    with db.read() as s:
        exported = export_documents(Ctx(s, OWNER, clock), [ROUTING_RULES])
    assert "kind: RoutingRule" in exported and 'alertname=~"Disk.*"' in exported
    again = tmp_path / "exported.yaml"
    again.write_text(exported)
    second = _apply(db, clock, again)
    assert {c.action for c in second} == {"unchanged"}
    with db.read() as s:
        assert export_documents(Ctx(s, OWNER, clock), [ROUTING_RULES]) == exported

    # A bad rule in a file names document and field, and the whole apply writes nothing.
    broken = tmp_path / "broken.yaml"
    broken.write_text(YAML.replace("set: {service: db", "set: {service: nowhere"))
    before = rule_count(db)
    with pytest.raises(WatchbillError) as err:
        _apply(db, clock, broken)
    assert "spec.set.service" in str(err.value)
    broken.write_text(YAML.replace("[env=dev]", "['env=~\"(\"']"))
    with pytest.raises(WatchbillError) as err:
        _apply(db, clock, broken)
    assert "match.labels.0" in str(err.value)
    assert rule_count(db) == before


# ----------------------------------------------------------------- route test


@pytest.fixture
def routed(db: Database, clock: FakeClock, services: dict[str, int]) -> None:
    make_rule(
        db,
        clock,
        "disk-to-db",
        order=10,
        match={"services": ["api"], "labels": ['alertname=~"Disk.*"']},
        set={"service": "db", "severity": "SEV2", "priority": "P2"},
    )
    make_rule(db, clock, "quiet-dev", order=1, match={"labels": ["env=dev"]}, suppress=True)


def test_route_test_api(client: TestClient, token_for: Any, routed: None) -> None:
    responder = token_for(Role.RESPONDER)
    hit = client.post(
        "/api/v1/routing-rules/test",
        json={"service": "api", "severity": "warning", "labels": {"alertname": "DiskFull"}},
        headers=responder,
    )
    assert hit.status_code == 200, hit.text
    out = hit.json()
    assert out["rule"]["name"] == "disk-to-db" and out["rule"]["order"] == 10
    assert (out["service"], out["severity"], out["priority"], out["urgency"]) == (
        "db",
        "SEV2",
        "P2",
        "low",
    )
    assert out["pages"] is True and out["suppressed"] == ""

    miss = client.post(
        "/api/v1/routing-rules/test",
        json={"service": "api", "severity": "critical", "summary": "CPU"},
        headers=responder,
    ).json()
    assert miss["rule"] is None
    assert (miss["service"], miss["severity"], miss["escalationPolicy"]) == (
        "api",
        "SEV1",
        "api-oncall",
    )

    quiet = client.post(
        "/api/v1/routing-rules/test",
        json={"service": "api", "labels": {"env": "dev", "alertname": "DiskFull"}},
        headers=responder,
    ).json()
    assert quiet["rule"]["name"] == "quiet-dev" and quiet["pages"] is False
    assert quiet["suppressed"] == "suppressed by routing rule 'quiet-dev'"

    bad = problem(
        client.post("/api/v1/routing-rules/test", json={"service": "nowhere"}, headers=responder),
        422,
    )
    assert "#/service" in pointers(bad)
    bad = problem(
        client.post(
            "/api/v1/routing-rules/test",
            json={"service": "api", "severity": "fatal", "at": "2026-01-01T00:00:00"},
            headers=responder,
        ),
        422,
    )
    assert {"#/severity", "#/at"} <= pointers(bad)
    problem(
        client.post(
            "/api/v1/routing-rules/test", json={"service": "api"}, headers=token_for(Role.VIEWER)
        ),
        403,
    )


def test_route_test_cli(run_cli: Any, routed: None, tmp_path: Path) -> None:
    hit = run_cli(
        "route", "test", "--service", "api", "--severity", "warning",
        "--label", "alertname=DiskUsage", "--summary", "disk 91% full",
    )  # fmt: skip
    assert hit.exit_code == 0, hit.output
    assert "rule:     disk-to-db (order 10) matches first" in hit.output
    assert "sets:     service=db, severity=SEV2, priority=P2" in hit.output
    assert "incident: on db, SEV2 P2, low urgency" in hit.output
    assert "pages:    yes" in hit.output

    miss = run_cli("route", "test", "--service", "api", "--severity", "critical", "-l", "x=y")
    assert miss.exit_code == 0, miss.output
    assert "rule:     none matches" in miss.output
    assert "incident: on api, SEV1, high urgency, escalation policy api-oncall" in miss.output

    events = tmp_path / "events.json"
    events.write_text(
        json.dumps(
            [
                {"service": "api", "labels": {"alertname": "DiskFull"}},
                {"service": "api", "labels": {"env": "dev"}},
                {"service": "db"},
            ]
        )
    )
    out = run_cli("route", "test", str(events), "--json")
    assert out.exit_code == 0, out.output
    results = json.loads(out.output)
    assert [r["rule"] and r["rule"]["name"] for r in results] == ["disk-to-db", "quiet-dev", None]
    assert [r["pages"] for r in results] == [True, False, True]

    listed = run_cli("route", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[1].split()[:2] == ["1", "quiet-dev"] and lines[2].split()[:2] == [
        "10",
        "disk-to-db",
    ]

    generic = run_cli("routing-rules", "list")
    assert generic.exit_code == 0 and "quiet-dev" in generic.output
    shown = run_cli("routing-rules", "show", "disk-to-db")
    assert shown.exit_code == 0 and "kind: RoutingRule" in shown.output

    bad = run_cli("route", "test", "--service", "nowhere")
    assert bad.exit_code == 1 and "service: 'nowhere' does not exist" in bad.output
    events.write_text('{"service": "api", "severity": "fatal"}')
    bad = run_cli("route", "test", str(events))
    assert bad.exit_code == 1 and "severity" in bad.output
