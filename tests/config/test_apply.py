"""Configuration as code: loading YAML documents, applying them all-or-nothing and
idempotently, and exporting the catalog back, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from tests.cli.helpers import run
from tests.conftest import OWNER
from watchbill.access import Principal, Role
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import kinds
from watchbill.audit.models import AuditEvent
from watchbill.config.apply import Change, apply_documents, export_documents
from watchbill.config.documents import load_documents
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.errors import Invalid, WatchbillError

DEMO = Path(__file__).resolve().parents[2] / "demo"
DEMO_COUNTS = {
    "User": 25,
    "Team": 6,
    "Schedule": 3,
    "EscalationPolicy": 3,
    "Service": 21,
    "Component": 8,
}


# ---------------------------------------------------------------- helpers


def apply(
    db: Database, clock: FakeClock, *paths: Path, principal: Principal = OWNER
) -> list[Change]:
    docs = load_documents(list(paths), kinds())
    with db.transaction() as session:
        return apply_documents(Ctx(session, principal, clock), kinds(), docs)


def export(db: Database, clock: FakeClock) -> str:
    with db.read() as session:
        return export_documents(Ctx(session, OWNER, clock), kinds())


def actions(changes: list[Change]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.action] = counts.get(c.action, 0) + 1
    return counts


def lines(changes: list[Change]) -> list[str]:
    return [line for c in changes for line in c.describe()]


def state(db: Database) -> dict[str, Any]:
    """Every object's spec and timestamps, and the audit log's length."""
    with db.read() as s:
        objects = {
            (res.kind, o.name): (res.spec_json(o), o.created_at, o.updated_at)
            for res in kinds()
            for o in s.scalars(select(res.model))
        }
        audit = s.scalar(select(func.count()).select_from(AuditEvent))
    return {"objects": objects, "audit": audit}


def counts(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {
            res.kind: int(s.scalar(select(func.count()).select_from(res.model)) or 0)
            for res in kinds()
            if res.kind in DEMO_COUNTS
        }


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def doc(kind: str, name: str, spec: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"apiVersion": "watchbill/v1", "kind": kind, "metadata": {"name": name}}
    if spec is not None:
        body["spec"] = spec
    return "---\n" + yaml.safe_dump(body, sort_keys=False)


def fails(exc_info: pytest.ExceptionInfo[WatchbillError]) -> str:
    return str(exc_info.value)


@pytest.fixture
def other_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """A second, empty, migrated database (SQLite) beside the parametrised one."""
    path = tmp_path / "other.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


# ---------------------------------------------------------------- the demo organisation


def test_demo_applies_cleanly_then_is_unchanged(db, clock):
    first = apply(db, clock, DEMO)
    assert actions(first) == {"created": sum(DEMO_COUNTS.values())}
    assert counts(db) == DEMO_COUNTS
    after_first = state(db)
    assert after_first["audit"] == sum(DEMO_COUNTS.values())

    clock.advance(days=1)
    second = apply(db, clock, DEMO)
    assert actions(second) == {"unchanged": sum(DEMO_COUNTS.values())}
    assert all(line.startswith("= ") for line in lines(second))
    assert state(db) == after_first  # not even updatedAt moved


def test_demo_is_a_realistic_organisation(db, clock):
    """The demo exercises what the product is about; guard it against rotting."""
    apply(db, clock, DEMO)
    text = export(db, clock)
    docs = list(yaml.safe_load_all(text))
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    users = [d["spec"] for d in by_kind["User"]]
    assert len({u["timeZone"] for u in users}) >= 6
    assert {c["type"] for u in users for c in u["contactMethods"]} >= {
        "email",
        "sms",
        "slack",
        "webhook",
    }
    roles = [u["role"] for u in users]
    assert roles.count("admin") == 2 and roles.count("owner") == 0
    assert roles.count("responder") > len(users) / 2
    assert all(u["email"].endswith("@example.com") for u in users)
    services = {d["metadata"]["name"]: d["spec"] for d in by_kind["Service"]}
    assert {s["tier"] for s in services.values()} == {1, 2, 3, 4}
    assert all(s["ownerTeam"] for s in services.values())
    assert all(s["runbookUrl"].startswith("https://") for s in services.values())
    assert "payments-api" in services["checkout"]["dependsOn"]
    assert "ledger" in services["payments-api"]["dependsOn"]
    assert "ledger-db" in services["ledger"]["dependsOn"]
    assert sum(s["revenuePerHour"] > 0 for s in services.values()) >= 10
    components = [d["spec"] for d in by_kind["Component"]]
    assert all(c["services"] for c in components)
    teams = {d["metadata"]["name"]: d["spec"] for d in by_kind["Team"]}
    assert all(len(t["members"]) >= 3 for t in teams.values())


# ---------------------------------------------------------------- applying


def test_forward_references_in_one_apply_are_creations(db, clock, tmp_path):
    # checkout needs payments-api (later in the same file) which needs ledger (another
    # file, which sorts after this one); the team refers to users defined after it.
    write(
        tmp_path,
        "a-services.yaml",
        doc("Service", "checkout", {"ownerTeam": "payments", "dependsOn": ["payments-api"]})
        + doc("Service", "payments-api", {"ownerTeam": "payments", "dependsOn": ["ledger"]})
        + doc("Component", "checkout", {"services": ["checkout"]}),
    )
    write(
        tmp_path,
        "b-more.yaml",
        doc("Team", "payments", {"members": ["zed", "amy"]})
        + doc("Service", "ledger", {"ownerTeam": "payments", "tier": 1})
        + doc("User", "zed", {"email": "zed@example.com"})
        + doc("User", "amy", {"email": "amy@example.com"}),
    )
    changes = apply(db, clock, tmp_path)
    assert actions(changes) == {"created": 7}
    # written in reference order: users, teams, services, components
    assert [(c.doc.resource.kind, c.doc.name) for c in changes] == [
        ("User", "amy"),
        ("User", "zed"),
        ("Team", "payments"),
        ("Service", "checkout"),
        ("Service", "ledger"),
        ("Service", "payments-api"),
        ("Component", "checkout"),
    ]
    with db.read() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    # each object has exactly one audit event, a creation with no "before"
    assert sorted((e.object_type, e.object_id, e.action) for e in events) == sorted(
        (c.doc.resource.kind, c.doc.name, f"{c.doc.resource.kind.lower()}.create") for c in changes
    )
    assert all(e.before is None and e.after for e in events)
    assert {e.actor for e in events} == {OWNER.label}
    services = {e.object_id: e.after for e in events if e.object_type == "Service"}
    assert services["checkout"]["dependsOn"] == ["payments-api"]
    assert services["payments-api"]["dependsOn"] == ["ledger"]
    assert services["ledger"]["tier"] == 1
    assert actions(apply(db, clock, tmp_path)) == {"unchanged": 7}


def test_updates_are_reported_as_diff_lines(db, clock, tmp_path):
    write(
        tmp_path,
        "s.yaml",
        doc("Team", "ops", {})
        + doc("Service", "db", {})
        + doc("Service", "api", {"tier": 1, "dependsOn": ["db"], "displayName": "API"}),
    )
    apply(db, clock, tmp_path)
    clock.advance(hours=1)
    write(
        tmp_path,
        "s.yaml",
        doc("Team", "ops", {})
        + doc("Service", "db", {})
        + doc("Service", "cache", {})
        + doc(
            "Service",
            "api",
            {"tier": 2, "dependsOn": ["cache", "db"], "displayName": "API", "ownerTeam": "ops"},
        ),
    )
    changes = apply(db, clock, tmp_path)
    assert lines(changes) == [
        "= Team ops (unchanged)",
        "~ Service api (updated)",
        "    ownerTeam: null -> ops",
        "    tier: 1 -> 2",
        "    dependsOn: [db] -> [cache, db]",
        "+ Service cache (created)",
        "= Service db (unchanged)",
    ]
    (update,) = [c for c in changes if c.action == "updated"]
    assert update.before is not None and update.after is not None
    assert update.before["tier"] == 1 and update.after["tier"] == 2
    with db.read() as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "service.update")).all()
    assert event.before == update.before and event.after == update.after


def test_apply_replaces_whole_specs(db, clock, tmp_path):
    """Fields left out of a document go back to their defaults (apply is declarative)."""
    write(tmp_path, "s.yaml", doc("Service", "api", {"tier": 1, "displayName": "API"}))
    apply(db, clock, tmp_path)
    write(tmp_path, "s.yaml", doc("Service", "api"))  # no spec at all
    (change,) = apply(db, clock, tmp_path)
    assert change.action == "updated"
    assert change.after is not None
    assert change.after["tier"] == 3 and change.after["displayName"] == ""


def test_directories_are_read_recursively_and_other_files_ignored(db, clock, tmp_path):
    write(tmp_path, "teams/a.yaml", doc("Team", "a", {}))
    write(tmp_path, "teams/deeper/b.yml", doc("Team", "b", {}))
    write(tmp_path, "README.md", "# not YAML: ignored\n: : :")
    write(tmp_path, "notes.txt", "also ignored: [")
    write(tmp_path, "empty.yaml", "---\n---\n# only comments\n")
    changes = apply(db, clock, tmp_path)
    assert sorted(c.doc.name for c in changes) == ["a", "b"]
    assert {Path(c.doc.source).name for c in changes} == {"a.yaml", "b.yml"}


def test_document_index_counts_from_one_and_skips_empty_documents(tmp_path):
    path = write(
        tmp_path,
        "t.yaml",
        "---\n---\n" + doc("Team", "a", {}) + doc("Team", "b", {}),
    )
    docs = load_documents([path], kinds())
    assert [(d.index, d.name) for d in docs] == [(1, "a"), (2, "b")]
    assert docs[1].where == f"{path}: document 2 (Team b)"


# ---------------------------------------------------------------- errors


def test_errors_name_file_document_and_field(db, clock, tmp_path):
    write(
        tmp_path,
        "services.yaml",
        doc("Service", "ok", {"tier": 1}) + doc("Service", "x", {"tier": 7}),
    )
    write(
        tmp_path,
        "teams.yaml",
        doc("Team", "t", {"members": ["Not A Name"], "colour": "red"}),
    )
    with pytest.raises(Invalid) as exc:
        load_documents([tmp_path], kinds())
    message = fails(exc)
    assert "nothing was applied" in message
    assert "services.yaml: document 2 (Service x): spec.tier: " in message
    assert "teams.yaml: document 1 (Team t): spec.members.0: " in message
    assert "teams.yaml: document 1 (Team t): spec.colour: Extra inputs are not permitted" in (
        message
    )
    assert "document 1 (Service ok)" not in message
    assert len(exc.value.errors) == 3


def test_reference_errors_name_the_document_and_field(db, clock, tmp_path):
    write(
        tmp_path,
        "services.yaml",
        doc("Service", "a", {"dependsOn": []})
        + doc("Service", "x", {"ownerTeam": "ghosts", "dependsOn": ["a", "nope"]}),
    )
    with pytest.raises(WatchbillError) as exc:
        apply(db, clock, tmp_path)
    message = fails(exc)
    assert exc.value.status == 422
    assert "services.yaml: document 2 (Service x): spec.ownerTeam: 'ghosts' does not exist" in (
        message
    )
    assert counts(db) == dict.fromkeys(DEMO_COUNTS, 0)

    write(tmp_path, "services.yaml", doc("Service", "x", {"dependsOn": ["a", "nope"]}))
    write(tmp_path, "a.yaml", doc("Service", "a", {}))
    with pytest.raises(WatchbillError) as exc:
        apply(db, clock, tmp_path)
    assert "services.yaml: document 1 (Service x): spec.dependsOn.1: 'nope' does not exist" in (
        fails(exc)
    )
    assert counts(db) == dict.fromkeys(DEMO_COUNTS, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: Team\nmetadata: {name: a\n", "not valid YAML"),
        ("- just\n- a list\n", "bad.yaml: document 1: expected a mapping"),
        (
            "apiVersion: watchbill/v1\nkind: Gadget\nmetadata: {name: a}\n",
            "document 1: kind: unknown kind 'Gadget'; known: Component, ",
        ),
        (
            "apiVersion: watchbill/v2\nkind: Team\nmetadata: {name: a}\n",
            "document 1: apiVersion: must be 'watchbill/v1'",
        ),
        ("kind: Team\nmetadata: {name: a}\n", "document 1: apiVersion: must be 'watchbill/v1'"),
        ("apiVersion: watchbill/v1\nkind: Team\nmetadata: {}\n", "document 1: metadata.name"),
        ("apiVersion: watchbill/v1\nkind: Team\nmetadata: {name: Ops}\n", "metadata.name"),
        ("apiVersion: watchbill/v1\nkind: Team\n", "document 1: metadata.name: required"),
        (
            "apiVersion: watchbill/v1\nkind: Team\nmetadata: {name: a}\nstatus: {}\n",
            "document 1: status: unknown top-level field",
        ),
        (
            "apiVersion: watchbill/v1\nkind: Team\nmetadata: {name: a}\nspec: [1]\n",
            "document 1 (Team a): spec: must be a mapping",
        ),
        (
            "apiVersion: watchbill/v1\nkind: Service\nmetadata: {name: a}\nspec: {tier: high}\n",
            "document 1 (Service a): spec.tier: ",
        ),
    ],
)
def test_bad_documents_are_refused_before_anything_is_written(db, clock, tmp_path, text, expected):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(Invalid) as exc:
        apply(db, clock, path)
    message = fails(exc)
    assert message.count("bad.yaml") == 1, message
    assert expected in message
    assert counts(db) == dict.fromkeys(DEMO_COUNTS, 0)


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(Invalid) as exc:
        load_documents([tmp_path / "nowhere"], kinds())
    assert "nowhere: no such file or directory" in fails(exc)


def test_duplicate_documents_are_refused(tmp_path):
    write(tmp_path, "a.yaml", doc("Team", "ops", {}) + doc("Service", "ops", {}))
    write(tmp_path, "b.yaml", doc("Team", "ops", {"displayName": "Ops"}))
    with pytest.raises(Invalid) as exc:
        load_documents([tmp_path], kinds())
    message = fails(exc)
    assert "duplicate documents; nothing was applied" in message
    assert "b.yaml: document 1 (Team ops): also defined at " in message
    assert "a.yaml: document 1 (Team ops)" in message
    # the same name for different kinds is fine
    assert "(Service ops)" not in message


def test_an_error_in_the_last_document_leaves_the_database_unchanged(db, clock, tmp_path):
    apply(db, clock, DEMO)
    before = state(db)
    clock.advance(hours=1)
    # valid changes of every kind, new objects (including forward references that
    # apply creates bare first), and a bad reference in the very last document
    write(
        tmp_path,
        "change.yaml",
        doc("User", "new-person", {"email": "new.person@example.com"})
        + doc("Team", "payments", {"displayName": "Payments (renamed)", "members": ["new-person"]})
        + doc("Service", "checkout", {"ownerTeam": "payments", "tier": 2, "dependsOn": ["fresh"]})
        + doc("Service", "fresh", {"ownerTeam": "payments"})
        + doc("Component", "website", {"services": ["fresh"]})
        + doc("Component", "zzz-last", {"services": ["fresh", "no-such-service"]}),
    )
    with pytest.raises(WatchbillError) as exc:
        apply(db, clock, tmp_path)
    assert "document 6 (Component zzz-last): spec.services.1" in fails(exc)
    assert state(db) == before


@pytest.mark.parametrize(
    ("role", "spec", "expected"),
    [
        (Role.RESPONDER, {"displayName": "x"}, "needs the admin role"),
        (Role.VIEWER, {"displayName": "x"}, "needs the admin role"),
    ],
)
def test_apply_checks_the_callers_role(db, clock, tmp_path, role, spec, expected):
    write(tmp_path, "t.yaml", doc("Team", "ops", spec))
    weak = Principal(kind="token", name="weak", role=role)
    with pytest.raises(WatchbillError) as exc:
        apply(db, clock, tmp_path, principal=weak)
    assert exc.value.status == 403
    assert "t.yaml: document 1 (Team ops)" in fails(exc)
    assert expected in fails(exc)
    assert counts(db)["Team"] == 0


def test_an_admin_cannot_apply_an_owner(db, clock, tmp_path):
    write(tmp_path, "u.yaml", doc("User", "boss", {"email": "boss@example.com", "role": "owner"}))
    admin = Principal(kind="token", name="admin", role=Role.ADMIN)
    with pytest.raises(WatchbillError) as exc:
        apply(db, clock, tmp_path, principal=admin)
    assert exc.value.status == 403
    assert "document 1 (User boss)" in fails(exc)
    assert counts(db)["User"] == 0
    assert actions(apply(db, clock, tmp_path)) == {"created": 1}  # the owner may


def test_last_owner_cannot_be_demoted_by_apply(db, clock, tmp_path):
    write(tmp_path, "u.yaml", doc("User", "boss", {"email": "boss@example.com", "role": "owner"}))
    apply(db, clock, tmp_path)
    before = state(db)
    write(tmp_path, "u.yaml", doc("User", "boss", {"email": "boss@example.com", "role": "admin"}))
    with pytest.raises(WatchbillError) as exc:
        apply(db, clock, tmp_path)
    assert exc.value.status == 409
    assert "document 1 (User boss)" in fails(exc)
    assert "last owner" in fails(exc)
    assert state(db) == before


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("direction", ["to-sqlite", "from-sqlite"])
def test_export_round_trips_byte_for_byte(db, other_db, clock, tmp_path, direction):
    source, target = (db, other_db) if direction == "to-sqlite" else (other_db, db)
    apply(source, clock, DEMO)
    exported = export(source, clock)
    path = tmp_path / "export.yaml"
    path.write_text(exported, encoding="utf-8")

    assert actions(apply(target, clock, path)) == {"created": sum(DEMO_COUNTS.values())}
    assert export(target, clock) == exported
    assert counts(target) == DEMO_COUNTS

    before = state(source)
    clock.advance(days=1)
    assert actions(apply(source, clock, path)) == {"unchanged": sum(DEMO_COUNTS.values())}
    assert state(source) == before


def test_export_is_the_apply_format(db, clock):
    apply(db, clock, DEMO)
    docs = list(yaml.safe_load_all(export(db, clock)))
    assert len(docs) == sum(DEMO_COUNTS.values())
    # nothing is lost: every exported spec is the demo's spec with defaults filled in
    # (lists of references come back sorted)
    wanted = {
        (d.resource.kind, d.name): d.spec.model_dump(mode="json", by_alias=True)
        for d in load_documents([DEMO], kinds())
    }
    for spec in wanted.values():
        for key in ("members", "dependsOn", "services"):
            if key in spec:
                spec[key] = sorted(spec[key])
    assert {(d["kind"], d["metadata"]["name"]): d["spec"] for d in docs} == wanted
    assert {tuple(d) for d in docs} == {("apiVersion", "kind", "metadata", "spec")}
    exported = [d["kind"] for d in docs]
    # references first, so the export can be applied piecewise in order
    assert exported == sorted(exported, key=[r.kind for r in kinds()].index)
    payments = next(d for d in docs if d["metadata"]["name"] == "payments-api")
    assert payments["spec"]["revenuePerHour"] == 125000
    assert isinstance(payments["spec"]["revenuePerHour"], int)
    push = next(d for d in docs if d["metadata"]["name"] == "push-notifications")
    assert push["spec"]["revenuePerHour"] == 1200.5


def test_export_of_an_empty_catalog_applies_as_nothing(db, clock, tmp_path):
    text = export(db, clock)
    path = tmp_path / "empty.yaml"
    path.write_text(text, encoding="utf-8")
    assert apply(db, clock, path) == []


# ---------------------------------------------------------------- dry run (through the CLI)


def test_dry_run_writes_nothing_and_shows_the_diff(db, db_url, clock, tmp_path):
    out = run("apply", "-f", str(DEMO), "--dry-run", data_dir=tmp_path, database_url=db_url)
    assert out.code == 0, out.err
    assert "+ Service checkout (created)" in out.lines
    assert out.lines[-1] == (
        f"dry run, nothing written: {sum(DEMO_COUNTS.values())} created, 0 updated, 0 unchanged"
    )
    assert state(db) == {"objects": {}, "audit": 0}

    apply(db, clock, DEMO)
    before = state(db)
    changed = tmp_path / "changed"
    shutil.copytree(DEMO, changed)
    services = changed / "services.yaml"
    services.write_text(
        services.read_text().replace("  tier: 4\n", "  tier: 3\n"), encoding="utf-8"
    )
    out = run("apply", "-f", str(changed), "--dry-run", data_dir=tmp_path, database_url=db_url)
    assert out.code == 0, out.err
    assert "~ Service data-warehouse (updated)" in out.lines
    assert "    tier: 4 -> 3" in out.lines
    assert out.lines[-1] == (
        f"dry run, nothing written: 0 created, 1 updated, {sum(DEMO_COUNTS.values()) - 1} unchanged"
    )
    assert state(db) == before
