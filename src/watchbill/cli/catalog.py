"""`watchbill <plural> list|show|delete`, the same three commands for every kind."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.main import get_command

from watchbill.cli.common import print_json, print_table, read_ctx, write_ctx
from watchbill.config.apply import document, dump
from watchbill.resources import service
from watchbill.resources.base import Resource
from watchbill.resources.schema import check_name

COLUMNS = {
    "users": ["name", "fullName", "email", "timeZone", "role", "active"],
    "teams": ["name", "displayName", "members"],
    "services": ["name", "tier", "ownerTeam", "dependsOn", "revenuePerHour"],
    "components": ["name", "group", "public", "services"],
    "routing-rules": ["name", "order", "suppress", "description"],
    "schedules": ["name", "timeZone", "team", "layers", "description"],
    "escalation-policies": ["name", "levels", "repeat", "ackTimeoutMinutes", "description"],
    "notification-providers": ["name", "contactTypes", "method", "url"],
}


def kind_commands(res: Resource) -> list[Any]:
    """The click commands `list`, `show` and `delete` for one kind."""
    app = typer.Typer()

    @app.command("list")
    def list_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
        q: Annotated[str | None, typer.Option(help="filter by text in the name")] = None,
    ) -> None:
        """List them, ordered by name."""
        with read_ctx() as ctx:
            filters = res.filters.model_validate({"q": q} if q else {})
            rows, cursor = service.list_page(ctx, res, filters=filters, cursor=None, limit=500)
            items = [res.view(r) for r in rows]
            while cursor:
                rows, cursor = service.list_page(
                    ctx, res, filters=filters, cursor=cursor, limit=500
                )
                items.extend(res.view(r) for r in rows)
        if as_json:
            print_json(items)
            return
        shown = [{k: _cell(v) for k, v in item.items()} for item in items]
        print_table(shown, COLUMNS[res.plural])

    @app.command("show")
    def show_cmd(
        name: str,
        as_json: Annotated[bool, typer.Option("--json", help="JSON instead of YAML")] = False,
    ) -> None:
        """Show one, as YAML (the apply format) or JSON."""
        with read_ctx() as ctx:
            check_name(name, "NAME")
            obj = service.get(ctx, res, name)
            if as_json:
                print_json(res.view(obj))
                return
            typer.echo(dump([document(res, obj)]).rstrip())

    @app.command("delete")
    def delete_cmd(
        name: str,
        yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
    ) -> None:
        """Delete one (refused while others still refer to it)."""
        if not yes:
            typer.confirm(f"Delete {res.kind} {name}?", abort=True)
        with write_ctx() as ctx:
            check_name(name, "NAME")
            service.delete(ctx, res, name)
        typer.echo(f"deleted {res.kind} {name}")

    return list(get_command(app).commands.values())  # type: ignore[attr-defined]


def _cell(value: object) -> object:
    """Lists in a table cell: names joined by commas; nested objects by their label/name."""
    if not isinstance(value, list):
        return value
    return ", ".join(
        str(v.get("label") or v.get("name") or v) if isinstance(v, dict) else str(v) for v in value
    )
