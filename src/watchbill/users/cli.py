"""`watchbill users create|set-password` (list, show and delete come with the kind)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from watchbill.access import ROLE_NAMES
from watchbill.auth import service as auth
from watchbill.cli.common import cli_errors, write_ctx
from watchbill.errors import FieldError, Invalid
from watchbill.resources import service
from watchbill.resources.schema import check_name
from watchbill.resources.service import invalid_from
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec

app = typer.Typer(no_args_is_help=True)


@app.command("create")
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


@app.command("set-password")
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
