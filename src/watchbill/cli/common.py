"""What every CLI command shares: settings, the database, errors as messages, JSON output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import typer
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from watchbill.access import cli_principal
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.adapters.db.migrate import Migrations
from watchbill.adapters.serverkey import server_key
from watchbill.audit.chain import session_info
from watchbill.context import Ctx
from watchbill.errors import WatchbillError
from watchbill.settings import get_settings


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def database() -> Database:
    settings = get_settings()
    info = session_info(server_key(settings))  # seals the audit entries this command writes
    return Database(settings.resolved_database_url, pool_size=2, info=info)


_schema: Callable[[], Migrations] = Migrations
"""The application's revisions, given by the composition root (`use_schema`)."""


def use_schema(schema: Callable[[], Migrations]) -> None:
    global _schema
    _schema = schema


def require_migrated(db: Database) -> None:
    try:
        ok = _schema().is_migrated(db.engine)
    except OperationalError as exc:
        raise fail(f"cannot reach the database: {exc.orig}") from exc
    if not ok:
        raise fail("the database is not migrated; run: watchbill db upgrade")


@contextmanager
def cli_errors() -> Iterator[None]:
    """Domain errors become a message on stderr and exit status 1 (never a traceback)."""
    try:
        yield
    except WatchbillError as exc:
        raise fail(str(exc)) from exc
    except IntegrityError as exc:
        raise fail(f"conflicts with existing data: {exc.orig}") from exc
    except (OperationalError, ProgrammingError) as exc:
        raise fail(f"database error: {exc.orig}") from exc


@contextmanager
def write_ctx(*, dry_run: bool = False) -> Iterator[Ctx]:
    """A transaction as the local operator; with dry_run it is rolled back at the end."""
    db = database()
    require_migrated(db)
    try:
        with cli_errors(), db.sessions() as session:
            session.begin()
            try:
                yield Ctx(session, cli_principal(), system_clock)
            except BaseException:
                session.rollback()
                raise
            if dry_run:
                session.rollback()
            else:
                session.commit()
    finally:
        db.dispose()


@contextmanager
def read_ctx() -> Iterator[Ctx]:
    db = database()
    require_migrated(db)
    try:
        with cli_errors(), db.read() as session:
            yield Ctx(session, cli_principal(), system_clock)
    finally:
        db.dispose()


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        typer.echo("(none)")
        return
    cells = [[str(r.get(c, "") if r.get(c) is not None else "") for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
