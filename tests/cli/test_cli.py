"""The `watchbill` command, run as a real subprocess against SQLite in a scratch data dir.

(PostgreSQL is covered by the library-level tests; these check what an operator sees:
output, exit status, and messages instead of tracebacks.)
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import yaml
from sqlalchemy import select, text

from tests.cli.helpers import Result, run
from tests.conftest import OWNER
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import kinds, migrations
from watchbill.audit.models import AuditEvent
from watchbill.auth.credentials import verify_password
from watchbill.auth.models import ApiToken
from watchbill.auth.service import principal_for_token
from watchbill.config.apply import apply_documents
from watchbill.config.documents import load_documents
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.users.models import User

DEMO = Path(__file__).resolve().parents[2] / "demo"
DEMO_TOTAL = 25 + 6 + 3 + 3 + 21 + 8  # users, teams, schedules, policies, services, components
PASSWORD = "correct horse battery staple"


def failed(result: Result, *expected: str) -> None:
    """A refusal as an operator should see it: non-zero exit, a message, no traceback."""
    assert result.code != 0, result.out
    assert "Traceback" not in result.err, result.err
    assert "error: " in result.err, result.err
    for fragment in expected:
        assert fragment in result.err, result.err


def succeeded(result: Result) -> Result:
    assert result.code == 0, result.err
    assert "Traceback" not in result.err, result.err
    return result


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A migrated SQLite database with the demo organisation, made once per module."""
    path = tmp_path_factory.mktemp("cli-demo") / "watchbill.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    with database.transaction() as session:
        apply_documents(
            Ctx(session, OWNER, FakeClock(datetime(2026, 1, 1, tzinfo=UTC))),
            kinds(),
            load_documents([DEMO], kinds()),
        )
    database.dispose()
    return path


@pytest.fixture
def empty_dir(tmp_path: Path, sqlite_template: Path) -> Path:
    """A data directory holding a migrated, empty database."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sqlite_template, data / "watchbill.db")
    return data


@pytest.fixture
def demo_dir(tmp_path: Path, demo_template: Path) -> Path:
    """A data directory holding the demo organisation."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_template, data / "watchbill.db")
    return data


@pytest.fixture
def open_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'data' / 'watchbill.db'}")
    yield database
    database.dispose()


def wb(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    return run(*args, data_dir=data_dir, stdin=stdin)


# ---------------------------------------------------------------- database


def test_db_upgrade_creates_the_schema_and_is_repeatable(tmp_path):
    data = tmp_path / "fresh"
    head = migrations().heads()
    assert succeeded(wb(data, "db", "current")).lines[-1] == f"database: empty; code: {head}"
    assert succeeded(wb(data, "db", "upgrade")).lines[-1] == f"database at revision {head}"
    assert (data / "watchbill.db").is_file()
    assert succeeded(wb(data, "db", "upgrade")).lines[-1] == f"database at revision {head}"
    assert succeeded(wb(data, "db", "current")).lines[-1] == f"database: {head}; code: {head}"
    assert succeeded(wb(data, "services", "list")).lines == ["(none)"]


def test_unmigrated_database_is_a_clear_error(tmp_path):
    data = tmp_path / "fresh"
    for args in (["services", "list"], ["apply", "-f", str(DEMO)]):
        failed(wb(data, *args), "the database is not migrated; run: watchbill db upgrade")


# ---------------------------------------------------------------- apply and export


def test_apply_dry_run_then_apply_then_export(empty_dir, tmp_path):
    dry = succeeded(wb(empty_dir, "apply", "-f", str(DEMO), "--dry-run"))
    assert "+ Service checkout (created)" in dry.lines
    assert (
        dry.lines[-1] == f"dry run, nothing written: {DEMO_TOTAL} created, 0 updated, 0 unchanged"
    )
    assert succeeded(wb(empty_dir, "export")).out == ""  # the dry run wrote nothing

    applied = succeeded(wb(empty_dir, "apply", "-f", str(DEMO)))
    assert applied.lines[-1] == f"{DEMO_TOTAL} created, 0 updated, 0 unchanged"

    out_file = tmp_path / "export.yaml"
    assert succeeded(wb(empty_dir, "export", "-o", str(out_file))).out == ""
    exported = out_file.read_text(encoding="utf-8")
    assert len(list(yaml.safe_load_all(exported))) == DEMO_TOTAL
    round_trip = succeeded(wb(empty_dir, "apply", "-f", str(out_file)))
    assert round_trip.lines[-1] == f"0 created, 0 updated, {DEMO_TOTAL} unchanged"

    only = succeeded(wb(empty_dir, "export", "--kind", "Team", "--kind", "Component"))
    kinds = [d["kind"] for d in yaml.safe_load_all(only.out)]
    assert kinds == ["Team"] * 6 + ["Component"] * 8
    failed(wb(empty_dir, "export", "--kind", "Gadget"), "unknown kind 'Gadget'")


def test_apply_errors_are_messages_not_tracebacks(empty_dir, tmp_path):
    failed(
        wb(empty_dir, "apply", "-f", str(tmp_path / "missing.yaml")), "no such file or directory"
    )

    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: watchbill/v1\nkind: Team\nmetadata: {name: [\n")
    failed(wb(empty_dir, "apply", "-f", str(broken)), "broken.yaml: not valid YAML")

    bad = tmp_path / "services.yaml"
    bad.write_text(
        "apiVersion: watchbill/v1\nkind: Service\nmetadata: {name: a}\n---\n"
        "apiVersion: watchbill/v1\nkind: Service\nmetadata: {name: x}\nspec: {tier: 7}\n"
        "---\napiVersion: watchbill/v1\nkind: Widget\nmetadata: {name: w}\n"
    )
    result = wb(empty_dir, "apply", "-f", str(bad))
    failed(
        result,
        "services.yaml: document 2 (Service x): spec.tier",
        "services.yaml: document 3: kind: unknown kind 'Widget'",
        "nothing was applied",
    )

    dangling = tmp_path / "dangling.yaml"
    dangling.write_text(
        "apiVersion: watchbill/v1\nkind: Service\nmetadata: {name: a}\n"
        "spec: {dependsOn: [b, ghost]}\n---\n"
        "apiVersion: watchbill/v1\nkind: Service\nmetadata: {name: b}\n"
    )
    failed(
        wb(empty_dir, "apply", "-f", str(dangling)),
        "dangling.yaml: document 1 (Service a): spec.dependsOn.1: 'ghost' does not exist",
    )
    assert succeeded(wb(empty_dir, "export")).out == ""  # all or nothing: b was not kept


# ---------------------------------------------------------------- users


def test_users_create_with_password_from_stdin(empty_dir, open_db):
    created = wb(
        empty_dir,
        *("users", "create", "dana", "--email", "dana@example.com", "--role", "admin"),
        *("--full-name", "Dana Scully", "--time-zone", "Europe/Berlin", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert succeeded(created).lines == ["created user dana (admin)"]
    with open_db.read() as s:
        user = s.scalars(select(User).where(User.name == "dana")).one()
        assert user.password_hash is not None and PASSWORD not in user.password_hash
        assert verify_password(PASSWORD, user.password_hash)
        assert not verify_password(PASSWORD + "x", user.password_hash)
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.create"))
        assert event.actor.startswith("cli:")

    listed = orjson.loads(succeeded(wb(empty_dir, "users", "list", "--json")).out)
    assert [(u["name"], u["role"], u["timeZone"], u["fullName"]) for u in listed] == [
        ("dana", "admin", "Europe/Berlin", "Dana Scully")
    ]
    assert "password" not in str(listed).lower()
    shown = yaml.safe_load(succeeded(wb(empty_dir, "users", "show", "dana")).out)
    assert shown["kind"] == "User" and shown["metadata"] == {"name": "dana"}
    assert shown["spec"]["email"] == "dana@example.com"

    failed(
        wb(empty_dir, "users", "create", "dana", "--email", "d2@example.com", "--no-password"),
        "user 'dana' already exists",
    )
    failed(
        wb(
            empty_dir,
            *("users", "create", "eve", "--email", "eve@example.com", "--password-stdin"),
            stdin="short\n",
        ),
        "password: at least 12 characters",
    )
    with open_db.read() as s:
        assert list(s.scalars(select(User.name))) == ["dana"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["Bad_Name", "--email", "x@example.com"], "invalid name 'Bad_Name'"),
        (["ann", "--email", "x@example.com", "--role", "king"], "role: Input should be"),
        (["ann", "--email", "x@example.com", "--time-zone", "Mars/Base"], "unknown IANA time zone"),
    ],
)
def test_users_create_refuses_bad_input(empty_dir, open_db, args, expected):
    failed(wb(empty_dir, "users", "create", *args, "--no-password"), expected)
    with open_db.read() as s:
        assert s.scalar(text("SELECT count(*) FROM users")) == 0


# ---------------------------------------------------------------- catalog commands


def test_services_list_show_and_json(demo_dir):
    listed = orjson.loads(succeeded(wb(demo_dir, "services", "list", "--json")).out)
    names = [s["name"] for s in listed]
    assert len(names) == 21 and names == sorted(names)
    checkout = next(s for s in listed if s["name"] == "checkout")
    assert checkout["ownerTeam"] == "payments" and checkout["tier"] == 1
    assert "payments-api" in checkout["dependsOn"]

    filtered = orjson.loads(succeeded(wb(demo_dir, "services", "list", "--json", "--q", "PAY")).out)
    assert [s["name"] for s in filtered] == ["payments-api", "payouts"]

    table = succeeded(wb(demo_dir, "teams", "list")).lines
    assert table[0].split() == ["NAME", "DISPLAYNAME", "MEMBERS"]
    policies = succeeded(wb(demo_dir, "escalation-policies", "list")).lines
    assert policies[0].split()[:2] == ["NAME", "LEVELS"] and len(policies) == 1 + 3
    assert succeeded(wb(demo_dir, "notification-providers", "list")).lines == ["(none)"]
    assert len(table) == 1 + 6
    assert any(line.startswith("payments ") and "sofia-marino" in line for line in table)

    shown = yaml.safe_load(succeeded(wb(demo_dir, "services", "show", "checkout")).out)
    assert shown["apiVersion"] == "watchbill/v1"
    assert shown["kind"] == "Service" and shown["metadata"] == {"name": "checkout"}
    assert {k: shown["spec"][k] for k in ("ownerTeam", "tier", "revenuePerHour")} == {
        "ownerTeam": "payments",
        "tier": 1,
        "revenuePerHour": 180000,
    }
    as_json = orjson.loads(succeeded(wb(demo_dir, "services", "show", "checkout", "--json")).out)
    assert as_json == checkout

    failed(wb(demo_dir, "services", "show", "nope"), "Service 'nope' does not exist")
    failed(wb(demo_dir, "services", "show", "Not_A_Name"), "invalid name")


def test_delete_asks_refuses_references_and_deletes(demo_dir, open_db):
    failed(
        wb(demo_dir, "services", "delete", "checkout", "--yes"),
        "services depend on 'checkout': mobile-bff",
    )
    failed(wb(demo_dir, "teams", "delete", "payments", "--yes"), "still owns services")
    # without --yes it asks, and "no" keeps the service
    declined = wb(demo_dir, "services", "delete", "vpn", stdin="n\n")
    assert declined.code != 0 and "Traceback" not in declined.err
    assert succeeded(wb(demo_dir, "services", "show", "vpn")).out
    assert succeeded(wb(demo_dir, "services", "delete", "vpn", "--yes")).lines == [
        "deleted Service vpn"
    ]
    failed(wb(demo_dir, "services", "show", "vpn"), "does not exist")
    failed(wb(demo_dir, "services", "delete", "vpn", "--yes"), "does not exist")
    with open_db.read() as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "service.delete"))
    assert event.object_id == "vpn" and event.before is not None and event.after is None


# ---------------------------------------------------------------- tokens


def test_tokens_create_list_revoke(empty_dir, open_db):
    created = succeeded(
        wb(empty_dir, "tokens", "create", "--name", "ci", "--role", "admin", "--service-account")
    )
    secret = created.lines[-1]
    assert re.fullmatch(r"wb_[A-Za-z0-9_-]{40,}", secret), created.out
    assert created.out.count(secret) == 1
    assert "shown only now" in created.err and secret not in created.err

    # only a hash is stored: the secret is in no row
    with open_db.read() as s:
        (token,) = s.scalars(select(ApiToken))
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        rows = s.execute(text("SELECT * FROM api_tokens")).all()
        audit = s.execute(text("SELECT * FROM audit_events")).all()
        assert secret not in repr(rows) and secret not in repr(audit)
        principal = principal_for_token(s, secret, datetime.now(UTC), "127.0.0.1")
        assert principal is not None and principal.role == "admin" and principal.name == "ci"

    listed = orjson.loads(succeeded(wb(empty_dir, "tokens", "list", "--json")).out)
    assert len(listed) == 1
    (item,) = listed
    assert item["name"] == "ci" and item["role"] == "admin" and item["revokedAt"] is None
    assert item["prefix"] == secret[:8]
    assert secret not in str(listed) and "token_hash" not in item and "tokenHash" not in item

    failed(
        wb(empty_dir, "tokens", "create", "--name", "ci", "--role", "viewer", "--service-account"),
        "already exists",
    )

    assert succeeded(wb(empty_dir, "tokens", "revoke", "ci")).lines == ["revoked token ci"]
    (item,) = orjson.loads(succeeded(wb(empty_dir, "tokens", "list", "--json")).out)
    assert item["revokedAt"] is not None
    with open_db.read() as s:
        assert principal_for_token(s, secret, datetime.now(UTC), "127.0.0.1") is None
    failed(wb(empty_dir, "tokens", "revoke", "nope"), "token 'nope' does not exist")

    # Nor anywhere in the database files. (Close our connections first: closing another
    # descriptor of a SQLite file drops this process's POSIX locks on it.)
    open_db.dispose()
    files = list(empty_dir.glob("watchbill.db*"))
    assert files
    for path in files:
        assert secret.encode() not in path.read_bytes(), path


def test_tokens_create_with_expiry(empty_dir):
    secret = succeeded(
        wb(
            empty_dir,
            "tokens",
            "create",
            "--name",
            "short",
            "--role",
            "viewer",
            "--service-account",
            "--expires-in",
            "2h",
        )
    ).lines[-1]
    assert secret.startswith("wb_")
    (item,) = orjson.loads(succeeded(wb(empty_dir, "tokens", "list", "--json")).out)
    expires = datetime.fromisoformat(item["expiresAt"])
    assert timedelta(minutes=110) < expires - datetime.now(UTC) <= timedelta(hours=2)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--name", "x", "--role", "king", "--service-account"], "unknown role 'king'"),
        (["--name", "x", "--role", "admin"], "--user NAME or --service-account"),
        (["--name", "x", "--role", "admin", "--user", "ada", "--service-account"], "--user NAME"),
        (["--name", "x", "--role", "admin", "--user", "nobody"], "'nobody' does not exist"),
        (
            ["--name", "x", "--role", "admin", "--service-account", "--expires-in", "soon"],
            "--expires-in: like 90m",
        ),
        (
            ["--name", "x", "--role", "admin", "--service-account", "--expires-at", "2030-01-01"],
            "UTC offset",
        ),
    ],
)
def test_tokens_create_refuses_bad_input(empty_dir, open_db, args, expected):
    failed(wb(empty_dir, "tokens", "create", *args), expected)
    with open_db.read() as s:
        assert s.scalar(text("SELECT count(*) FROM api_tokens")) == 0
