"""`watchbill`: serve, work, migrate, apply and export config, manage users and tokens."""

from __future__ import annotations

import logging
import re
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from watchbill import __version__
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.migrate import current_revision, head_revision, upgrade
from watchbill.alerts import cli as alerts_cli
from watchbill.audit import cli as audit_cli
from watchbill.auth import service as auth
from watchbill.auth.roles import ROLE_NAMES, Role
from watchbill.cli import catalog
from watchbill.cli.common import (
    cli_errors,
    database,
    fail,
    print_json,
    print_table,
    read_ctx,
    require_migrated,
    write_ctx,
)
from watchbill.config.apply import apply_documents, export_documents
from watchbill.config.documents import load_documents
from watchbill.errors import FieldError, Invalid
from watchbill.incidents import cli as incidents_cli
from watchbill.integrations import cli as integrations_cli
from watchbill.kinds import BY_KIND
from watchbill.notify import cli as notify_cli
from watchbill.notify.secret import server_key
from watchbill.resources import service
from watchbill.resources.schema import check_name
from watchbill.resources.service import invalid_from
from watchbill.routing import cli as routing_cli
from watchbill.schedules import cli as schedules_cli
from watchbill.settings import get_settings
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec

app = typer.Typer(
    help="Watchbill: alerts, incidents, on-call and the rest of technical operations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(
    help="People: create, list, show, delete, set passwords.", no_args_is_help=True
)
tokens_app = typer.Typer(
    help="API tokens: create (shown once), list, revoke.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(tokens_app, name="tokens")
app.add_typer(routing_cli.app, name="route")
alerts_cli.register(app)
app.add_typer(incidents_cli.app, name="incidents")
app.add_typer(integrations_cli.app, name="integrations")
app.add_typer(notify_cli.app, name="notify")
app.add_typer(schedules_cli.app, name="oncall")
catalog.register(app, {"users": users_app})


def _version(value: bool) -> None:
    if value:
        typer.echo(f"watchbill {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print version")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("watchbill").setLevel(get_settings().log_level.upper())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to this version (safe to run repeatedly)."""
    settings = get_settings()
    with cli_errors():
        upgrade(settings.resolved_database_url, audit_key=server_key(settings))
    typer.echo(f"database at revision {head_revision()}")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of this code."""
    db = database()
    with cli_errors():
        typer.echo(f"database: {current_revision(db.engine) or 'empty'}; code: {head_revision()}")
    db.dispose()


def _announce_setup(base_url: str) -> None:
    db = database()
    with db.transaction() as session:
        if auth.owner_exists(session):
            return
        secret = auth.create_setup_link(session, system_clock.now())
    db.dispose()
    typer.echo(
        "\nNo owner yet. Create one in the browser (link valid 24 hours, once):\n"
        f"  {base_url}/setup?token={secret}\n"
        "or on this machine:\n"
        "  watchbill users create NAME --email you@example.com --role owner\n"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate: serve HTTPS")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key for --tls-cert")] = None,
    worker: Annotated[
        bool | None,
        typer.Option(help="run a job worker in this process [default: WATCHBILL_EMBEDDED_WORKER]"),
    ] = None,
) -> None:
    """Serve the API and pages (and, by default, a job worker)."""
    import uvicorn

    from watchbill.adapters.memory import tune_garbage_collector
    from watchbill.web.app import create_app

    if (tls_cert is None) != (tls_key is None):
        raise fail("--tls-cert and --tls-key go together")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise fail(f"{path}: no such file")
    settings = get_settings()
    if "base_url" not in settings.model_fields_set:
        scheme = "https" if tls_cert else "http"
        settings.base_url = f"{scheme}://{host}:{port}"
    db = database()
    require_migrated(db)
    db.dispose()
    _announce_setup(settings.base_url)
    application = create_app(settings, run_worker=worker)
    tune_garbage_collector()
    uvicorn.run(
        application,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        log_level=settings.log_level,
        access_log=settings.access_log,
        http="httptools",
        loop="uvloop",
        timeout_graceful_shutdown=10,
    )


@app.command()
def worker(
    threads: Annotated[int, typer.Option(min=1, max=64, help="worker threads")] = 1,
) -> None:
    """Run job workers until stopped (SIGINT/SIGTERM); run on as many machines as you like."""
    from watchbill.adapters.memory import tune_garbage_collector
    from watchbill.jobs.builtin import ensure_recurring
    from watchbill.jobs.worker import Worker

    settings = get_settings()
    db = database()
    require_migrated(db)
    ensure_recurring(db, system_clock)
    workers = [Worker.from_settings(db, system_clock, settings) for _ in range(threads)]

    def stop(_sig: int, _frame: object) -> None:
        for w in workers:
            w.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tune_garbage_collector()
    running = [w.start_thread() for w in workers]
    typer.echo(f"watchbill worker: {threads} thread(s) on {db.dialect}")
    for thread in running:
        while thread.is_alive():
            thread.join(0.5)
    db.dispose()


@app.command("apply")
def apply_cmd(
    file: Annotated[list[Path], typer.Option("-f", "--file", help="YAML file or directory")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show the diff; change nothing")
    ] = False,
) -> None:
    """Create or update objects from YAML documents; all or nothing, idempotent."""
    with cli_errors():
        docs = load_documents(file)
    with write_ctx(dry_run=dry_run) as ctx:
        changes = apply_documents(ctx, docs)
    for change in changes:
        for line in change.describe():
            typer.echo(line)
    counts = {a: sum(c.action == a for c in changes) for a in ("created", "updated", "unchanged")}
    summary = ", ".join(f"{n} {a}" for a, n in counts.items())
    typer.echo(f"{'dry run, nothing written: ' if dry_run else ''}{summary}")


@app.command("export")
def export_cmd(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="file (default stdout)")
    ] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="only these kinds")] = None,
) -> None:
    """Write the catalog as YAML in the format `apply` reads."""
    unknown = [k for k in kind or [] if k not in BY_KIND]
    if unknown:
        raise fail(f"unknown kind {unknown[0]!r}; known: {', '.join(sorted(BY_KIND))}")
    with read_ctx() as ctx:
        text = export_documents(ctx, [BY_KIND[k] for k in kind] if kind else None)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@users_app.command("create")
def users_create(
    name: str,
    email: Annotated[str, typer.Option(help="email address")],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLE_NAMES)}")] = "responder",
    full_name: Annotated[str, typer.Option(help="display name")] = "",
    time_zone: Annotated[str, typer.Option(help="IANA zone, e.g. Europe/Berlin")] = "UTC",
    password: Annotated[
        bool, typer.Option("--password/--no-password", help="ask for a password (for page sign-in)")
    ] = True,
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
) -> None:
    """Create a user who can sign in to the pages (with a password) and be paged."""
    with cli_errors():
        check_name(name, "NAME")
        try:
            spec = UserSpec(email=email, role=role, full_name=full_name, time_zone=time_zone)
        except ValidationError as exc:
            raise invalid_from(exc) from exc
        secret = _read_password(password, password_stdin)
    with write_ctx() as ctx:
        if service.find(ctx, USERS, name) is not None:
            raise Invalid(f"user {name!r} already exists")
        user = service.put(ctx, USERS, name, spec).obj
        if secret is not None:
            auth.set_password(ctx, user, secret)
    typer.echo(f"created user {name} ({role})")


def _read_password(ask: bool, from_stdin: bool) -> str | None:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\n")
    elif ask and sys.stdin.isatty():
        value = typer.prompt("Password (12+ characters)", hide_input=True, confirmation_prompt=True)
    else:
        return None
    if len(value) < 12:
        raise Invalid("password too short", [FieldError("password", "at least 12 characters")])
    return value


@users_app.command("set-password")
def users_set_password(
    name: str,
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
) -> None:
    """Set or reset a user's page password."""
    with cli_errors():
        check_name(name, "NAME")
        secret = _read_password(True, password_stdin)
        if secret is None:
            raise Invalid("no password given: use a terminal or --password-stdin")
    with write_ctx() as ctx:
        auth.set_password(ctx, service.get(ctx, USERS, name), secret)
    typer.echo(f"password set for {name}")


_DURATION = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _expiry(expires_in: str | None, expires_at: str | None) -> datetime | None:
    if expires_in and expires_at:
        raise Invalid("give --expires-in or --expires-at, not both")
    if expires_in:
        match = _DURATION.match(expires_in)
        if not match:
            raise Invalid(
                "bad --expires-in", [FieldError("--expires-in", "like 90m, 12h, 30d, 8w")]
            )
        return system_clock.now() + timedelta(**{_UNITS[match[2]]: int(match[1])})
    if expires_at:
        try:
            value = datetime.fromisoformat(expires_at)
        except ValueError as exc:
            raise Invalid(
                "bad --expires-at", [FieldError("--expires-at", "ISO 8601 with offset")]
            ) from exc
        if value.tzinfo is None:
            raise Invalid("bad --expires-at", [FieldError("--expires-at", "needs a UTC offset")])
        return value
    return None


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option(help="a name to recognise it by, e.g. ci-deployer")],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLE_NAMES)}")],
    user: Annotated[
        str | None, typer.Option(help="the user it belongs to: it acts within their rights")
    ] = None,
    service_account: Annotated[
        bool, typer.Option("--service-account", help="belongs to no user (CI, Prometheus)")
    ] = False,
    expires_in: Annotated[str | None, typer.Option(help="lifetime: 90m, 12h, 30d, 8w")] = None,
    expires_at: Annotated[str | None, typer.Option(help="ISO 8601 instant with offset")] = None,
) -> None:
    """Create an API token; the secret is printed once, alone on the last line."""
    with cli_errors():
        if role not in ROLE_NAMES:
            raise Invalid(f"unknown role {role!r}; one of {', '.join(ROLE_NAMES)}")
        if (user is None) == (not service_account):
            raise Invalid("say whose token it is: --user NAME or --service-account")
        expiry = _expiry(expires_in, expires_at)
    with write_ctx() as ctx:
        owner = service.get(ctx, USERS, user) if user is not None else None
        issued = auth.create_token(ctx, name=name, role=Role(role), expires_at=expiry, user=owner)
    whose = f"for {user}" if user else "for a service account"
    typer.echo(f"token {name} ({role}) created {whose}; it is shown only now:", err=True)
    typer.echo(issued.secret)


@tokens_app.command("list")
def tokens_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """List tokens (names, roles, expiry, last use; never the secrets)."""
    with read_ctx() as ctx:
        rows = [auth.token_view(t) for t in auth.list_tokens(ctx.session)]
    if as_json:
        print_json(rows)
    else:
        print_table(
            rows, ["name", "prefix", "role", "user", "expiresAt", "lastUsedAt", "revokedAt"]
        )


@tokens_app.command("revoke")
def tokens_revoke(name: str) -> None:
    """Revoke a token at once; requests with it are refused from now on."""
    with write_ctx() as ctx:
        auth.revoke_token(ctx, name)
    typer.echo(f"revoked token {name}")


def main() -> None:
    try:
        get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"WATCHBILL_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        typer.echo(f"error: invalid configuration: {problems}", err=True)
        sys.exit(2)
    app()
