"""The catalog API (/api/v1/users|teams|services|components) on SQLite and PostgreSQL.

Every test drives the real FastAPI application through its HTTP interface and checks
the database (rows, audit events) directly where the HTTP answer alone could hide a
half-done write.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import make_token
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import kinds
from watchbill.audit.models import AuditEvent
from watchbill.catalog.models import (
    Component,
    Service,
    Team,
    component_services,
    service_dependencies,
    team_members,
)
from watchbill.core.clock import FakeClock
from watchbill.users.models import ContactMethod, User

PROBLEM = "application/problem+json"
MUTATING = ("POST", "PUT", "PATCH", "DELETE")


# ---------------------------------------------------------------- helpers


@pytest.fixture
def admin(db: Database, clock: FakeClock) -> dict[str, str]:
    """Bearer headers of an admin token with a known name (it shows up as the audit actor)."""
    return {"Authorization": f"Bearer {make_token(db, clock, Role.ADMIN, name='ci-admin')}"}


@pytest.fixture
def owner(db: Database, clock: FakeClock) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, Role.OWNER, name='the-owner')}"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem+json body of an error answer, after checking its status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def pointers(body: dict[str, Any]) -> list[str]:
    return [e["pointer"] for e in body.get("errors", []) if "pointer" in e]


def user_body(name: str, role: str = "responder", **extra: Any) -> dict[str, Any]:
    return {"name": name, "email": f"{name}@example.com", "role": role, **extra}


def seed(client: TestClient, headers: dict[str, str]) -> None:
    """A small organisation: 3 users, 2 teams, 5 services with dependencies, 2 components."""
    for body in (
        user_body("alice", "admin", timeZone="Europe/Berlin"),
        user_body("bob", "responder", timeZone="America/New_York"),
        user_body("carol", "viewer", timeZone="Asia/Kolkata"),
    ):
        ok(client.post("/api/v1/users", json=body, headers=headers), 201)
    ok(
        client.post(
            "/api/v1/teams",
            json={"name": "payments", "displayName": "Payments", "members": ["alice", "bob"]},
            headers=headers,
        ),
        201,
    )
    ok(
        client.post(
            "/api/v1/teams",
            json={"name": "platform", "displayName": "Platform", "members": ["bob"]},
            headers=headers,
        ),
        201,
    )
    services = [
        {"name": "ledger-db", "ownerTeam": "payments", "tier": 1, "displayName": "Ledger DB"},
        {"name": "kafka", "ownerTeam": "platform", "tier": 2, "displayName": "Event Streaming"},
        {
            "name": "payments-api",
            "ownerTeam": "payments",
            "tier": 1,
            "dependsOn": ["kafka", "ledger-db"],
            "displayName": "Payments API",
        },
        {
            "name": "checkout",
            "ownerTeam": "payments",
            "tier": 1,
            "dependsOn": ["payments-api"],
            "revenuePerHour": 120000.5,
            "displayName": "Checkout",
        },
        {"name": "wiki", "tier": 4, "displayName": "Internal Wiki"},
    ]
    for body in services:
        ok(client.post("/api/v1/services", json=body, headers=headers), 201)
    ok(
        client.post(
            "/api/v1/components",
            json={"name": "checkout-page", "services": ["checkout", "payments-api"]},
            headers=headers,
        ),
        201,
    )
    ok(
        client.post(
            "/api/v1/components",
            json={"name": "internal-docs", "public": False, "services": ["wiki"]},
            headers=headers,
        ),
        201,
    )


TABLES = (
    User,
    ContactMethod,
    Team,
    Service,
    Component,
    team_members,
    service_dependencies,
    component_services,
    AuditEvent,
)


def snapshot(db: Database) -> dict[str, Any]:
    """Row counts of every catalog table and the audit log, plus every object's spec,
    so that a refused request can be shown to have changed nothing at all."""
    with db.read() as s:
        counts = {
            getattr(t, "__tablename__", getattr(t, "name", "")): s.scalar(
                select(func.count()).select_from(t)
            )
            for t in TABLES
        }
        specs = {
            (res.kind, obj.name): (res.spec_json(obj), obj.updated_at)
            for res in kinds()
            for obj in s.scalars(select(res.model))
        }
    return {"counts": counts, "specs": specs}


def audit_events(db: Database, object_type: str, object_id: str) -> list[AuditEvent]:
    with db.read() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
                .order_by(AuditEvent.id)
            )
        )


def audit_total(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def walk(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> list[list[str]]:
    """Follow nextCursor from the first page to the last; the names on each page."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = ok(client.get(url, params=query, headers=headers))
        pages.append([item["name"] for item in body["items"]])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not terminate"


# ---------------------------------------------------------------- CRUD per kind

KIND = {"users": "User", "teams": "Team", "services": "Service", "components": "Component"}
CASES: dict[str, dict[str, Any]] = {
    "users": {
        "create": {
            "name": "dana",
            "email": "dana@example.com",
            "fullName": "Dana Scully",
            "timeZone": "Europe/Berlin",
            "contactMethods": [
                {"label": "mail", "type": "email", "address": "dana@example.com"},
                {"label": "phone", "type": "sms", "address": "+15550100123"},
            ],
        },
        "expect": {
            "fullName": "Dana Scully",
            "timeZone": "Europe/Berlin",
            "role": "responder",
            "active": True,
            "contactMethods": [
                {"label": "mail", "type": "email", "address": "dana@example.com"},
                {"label": "phone", "type": "sms", "address": "+15550100123"},
            ],
        },
        "put": {
            "email": "dana.s@example.com",
            "timeZone": "Australia/Sydney",
            "contactMethods": [
                {"label": "hook", "type": "webhook", "address": "https://hooks.example.com/d"}
            ],
        },
        "put_expect": {
            "email": "dana.s@example.com",
            "fullName": "",
            "timeZone": "Australia/Sydney",
            "contactMethods": [
                {"label": "hook", "type": "webhook", "address": "https://hooks.example.com/d"}
            ],
        },
        "patch": {"role": "viewer"},
        "patch_expect": {"role": "viewer", "email": "dana.s@example.com"},
    },
    "teams": {
        "create": {
            "name": "identity",
            "displayName": "Identity",
            "description": "Sign-in",
            "members": ["bob", "alice"],
        },
        "expect": {
            "displayName": "Identity",
            "description": "Sign-in",
            "members": ["alice", "bob"],
        },
        "put": {"displayName": "Identity & Access", "members": ["carol"]},
        "put_expect": {"displayName": "Identity & Access", "description": "", "members": ["carol"]},
        "patch": {"description": "SSO and sessions"},
        "patch_expect": {
            "displayName": "Identity & Access",
            "description": "SSO and sessions",
            "members": ["carol"],
        },
    },
    "services": {
        "create": {
            "name": "search",
            "displayName": "Search",
            "ownerTeam": "platform",
            "tier": 2,
            "dependsOn": ["ledger-db", "kafka"],
            "revenuePerHour": 1234.56,
            "runbookUrl": "https://runbooks.example.com/search",
        },
        "expect": {
            "displayName": "Search",
            "ownerTeam": "platform",
            "tier": 2,
            "dependsOn": ["kafka", "ledger-db"],
            "revenuePerHour": 1234.56,
            "runbookUrl": "https://runbooks.example.com/search",
        },
        "put": {"ownerTeam": "payments", "tier": 1},
        "put_expect": {
            "displayName": "",
            "ownerTeam": "payments",
            "tier": 1,
            "dependsOn": [],
            "revenuePerHour": 0,
            "runbookUrl": "",
        },
        "patch": {"dependsOn": ["kafka"], "revenuePerHour": 99},
        "patch_expect": {"ownerTeam": "payments", "tier": 1, "dependsOn": ["kafka"]},
    },
    "components": {
        "create": {
            "name": "api",
            "displayName": "Public API",
            "group": "Core",
            "position": 3,
            "services": ["payments-api", "checkout"],
        },
        "expect": {
            "displayName": "Public API",
            "group": "Core",
            "public": True,
            "position": 3,
            "services": ["checkout", "payments-api"],
        },
        "put": {"public": False},
        "put_expect": {"displayName": "", "group": "", "public": False, "services": []},
        "patch": {"services": ["kafka"], "position": 9},
        "patch_expect": {"public": False, "services": ["kafka"], "position": 9},
    },
}


def subset(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        assert actual[key] == value, f"{key}: {actual[key]!r} != {value!r}"


@pytest.mark.parametrize("plural", list(CASES))
def test_crud_round_trip(client, admin, db, clock, plural):
    seed(client, admin)
    case = CASES[plural]
    url = f"/api/v1/{plural}"
    name = case["create"]["name"]

    created = ok(client.post(url, json=case["create"], headers=admin), 201)
    assert created["name"] == name
    subset(created, case["expect"])
    assert created["createdAt"] == created["updatedAt"] == clock.now().isoformat()
    subset(ok(client.get(f"{url}/{name}", headers=admin)), case["expect"])

    body = problem(client.post(url, json=case["create"], headers=admin), 409)
    assert name in body["detail"]

    clock.advance(minutes=5)
    replaced = ok(client.put(f"{url}/{name}", json=case["put"], headers=admin), 200)
    subset(replaced, case["put_expect"])
    assert replaced["createdAt"] == created["createdAt"]
    assert replaced["updatedAt"] == clock.now().isoformat() != created["updatedAt"]

    clock.advance(minutes=5)
    patched = ok(client.patch(f"{url}/{name}", json=case["patch"], headers=admin), 200)
    subset(patched, case["patch_expect"])
    subset(patched, case["patch"])
    assert ok(client.get(f"{url}/{name}", headers=admin)) == patched

    assert client.delete(f"{url}/{name}", headers=admin).status_code == 204
    problem(client.get(f"{url}/{name}", headers=admin), 404)
    problem(client.delete(f"{url}/{name}", headers=admin), 404)
    problem(client.patch(f"{url}/{name}", json=case["patch"], headers=admin), 404)
    assert name not in [i["name"] for i in ok(client.get(url, headers=admin))["items"]]

    actions = [e.action for e in audit_events(db, KIND[plural], name)]
    kind = KIND[plural].lower()
    assert actions == [f"{kind}.create", f"{kind}.update", f"{kind}.update", f"{kind}.delete"]


@pytest.mark.parametrize("plural", list(CASES))
def test_put_creates_when_missing_with_201(client, admin, db, plural):
    seed(client, admin)
    case = CASES[plural]
    body = {k: v for k, v in case["create"].items() if k != "name"}
    r = client.put(f"/api/v1/{plural}/fresh-one", json=body, headers=admin)
    created = ok(r, 201)
    assert created["name"] == "fresh-one"
    subset(created, case["expect"])
    assert [e.action for e in audit_events(db, KIND[plural], "fresh-one")] == [
        f"{KIND[plural].lower()}.create"
    ]


def test_revenue_keeps_cents_and_is_a_json_number(client, admin):
    ok(
        client.post("/api/v1/services", json={"name": "a", "revenuePerHour": 0.1}, headers=admin),
        201,
    )
    body = ok(client.get("/api/v1/services/a", headers=admin))
    assert body["revenuePerHour"] == 0.1
    r = client.post("/api/v1/services", json={"name": "b", "revenuePerHour": 1.005}, headers=admin)
    assert pointers(problem(r, 422)) == ["#/revenuePerHour"]
    r = client.post("/api/v1/services", json={"name": "b", "revenuePerHour": -1}, headers=admin)
    assert pointers(problem(r, 422)) == ["#/revenuePerHour"]


# ---------------------------------------------------------------- listing


def names(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> list[str]:
    body = ok(client.get(url, params=params, headers=headers))
    assert body["nextCursor"] is None
    return [item["name"] for item in body["items"]]


def test_service_filters(client, admin):
    seed(client, admin)
    url = "/api/v1/services"
    assert names(client, url, admin) == ["checkout", "kafka", "ledger-db", "payments-api", "wiki"]
    assert names(client, url, admin, team="payments") == ["checkout", "ledger-db", "payments-api"]
    assert names(client, url, admin, team="platform") == ["kafka"]
    assert names(client, url, admin, team="nobody") == []
    assert names(client, url, admin, tier=1) == ["checkout", "ledger-db", "payments-api"]
    assert names(client, url, admin, tier=4) == ["wiki"]
    assert names(client, url, admin, tier=1, team="platform") == []
    # q matches the name or the display name, case-insensitively
    assert names(client, url, admin, q="PAY") == ["payments-api"]
    assert names(client, url, admin, q="streaming") == ["kafka"]
    assert names(client, url, admin, q="e", team="payments", tier=1) == [
        "checkout",
        "ledger-db",
        "payments-api",
    ]
    body = problem(client.get(url, params={"tier": "high"}, headers=admin), 422)
    assert body["errors"][0]["in"] == "query" and body["errors"][0]["parameter"] == "tier"


def test_user_team_and_component_filters(client, admin, db, clock):
    seed(client, admin)
    assert names(client, "/api/v1/users", admin, role="admin") == ["alice"]
    assert names(client, "/api/v1/users", admin, role="viewer") == ["carol"]
    assert names(client, "/api/v1/users", admin, role="owner") == []
    assert names(client, "/api/v1/users", admin, q="BOB@EXAMPLE") == ["bob"]
    body = problem(client.get("/api/v1/users", params={"role": "king"}, headers=admin), 422)
    assert body["errors"][0]["parameter"] == "role"

    assert names(client, "/api/v1/teams", admin, member="bob") == ["payments", "platform"]
    assert names(client, "/api/v1/teams", admin, member="alice") == ["payments"]
    assert names(client, "/api/v1/teams", admin, member="carol") == []

    assert names(client, "/api/v1/components", admin, public="false") == ["internal-docs"]
    assert names(client, "/api/v1/components", admin, public="true") == ["checkout-page"]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8])
def test_cursor_pagination_visits_every_item_once(client, admin, limit):
    for i in range(7):
        body = {"name": f"svc-{i:02d}", "tier": 1 + i % 2}
        ok(client.post("/api/v1/services", json=body, headers=admin), 201)
    everything = names(client, "/api/v1/services", admin)
    assert len(everything) == 7

    pages = walk(client, "/api/v1/services", admin, limit=limit)
    flat = [n for page in pages for n in page]
    assert flat == everything
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit
    assert len(pages) == -(-7 // limit)

    # a filter holds on every page, not just the first
    tier1 = walk(client, "/api/v1/services", admin, limit=limit, tier=1)
    assert [n for page in tier1 for n in page] == ["svc-00", "svc-02", "svc-04", "svc-06"]


def test_cursor_survives_deletion_of_the_last_seen_item(client, admin):
    for i in range(5):
        ok(client.post("/api/v1/teams", json={"name": f"t{i}"}, headers=admin), 201)
    first = ok(client.get("/api/v1/teams", params={"limit": 2}, headers=admin))
    assert [i["name"] for i in first["items"]] == ["t0", "t1"]
    assert client.delete("/api/v1/teams/t1", headers=admin).status_code == 204
    rest = walk(client, "/api/v1/teams", admin, limit=2, cursor=first["nextCursor"])
    assert [n for page in rest for n in page] == ["t2", "t3", "t4"]


def test_bad_cursor_or_limit_is_a_422_naming_the_parameter(client, admin):
    # "eyJhZnRlciI6IDF9" is {"after": 1} (a number, not a name); "e30" is {}
    for cursor in ("garbage!", "eyJhZnRlciI6IDF9", "e30"):
        r = client.get("/api/v1/services", params={"cursor": cursor}, headers=admin)
        assert problem(r, 422)["errors"] == [
            {"parameter": "cursor", "in": "query", "detail": "not a cursor"}
        ]
    for limit in (0, 501, -1):
        body = problem(client.get("/api/v1/users", params={"limit": limit}, headers=admin), 422)
        assert [(e["parameter"], e["in"]) for e in body["errors"]] == [("limit", "query")]


# ---------------------------------------------------------------- PUT, PATCH


def test_identical_put_is_a_no_op(client, admin, db, clock):
    seed(client, admin)
    body = {"ownerTeam": "payments", "tier": 2, "dependsOn": ["ledger-db", "kafka"]}
    first = ok(client.put("/api/v1/services/billing", json=body, headers=admin), 201)
    events = audit_total(db)
    clock.advance(hours=1)
    second = ok(client.put("/api/v1/services/billing", json=body, headers=admin), 200)
    assert second == first  # updatedAt included: nothing changed
    # the same spec in a different list order is the same spec
    reordered = {**body, "dependsOn": ["kafka", "ledger-db"]}
    assert ok(client.put("/api/v1/services/billing", json=reordered, headers=admin)) == first
    assert audit_total(db) == events
    assert len(audit_events(db, "Service", "billing")) == 1

    # ...while a real change is recorded
    ok(client.put("/api/v1/services/billing", json={**body, "tier": 3}, headers=admin))
    assert audit_total(db) == events + 1


def test_identical_user_put_keeps_contact_methods(client, admin, db):
    body = {
        "email": "erin@example.com",
        "contactMethods": [
            {"label": "a", "type": "email", "address": "erin@example.com"},
            {"label": "b", "type": "slack", "address": "https://hooks.example.com/erin"},
        ],
    }
    ok(client.put("/api/v1/users/erin", json=body, headers=admin), 201)
    with db.read() as s:
        ids_before = sorted(s.scalars(select(ContactMethod.id)))
    ok(client.put("/api/v1/users/erin", json=body, headers=admin), 200)
    with db.read() as s:
        assert sorted(s.scalars(select(ContactMethod.id))) == ids_before
    assert len(audit_events(db, "User", "erin")) == 1
    # reordering contact methods is a change (order is the paging order)
    swapped = {**body, "contactMethods": body["contactMethods"][::-1]}
    got = ok(client.put("/api/v1/users/erin", json=swapped, headers=admin))
    assert [c["label"] for c in got["contactMethods"]] == ["b", "a"]
    assert len(audit_events(db, "User", "erin")) == 2


def test_patch_validates_the_merged_spec(client, admin, db):
    seed(client, admin)
    before = snapshot(db)
    url = "/api/v1/services/checkout"
    assert pointers(problem(client.patch(url, json={"tier": 7}, headers=admin), 422)) == ["#/tier"]
    assert pointers(problem(client.patch(url, json={"tier": None}, headers=admin), 422)) == [
        "#/tier"
    ]
    r = client.patch(url, json={"dependsOn": ["kafka", "nope"]}, headers=admin)
    assert pointers(problem(r, 422)) == ["#/dependsOn/1"]
    r = client.patch(url, json={"dependsOn": ["checkout"]}, headers=admin)
    assert pointers(problem(r, 422)) == ["#/dependsOn"]
    r = client.patch(url, json={"ownerTeam": "ghosts"}, headers=admin)
    assert pointers(problem(r, 422)) == ["#/ownerTeam"]
    r = client.patch(url, json={"colour": "red"}, headers=admin)
    assert "#/colour" in pointers(problem(r, 422))
    r = client.patch(
        "/api/v1/users/bob",
        json={"contactMethods": [{"label": "x", "type": "pigeon", "address": "roof"}]},
        headers=admin,
    )
    assert pointers(problem(r, 422)) == ["#/contactMethods/0/type"]
    # e-mail addresses are unique, compared case-insensitively
    r = client.patch("/api/v1/users/bob", json={"email": "ALICE@example.com"}, headers=admin)
    assert pointers(problem(r, 422)) == ["#/email"]
    assert snapshot(db) == before

    # an empty patch is valid and changes nothing
    assert ok(client.patch(url, json={}, headers=admin))["tier"] == 1
    # null clears an optional reference
    assert ok(client.patch(url, json={"ownerTeam": None}, headers=admin))["ownerTeam"] is None


def test_patch_changes_only_the_given_fields(client, admin):
    seed(client, admin)
    before = ok(client.get("/api/v1/services/checkout", headers=admin))
    after = ok(client.patch("/api/v1/services/checkout", json={"tier": 2}, headers=admin))
    assert after["tier"] == 2
    assert {k: v for k, v in after.items() if k not in ("tier", "updatedAt")} == {
        k: v for k, v in before.items() if k not in ("tier", "updatedAt")
    }


# ---------------------------------------------------------------- validation


INVALID_CREATES = [
    ("services", {"name": "x", "tier": 7}, "#/tier"),
    ("services", {"name": "x", "tier": 0}, "#/tier"),
    ("services", {"name": "x", "tier": "one"}, "#/tier"),
    ("services", {"name": "x", "dependsOn": ["kafka", "nope"]}, "#/dependsOn/1"),
    ("services", {"name": "x", "dependsOn": ["kafka", "kafka"]}, "#/dependsOn"),
    ("services", {"name": "x", "dependsOn": ["x"]}, "#/dependsOn"),
    ("services", {"name": "x", "ownerTeam": "nope"}, "#/ownerTeam"),
    ("services", {"name": "x", "runbookUrl": "ftp://runbooks"}, "#/runbookUrl"),
    ("services", {"name": "x", "displayName": "bell\x07"}, "#/displayName"),
    ("services", {"name": "x", "displayName": "x" * 201}, "#/displayName"),
    ("services", {"name": "Bad_Name"}, "#/name"),
    ("services", {"name": "-dash"}, "#/name"),
    ("services", {"name": "a" * 64}, "#/name"),
    ("services", {"tier": 1}, "#/name"),
    ("teams", {"name": "x", "members": ["alice", "ghost"]}, "#/members/1"),
    ("teams", {"name": "x", "members": ["alice", "alice"]}, "#/members"),
    ("components", {"name": "x", "services": ["ghost"]}, "#/services/0"),
    ("components", {"name": "x", "position": -1}, "#/position"),
    ("users", {"name": "x", "email": "not-an-email"}, "#/email"),
    ("users", {"name": "x"}, "#/email"),
    ("users", {"name": "x", "email": "x@example.com", "timeZone": "Mars/Olympus"}, "#/timeZone"),
    ("users", {"name": "x", "email": "x@example.com", "role": "king"}, "#/role"),
    ("users", {"name": "x", "email": "bob@example.com"}, "#/email"),
    (
        "users",
        {
            "name": "x",
            "email": "x@example.com",
            "contactMethods": [
                {"label": "a", "type": "email", "address": "x@example.com"},
                {"label": "a", "type": "sms", "address": "+15550100"},
            ],
        },
        "#/contactMethods",
    ),
    (
        "users",
        {
            "name": "x",
            "email": "x@example.com",
            "contactMethods": [{"label": "a", "type": "sms", "address": " +1555 "}],
        },
        "#/contactMethods/0/address",
    ),
]


def test_invalid_create_is_422_with_a_pointer_to_the_field(client, admin, db):
    seed(client, admin)
    before = snapshot(db)
    for plural, body, pointer in INVALID_CREATES:
        got = problem(client.post(f"/api/v1/{plural}", json=body, headers=admin), 422)
        assert pointer in pointers(got), (body, got)
        assert all(err["detail"] for err in got["errors"]), got
    assert snapshot(db) == before


@pytest.mark.parametrize("plural", list(CASES))
def test_unknown_fields_are_rejected(client, admin, plural):
    seed(client, admin)
    body = {**CASES[plural]["create"], "colour": "red"}
    assert "#/colour" in pointers(
        problem(client.post(f"/api/v1/{plural}", json=body, headers=admin), 422)
    )
    put_body = {k: v for k, v in body.items() if k != "name"}
    r = client.put(f"/api/v1/{plural}/some-name", json=put_body, headers=admin)
    assert "#/colour" in pointers(problem(r, 422))
    # PUT has the name in the path; a name in the body is an unknown field too
    r = client.put(f"/api/v1/{plural}/some-name", json=CASES[plural]["create"], headers=admin)
    assert "#/name" in pointers(problem(r, 422))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_malformed_json_is_400(client, admin, db, method):
    seed(client, admin)
    before = snapshot(db)
    url = "/api/v1/services" if method == "POST" else "/api/v1/services/checkout"
    r = client.request(
        method,
        url,
        content=b'{"name": "x", "tier": ',
        headers={**admin, "content-type": "application/json"},
    )
    body = problem(r, 400)
    assert "JSON" in body["detail"]
    assert snapshot(db) == before


def test_body_that_is_not_an_object_is_422(client, admin):
    r = client.post("/api/v1/teams", json=["platform"], headers=admin)
    problem(r, 422)


def test_bad_name_in_the_path_is_422_naming_the_parameter(client, admin):
    body = problem(client.put("/api/v1/teams/Not_Valid", json={}, headers=admin), 422)
    assert body["errors"][0] == {
        "parameter": "name",
        "in": "path",
        "detail": body["errors"][0]["detail"],
    }


# ---------------------------------------------------------------- referential integrity


def test_team_owning_services_cannot_be_deleted(client, admin, db):
    seed(client, admin)
    before = snapshot(db)
    body = problem(client.delete("/api/v1/teams/payments", headers=admin), 409)
    assert "checkout, ledger-db, payments-api" in body["detail"]
    assert snapshot(db) == before
    # once it owns nothing, it can go; its services are untouched
    for svc in ("checkout", "ledger-db", "payments-api"):
        ok(client.patch(f"/api/v1/services/{svc}", json={"ownerTeam": "platform"}, headers=admin))
    assert client.delete("/api/v1/teams/payments", headers=admin).status_code == 204
    assert names(client, "/api/v1/services", admin, team="platform") == [
        "checkout",
        "kafka",
        "ledger-db",
        "payments-api",
    ]


def test_service_depended_on_cannot_be_deleted(client, admin, db):
    seed(client, admin)
    before = snapshot(db)
    body = problem(client.delete("/api/v1/services/kafka", headers=admin), 409)
    assert "payments-api" in body["detail"]
    body = problem(client.delete("/api/v1/services/payments-api", headers=admin), 409)
    assert "checkout" in body["detail"]
    assert snapshot(db) == before
    # a leaf goes, and takes its own dependency edges with it
    assert client.delete("/api/v1/services/checkout", headers=admin).status_code == 204
    assert client.delete("/api/v1/services/payments-api", headers=admin).status_code == 204
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(service_dependencies)) == 0
    assert client.delete("/api/v1/services/kafka", headers=admin).status_code == 204


def test_deleting_a_user_removes_them_from_teams(client, admin, db):
    seed(client, admin)
    assert client.delete("/api/v1/users/bob", headers=admin).status_code == 204
    assert ok(client.get("/api/v1/teams/payments", headers=admin))["members"] == ["alice"]
    assert ok(client.get("/api/v1/teams/platform", headers=admin))["members"] == []
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(ContactMethod)) == 0
        assert s.scalar(select(func.count()).select_from(team_members)) == 1


# ---------------------------------------------------------------- owners


def test_last_owner_cannot_be_demoted_deactivated_or_deleted(client, owner, db):
    ok(client.post("/api/v1/users", json=user_body("olga", "owner"), headers=owner), 201)
    before = snapshot(db)
    for change in ({"role": "admin"}, {"active": False}):
        body = problem(client.patch("/api/v1/users/olga", json=change, headers=owner), 409)
        assert "last owner" in body["detail"]
    r = client.put("/api/v1/users/olga", json={"email": "olga@example.com"}, headers=owner)
    problem(r, 409)  # PUT without role means responder: a demotion too
    problem(client.delete("/api/v1/users/olga", headers=owner), 409)
    assert snapshot(db) == before

    # with a second owner, the first may step down
    ok(client.post("/api/v1/users", json=user_body("pete", "owner"), headers=owner), 201)
    assert (
        ok(client.patch("/api/v1/users/olga", json={"role": "admin"}, headers=owner))["role"]
        == "admin"
    )
    problem(client.delete("/api/v1/users/pete", headers=owner), 409)
    # an inactive owner does not count as the remaining owner
    ok(client.patch("/api/v1/users/olga", json={"role": "owner", "active": False}, headers=owner))
    problem(client.delete("/api/v1/users/pete", headers=owner), 409)


def test_admin_cannot_make_or_change_owners(client, admin, owner, db):
    body = problem(client.post("/api/v1/users", json=user_body("x", "owner"), headers=admin), 403)
    assert "owner" in body["detail"]
    problem(
        client.put("/api/v1/users/x", json={"email": "x@e.com", "role": "owner"}, headers=admin),
        403,
    )
    ok(client.post("/api/v1/users", json=user_body("amy", "admin"), headers=admin), 201)
    problem(client.patch("/api/v1/users/amy", json={"role": "owner"}, headers=admin), 403)
    ok(client.post("/api/v1/users", json=user_body("olga", "owner"), headers=owner), 201)
    ok(client.post("/api/v1/users", json=user_body("pete", "owner"), headers=owner), 201)
    before = snapshot(db)
    # an admin may not demote, edit or delete an owner, even when another owner remains
    problem(client.patch("/api/v1/users/olga", json={"role": "viewer"}, headers=admin), 403)
    problem(
        client.patch("/api/v1/users/olga", json={"email": "me@example.com"}, headers=admin), 403
    )
    problem(client.delete("/api/v1/users/olga", headers=admin), 403)
    assert snapshot(db) == before
    # an admin may still read owners and re-PUT them unchanged (apply is idempotent)
    current = ok(client.get("/api/v1/users/olga", headers=admin))
    spec = {k: v for k, v in current.items() if k not in ("name", "createdAt", "updatedAt")}
    assert ok(client.put("/api/v1/users/olga", json=spec, headers=admin)) == current
    # an owner may make an owner
    assert (
        ok(client.patch("/api/v1/users/amy", json={"role": "owner"}, headers=owner))["role"]
        == "owner"
    )


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RESPONDER])
def test_viewers_and_responders_cannot_change_the_catalog(client, admin, token_for, db, role):
    seed(client, admin)
    weak = token_for(role)
    before = snapshot(db)
    existing = {
        "users": "bob",
        "teams": "platform",
        "services": "wiki",
        "components": "internal-docs",
    }
    for plural, case in CASES.items():
        name = existing[plural]
        put_body = {k: v for k, v in case["create"].items() if k != "name"}
        answers = [
            client.post(f"/api/v1/{plural}", json=case["create"], headers=weak),
            client.put(f"/api/v1/{plural}/{name}", json=put_body, headers=weak),
            client.put(f"/api/v1/{plural}/brand-new", json=put_body, headers=weak),
            client.patch(f"/api/v1/{plural}/{name}", json=case["patch"], headers=weak),
            client.delete(f"/api/v1/{plural}/{name}", headers=weak),
        ]
        for r in answers:
            assert "admin" in problem(r, 403)["detail"]
        # reading is allowed
        assert ok(client.get(f"/api/v1/{plural}/{name}", headers=weak))["name"] == name
        assert name in names(client, f"/api/v1/{plural}", weak)
    assert snapshot(db) == before


def test_no_token_or_an_unknown_token_is_401(client, db):
    for method in ("GET", *MUTATING):
        url = "/api/v1/services" if method in ("GET", "POST") else "/api/v1/services/x"
        r = client.request(method, url, json={"name": "x"})
        problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
        bad = {"Authorization": "Bearer wb_nope"}
        problem(client.request(method, url, json={"name": "x"}, headers=bad), 401)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Service)) == 0


# ---------------------------------------------------------------- audit


def test_every_mutation_is_audited_with_before_after_and_actor(client, admin, db, clock):
    seed(client, admin)
    clock.advance(minutes=1)
    ok(client.post("/api/v1/teams", json={"name": "sre", "members": ["carol"]}, headers=admin), 201)
    clock.advance(minutes=1)
    ok(client.put("/api/v1/teams/sre", json={"displayName": "SRE", "members": []}, headers=admin))
    clock.advance(minutes=1)
    ok(client.patch("/api/v1/teams/sre", json={"description": "reliability"}, headers=admin))
    clock.advance(minutes=1)
    assert client.delete("/api/v1/teams/sre", headers=admin).status_code == 204

    events = audit_events(db, "Team", "sre")
    assert [e.action for e in events] == [
        "team.create",
        "team.update",
        "team.update",
        "team.delete",
    ]
    assert {e.actor for e in events} == {"token:ci-admin"}
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert len({e.at for e in events}) == 4
    create, put, patch, delete = events
    assert create.before is None
    assert create.after == {"displayName": "", "description": "", "members": ["carol"]}
    assert put.before == create.after
    assert put.after == {"displayName": "SRE", "description": "", "members": []}
    assert patch.before == put.after
    assert patch.after == {"displayName": "SRE", "description": "reliability", "members": []}
    assert delete.before == patch.after
    assert delete.after is None

    # the same events, through the audit API
    page = ok(
        client.get("/api/v1/audit", params={"objectType": "Team", "objectId": "sre"}, headers=admin)
    )
    assert [e["action"] for e in page["items"]] == [
        "team.delete",
        "team.update",
        "team.update",
        "team.create",
    ]
    assert page["items"][-1]["after"]["members"] == ["carol"]


def test_service_audit_records_references_by_name(client, admin, db):
    seed(client, admin)
    (event,) = audit_events(db, "Service", "checkout")
    assert event.action == "service.create"
    assert event.after is not None
    assert event.after["dependsOn"] == ["payments-api"]
    assert event.after["ownerTeam"] == "payments"
    assert event.after["revenuePerHour"] == 120000.5


# ---------------------------------------------------------------- failures change nothing


def test_failed_requests_change_nothing(client, admin, token_for, db, clock):
    seed(client, admin)
    viewer = token_for(Role.VIEWER)
    before = snapshot(db)
    clock.advance(hours=1)
    failures = [
        # valid owner team but an unknown dependency: the whole create is refused
        (
            client.post(
                "/api/v1/services",
                json={"name": "new", "ownerTeam": "payments", "dependsOn": ["ghost"]},
                headers=admin,
            ),
            422,
        ),
        # a replace with one bad field must not half-apply the good ones
        (
            client.put(
                "/api/v1/services/checkout",
                json={"displayName": "Changed", "tier": 2, "dependsOn": ["ghost"]},
                headers=admin,
            ),
            422,
        ),
        (
            client.put(
                "/api/v1/teams/payments",
                json={"displayName": "Changed", "members": ["ghost"]},
                headers=admin,
            ),
            422,
        ),
        (
            client.put(
                "/api/v1/users/bob",
                json={"email": "alice@example.com", "fullName": "Changed"},
                headers=admin,
            ),
            422,
        ),
        (
            client.patch(
                "/api/v1/components/checkout-page",
                json={"group": "Changed", "services": ["ghost"]},
                headers=admin,
            ),
            422,
        ),
        (client.post("/api/v1/teams", json={"name": "payments"}, headers=admin), 409),
        (client.delete("/api/v1/teams/payments", headers=admin), 409),
        (client.delete("/api/v1/services/ledger-db", headers=admin), 409),
        (client.patch("/api/v1/services/checkout", json={"tier": 9}, headers=admin), 422),
        (client.delete("/api/v1/services/checkout", headers=viewer), 403),
        (client.delete("/api/v1/services/missing", headers=admin), 404),
        (
            client.post(
                "/api/v1/services",
                content=b"{",
                headers={**admin, "content-type": "application/json"},
            ),
            400,
        ),
    ]
    for response, status in failures:
        problem(response, status)
    assert snapshot(db) == before
