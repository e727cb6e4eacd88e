"""`watchbill incidents list|show|ack|resolve|reopen|note|assign|merge|split|edit`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from watchbill.cli.common import cli_errors, print_json, print_table, read_ctx, write_ctx
from watchbill.incidents import service
from watchbill.incidents.schemas import AssignIn, IncidentPatch, NoteIn, parse_filters
from watchbill.resources.service import invalid_from

app = typer.Typer(no_args_is_help=True)

IdArg = Annotated[int, typer.Argument(min=1, help="the incident's number")]
COLUMNS = ["id", "status", "severity", "priority", "urgency", "service", "alerts", "title"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _validated(model: Any, data: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from exc


@app.command("list")
def list_cmd(
    status: Annotated[
        list[str] | None, typer.Option(help="triggered, acknowledged, resolved (repeatable)")
    ] = None,
    service_name: Annotated[str | None, typer.Option("--service", help="service name")] = None,
    severity: Annotated[list[str] | None, typer.Option(help="SEV1..SEV4 (repeatable)")] = None,
    assignee: Annotated[str | None, typer.Option(help="assigned to this user")] = None,
    q: Annotated[str | None, typer.Option(help="text in the title")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="at most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """List incidents, newest first."""
    with cli_errors():
        filters = parse_filters(
            status=status, service=service_name, severity=severity, assignee=assignee, q=q
        )
    items: list[dict[str, Any]] = []
    with read_ctx() as ctx:
        cursor = None
        while len(items) < limit:
            rows, cursor = service.list_incidents(
                ctx, filters=filters, cursor=cursor, limit=min(500, limit - len(items))
            )
            items.extend(service.incident_views(ctx, rows))
            if cursor is None:
                break
    if as_json:
        print_json(_jsonable(items))
        return
    print_table(
        [{**i, "alerts": i["alertCount"], "title": i["title"][:80]} for i in items], COLUMNS
    )


@app.command("show")
def show_cmd(
    incident_id: IdArg,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of text")] = False,
) -> None:
    """Show an incident: its facts, timeline (latest 100 entries) and alerts (latest 50)."""
    with read_ctx() as ctx:
        view = service.detail_view(ctx, incident_id=incident_id)
        events, _earlier = service.timeline_tail(ctx, incident_id=incident_id, limit=100)
        view["timeline"]["items"] = [service.event_view(e) for e in events]
    if as_json:
        print_json(_jsonable(view))
        return
    typer.echo(f"Incident {view['id']}: {view['title']}")
    facts = [
        ("status", view["status"]),
        ("severity", view["severity"]),
        ("priority", view["priority"] or "none"),
        ("urgency", view["urgency"]),
        ("service", view["service"]),
        ("assignees", ", ".join(view["assignees"]) or "nobody"),
        ("alerts", view["alertCount"]),
        ("created", view["createdAt"].isoformat()),
    ]
    if view["suppressed"]:
        facts.append(("nobody paged", view["suppressed"]))
    if view["mergedIntoId"]:
        facts.append(("merged into", view["mergedIntoId"]))
    if view["mergedFrom"]:
        facts.append(("merged from", ", ".join(map(str, view["mergedFrom"]))))
    for label, value in facts:
        typer.echo(f"  {label + ':':<14}{value}")
    typer.echo("\nTimeline:")
    for e in view["timeline"]["items"]:
        typer.echo(f"  {e['at']:%Y-%m-%d %H:%M:%S}  {e['actor']}  {e['kind']}: {e['message']}")
    typer.echo("\nAlerts:")
    print_table(
        [
            {**a, "lastSeen": f"{a['lastSeen']:%Y-%m-%d %H:%M:%S}", "summary": a["summary"][:80]}
            for a in view["alerts"]["items"]
        ],
        ["id", "status", "severity", "count", "lastSeen", "summary"],
    )


def _status_command(name: str, action: Any, done: str, doc: str) -> None:
    def command(incident_id: IdArg) -> None:
        with write_ctx() as ctx:
            change = action(ctx, incident_id=incident_id)
            status = change.incident.status
        typer.echo(
            f"incident {incident_id} {done}"
            if change.changed
            else f"incident {incident_id} was already {status}; nothing changed"
        )

    command.__doc__ = doc
    app.command(name)(command)


_status_command("ack", service.acknowledge, "acknowledged", "Acknowledge an incident.")
_status_command("resolve", service.resolve, "resolved", "Resolve an incident.")
_status_command("reopen", service.reopen, "reopened", "Reopen a resolved incident.")


@app.command("note")
def note_cmd(incident_id: IdArg, text: str) -> None:
    """Add a note to an incident's timeline."""
    with cli_errors():
        body = _validated(NoteIn, {"text": text})
    with write_ctx() as ctx:
        service.add_note(ctx, incident_id=incident_id, text=body.text)
    typer.echo(f"note added to incident {incident_id}")


@app.command("assign")
def assign_cmd(
    incident_id: IdArg,
    users: Annotated[list[str], typer.Argument(help="user names")],
    remove: Annotated[bool, typer.Option("--remove", help="unassign them instead")] = False,
) -> None:
    """Assign users to an incident (or, with --remove, unassign them)."""
    with cli_errors():
        body = _validated(AssignIn, {"remove" if remove else "add": users})
    with write_ctx() as ctx:
        change = service.assign(ctx, incident_id=incident_id, add=body.add, remove=body.remove)
        now = service.assignees(ctx, incident_id)
    if not change.changed:
        typer.echo(f"incident {incident_id}: nothing changed")
    typer.echo(f"incident {incident_id} assignees: {', '.join(now) or 'nobody'}")


@app.command("merge")
def merge_cmd(
    target: Annotated[int, typer.Argument(min=1, help="the incident that stays")],
    sources: Annotated[list[int], typer.Argument(help="incidents merged into it")],
) -> None:
    """Merge incidents into TARGET: their alerts move there and they end resolved."""
    with write_ctx() as ctx:
        inc = service.merge(ctx, target_id=target, source_ids=sources)
        count = inc.alert_count
    joined = ", ".join(map(str, sources))
    typer.echo(f"merged {joined} into incident {target} ({count} alerts)")


@app.command("split")
def split_cmd(
    incident_id: IdArg,
    alert_ids: Annotated[list[int], typer.Argument(help="alert ids to move")],
    title: Annotated[str | None, typer.Option(help="title of the new incident")] = None,
) -> None:
    """Move some alerts of an incident to a new incident."""
    with write_ctx() as ctx:
        new = service.split(ctx, incident_id=incident_id, alert_ids=alert_ids, title=title)
        new_id = new.id
    typer.echo(f"split {len(alert_ids)} alert(s) off incident {incident_id} into {new_id}")


@app.command("edit")
def edit_cmd(
    incident_id: IdArg,
    title: Annotated[str | None, typer.Option(help="a new title")] = None,
    severity: Annotated[str | None, typer.Option(help="SEV1..SEV4")] = None,
    priority: Annotated[str | None, typer.Option(help="P1..P5, or 'none' to clear")] = None,
    urgency: Annotated[str | None, typer.Option(help="high or low")] = None,
) -> None:
    """Change an incident's title, severity, priority or urgency."""
    given: dict[str, Any] = {
        k: v
        for k, v in {"title": title, "severity": severity, "urgency": urgency}.items()
        if v is not None
    }
    if priority is not None:
        given["priority"] = None if priority.lower() == "none" else priority
    with cli_errors():
        body = _validated(IncidentPatch, given)
    with write_ctx() as ctx:
        change = service.edit(
            ctx, incident_id=incident_id, changes=body.model_dump(include=body.model_fields_set)
        )
    typer.echo(f"incident {incident_id} " + ("updated" if change.changed else "unchanged"))
