"""`watchbill integrations list|rotate`."""

from __future__ import annotations

from typing import Annotated

import typer

from watchbill.cli.common import print_json, print_table, read_ctx, write_ctx
from watchbill.integrations import service
from watchbill.resources.schema import check_name
from watchbill.settings import get_settings

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_cmd(
    service_name: Annotated[str | None, typer.Option("--service", help="only this service")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Every integration with its key and the full URL its sender posts to."""
    with read_ctx() as ctx:
        views = [
            v.as_json() for v in service.list_views(ctx, get_settings().base_url, service_name)
        ]
    if as_json:
        print_json(views)
    else:
        print_table(views, ["service", "name", "type", "key", "url"])


@app.command("rotate")
def rotate_cmd(service_name: str, name: str) -> None:
    """Give an integration a new key (printed); the old key stops working at once."""
    with write_ctx() as ctx:
        check_name(service_name, "SERVICE")
        check_name(name, "NAME")
        row = service.rotate(ctx, service_name, name)
        key = row.key
    typer.echo(key)
