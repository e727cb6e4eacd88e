"""`watchbill tokens create|list|revoke`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

import typer

from watchbill.access import ROLE_NAMES, Role
from watchbill.adapters.clock import system_clock
from watchbill.auth import service as auth
from watchbill.cli.common import cli_errors, print_json, print_table, read_ctx, write_ctx
from watchbill.errors import FieldError, Invalid
from watchbill.resources import service
from watchbill.users.resource import USERS

app = typer.Typer(no_args_is_help=True)

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


@app.command("create")
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


@app.command("list")
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


@app.command("revoke")
def tokens_revoke(name: str) -> None:
    """Revoke a token at once; requests with it are refused from now on."""
    with write_ctx() as ctx:
        auth.revoke_token(ctx, name)
    typer.echo(f"revoked token {name}")
