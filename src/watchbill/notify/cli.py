"""`watchbill notify test|log|signing-secret`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from watchbill.access import cli_principal
from watchbill.adapters.clock import system_clock
from watchbill.cli.common import (
    cli_errors,
    database,
    fail,
    print_json,
    print_table,
    read_ctx,
    require_migrated,
)
from watchbill.incidents.cli import _jsonable
from watchbill.notify import delivery, service
from watchbill.resources.schema import check_name
from watchbill.settings import get_settings

app = typer.Typer(no_args_is_help=True)
COLUMNS = [
    "id",
    "user",
    "contactMethod",
    "channel",
    "status",
    "attempts",
    "responseCode",
    "lastError",
]
User = Annotated[str, typer.Option("--user", help="the user's name")]
Label = Annotated[str | None, typer.Option("--contact-method", help="its label (default: all)")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON instead of a table")]


def _show(items: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(_jsonable(items))
    else:
        print_table(items, COLUMNS)


@app.command("test")
def test_cmd(user: User, contact_method: Label = None, as_json: AsJson = False) -> None:
    """Send a test notification now to a user's contact method (or all of them)."""
    with cli_errors():
        check_name(user, "--user")
        if contact_method is not None:
            check_name(contact_method, "--contact-method")
    db = database()
    require_migrated(db)
    try:
        with cli_errors():
            items = delivery.send_test(
                db,
                system_clock,
                get_settings(),
                cli_principal(),
                user_name=user,
                contact_method=contact_method,
            )
    finally:
        db.dispose()
    _show(items, as_json)
    if any(i["status"] != "sent" for i in items):
        raise fail("not every test notification was sent")


@app.command("log")
def log_cmd(
    incident: Annotated[int, typer.Argument(min=1, help="the incident's number")],
    as_json: AsJson = False,
) -> None:
    """An incident's deliveries: who was notified how, and what happened."""
    with read_ctx() as ctx:
        items = service.delivery_views(
            ctx.session, service.incident_deliveries(ctx.session, incident)
        )
    _show(items, as_json)


@app.command("signing-secret")
def signing_secret_cmd(
    user: User,
    contact_method: Annotated[str, typer.Option("--contact-method", help="a webhook's label")],
) -> None:
    """Print the secret a webhook contact method's receiver verifies signatures with."""
    with read_ctx() as ctx:
        typer.echo(
            delivery.signing_secret(
                ctx.session, get_settings(), user_name=user, label=contact_method
            )
        )
