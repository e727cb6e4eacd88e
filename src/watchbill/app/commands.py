"""The commands that run or configure the whole application: serve, worker, db, apply and
export. Their imports happen inside them, so that `watchbill --help` starts fast."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

db_app = typer.Typer(no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to this version (safe to run repeatedly)."""
    from watchbill.adapters.serverkey import server_key
    from watchbill.app.assembly import migrations
    from watchbill.cli.common import cli_errors
    from watchbill.settings import get_settings

    settings = get_settings()
    with cli_errors():
        migrations().upgrade(settings.resolved_database_url, audit_key=server_key(settings))
    typer.echo(f"database at revision {migrations().heads()}")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of this code."""
    from watchbill.app.assembly import migrations
    from watchbill.cli.common import cli_errors, database

    db = database()
    with cli_errors():
        current = migrations().current(db.engine)
        typer.echo(f"database: {current or 'empty'}; code: {migrations().heads()}")
    db.dispose()


def _announce_setup(base_url: str) -> None:
    from watchbill.adapters.clock import system_clock
    from watchbill.auth import service as auth
    from watchbill.cli.common import database

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
    from watchbill.app.web import create_app
    from watchbill.cli.common import database, fail, require_migrated
    from watchbill.settings import get_settings

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


def worker(
    threads: Annotated[int, typer.Option(min=1, max=64, help="worker threads")] = 1,
) -> None:
    """Run job workers until stopped (SIGINT/SIGTERM); run on as many machines as you like."""
    from watchbill.adapters.clock import system_clock
    from watchbill.adapters.memory import tune_garbage_collector
    from watchbill.app.worker import make_worker, start_recurring
    from watchbill.cli.common import database, require_migrated
    from watchbill.settings import get_settings

    settings = get_settings()
    db = database()
    require_migrated(db)
    start_recurring(db, system_clock)
    workers = [make_worker(db, system_clock, settings) for _ in range(threads)]

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


def apply_cmd(
    file: Annotated[list[Path], typer.Option("-f", "--file", help="YAML file or directory")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show the diff; change nothing")
    ] = False,
) -> None:
    """Create or update objects from YAML documents; all or nothing, idempotent."""
    from watchbill.app.assembly import kinds
    from watchbill.cli.common import cli_errors, write_ctx
    from watchbill.config.apply import apply_documents
    from watchbill.config.documents import load_documents

    with cli_errors():
        docs = load_documents(file, kinds())
    with write_ctx(dry_run=dry_run) as ctx:
        changes = apply_documents(ctx, kinds(), docs)
    for change in changes:
        for line in change.describe():
            typer.echo(line)
    counts = {a: sum(c.action == a for c in changes) for a in ("created", "updated", "unchanged")}
    summary = ", ".join(f"{n} {a}" for a, n in counts.items())
    typer.echo(f"{'dry run, nothing written: ' if dry_run else ''}{summary}")


def export_cmd(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="file (default stdout)")
    ] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="only these kinds")] = None,
) -> None:
    """Write the catalog as YAML in the format `apply` reads."""
    from watchbill.app.assembly import kinds
    from watchbill.cli.common import fail, read_ctx
    from watchbill.config.apply import export_documents

    known = kinds().by_kind
    unknown = [k for k in kind or [] if k not in known]
    if unknown:
        raise fail(f"unknown kind {unknown[0]!r}; known: {', '.join(sorted(known))}")
    with read_ctx() as ctx:
        text = export_documents(ctx, [known[k] for k in kind] if kind else kinds())
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
