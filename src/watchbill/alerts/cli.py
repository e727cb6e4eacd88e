"""`watchbill alerts|silences|maintenance …`: read alerts, manage silences and
maintenance windows from the shell (as the local operator, audited as cli:<user>)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from watchbill.adapters.clock import system_clock
from watchbill.alerts import maintenance, silences
from watchbill.alerts.api import get_alert, list_alerts
from watchbill.alerts.maintenance import MaintenanceCreate
from watchbill.alerts.silences import STATES, SilenceCreate
from watchbill.cli.common import cli_errors, print_json, print_table, read_ctx, write_ctx
from watchbill.errors import FieldError, Invalid
from watchbill.resources.service import invalid_from

alerts_app = typer.Typer(no_args_is_help=True)
silences_app = typer.Typer(no_args_is_help=True)
maintenance_app = typer.Typer(no_args_is_help=True)

M = TypeVar("M", bound=BaseModel)
_DURATION = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
StateOption = Annotated[
    str | None, typer.Option(help=f"only {', '.join(STATES)}", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON instead of a table")]


def _state(value: str | None) -> str | None:
    if value is not None and value not in STATES:
        raise Invalid("bad --state", [FieldError("--state", f"one of {', '.join(STATES)}")])
    return value


def _ends(starts_at: str | None, ends_at: str | None, duration: str | None) -> Any:
    """`--ends-at` as given, or the start (default now) plus `--duration`."""
    if ends_at and duration:
        raise Invalid("give --ends-at or --duration, not both")
    if ends_at:
        return ends_at
    match = _DURATION.match(duration or "")
    if not match:
        raise Invalid("bad --duration", [FieldError("--duration", "like 90m, 2h, 1d, 1w")])
    start = system_clock.now()
    if starts_at:
        try:
            start = datetime.fromisoformat(starts_at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise Invalid(
                "bad --starts-at", [FieldError("--starts-at", "ISO 8601 with offset")]
            ) from exc
        if start.tzinfo is None:
            raise Invalid("bad --starts-at", [FieldError("--starts-at", "needs a UTC offset")])
    return start + timedelta(**{_UNITS[match[2]]: int(match[1])})


def _validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from exc


def _short(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


# ----------------------------------------------------------------- alerts


@alerts_app.command("list")
def alerts_list(
    status: Annotated[str | None, typer.Option(help="firing or resolved")] = None,
    service: Annotated[str | None, typer.Option(help="service name")] = None,
    severity: Annotated[str | None, typer.Option(help="critical, error, warning, info")] = None,
    text: Annotated[str | None, typer.Option(help="text in the summary")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """The newest alerts."""
    with cli_errors():
        if status not in (None, "firing", "resolved"):
            raise Invalid("bad --status", [FieldError("--status", "firing or resolved")])
        if severity not in (None, "critical", "error", "warning", "info"):
            raise Invalid(
                "bad --severity", [FieldError("--severity", "critical, error, warning or info")]
            )
    with read_ctx() as ctx:
        items, _ = list_alerts(
            ctx, status=status, service=service, severity=severity, text=text, limit=limit
        )
    if as_json:
        print_json(items)
        return
    rows = [
        {
            **i,
            "lastSeen": _short(i["lastSeen"]),
            "incidentId": i["incidentId"] or "",
            "suppressed": i["suppressed"][:60],
        }
        for i in items
    ]
    print_table(
        rows,
        ["id", "lastSeen", "service", "severity", "status", "summary", "incidentId", "suppressed"],
    )


@alerts_app.command("show")
def alerts_show(alert_id: str) -> None:
    """One alert as JSON, with its raw payload."""
    with read_ctx() as ctx:
        alert = get_alert(ctx, alert_id)
    print_json(alert)


# ----------------------------------------------------------------- silences


@silences_app.command("list")
def silences_list(
    state: StateOption = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    as_json: JsonOption = False,
) -> None:
    """Silences, newest first."""
    with cli_errors():
        _state(state)
    with read_ctx() as ctx:
        rows, _ = silences.list_page(ctx, state=state, limit=limit)
        now = ctx.now()
        items = [silences.view(s, now) for s in rows]
    if as_json:
        print_json(items)
        return
    print_table(
        [
            {
                **i,
                "matchers": silences.matchers_text(i["matchers"]),
                "startsAt": _short(i["startsAt"]),
                "endsAt": _short(i["endsAt"]),
            }
            for i in items
        ],
        ["id", "state", "matchers", "startsAt", "endsAt", "createdBy", "comment"],
    )


@silences_app.command("create")
def silences_create(
    matchers: Annotated[
        list[str], typer.Argument(help='matchers: name=value, name!=value, name=~"regex"')
    ],
    comment: Annotated[str, typer.Option(help="why (required)")],
    duration: Annotated[str | None, typer.Option(help="90m, 2h, 1d, 1w")] = None,
    ends_at: Annotated[str | None, typer.Option(help="ISO 8601 with offset")] = None,
    starts_at: Annotated[str | None, typer.Option(help="ISO 8601 with offset")] = None,
) -> None:
    """Silence matching alerts from now (or --starts-at) for --duration or --ends-at."""
    with cli_errors():
        body = _validate(
            SilenceCreate,
            {
                "matchers": matchers,
                "comment": comment,
                "startsAt": starts_at,
                "endsAt": _ends(starts_at, ends_at, duration or (None if ends_at else "1h")),
            },
        )
    with write_ctx() as ctx:
        silence = silences.create(ctx, body)
        text = silences.matchers_text(silence.matchers)
        ends = silence.ends_at.isoformat()
    typer.echo(f"created silence {silence.id}: {{{text}}} until {ends}")


@silences_app.command("expire")
def silences_expire(ids: Annotated[list[str], typer.Argument(help="silence ids")]) -> None:
    """End silences now."""
    with write_ctx() as ctx:
        for silence_id in ids:
            silences.expire(ctx, silence_id)
    typer.echo(f"expired silence{'s' if len(ids) > 1 else ''} {', '.join(ids)}")


# ----------------------------------------------------------------- maintenance windows


@maintenance_app.command("list")
def maintenance_list(
    service: Annotated[str | None, typer.Option(help="only this service")] = None,
    state: StateOption = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    as_json: JsonOption = False,
) -> None:
    """Maintenance windows, newest first."""
    with cli_errors():
        _state(state)
    with read_ctx() as ctx:
        rows, _ = maintenance.list_page(ctx, service=service, state=state, limit=limit)
        now = ctx.now()
        items = [maintenance.view(w, name, now) for w, name in rows]
    if as_json:
        print_json(items)
        return
    print_table(
        [{**i, "startsAt": _short(i["startsAt"]), "endsAt": _short(i["endsAt"])} for i in items],
        ["id", "service", "state", "startsAt", "endsAt", "createdBy", "description"],
    )


@maintenance_app.command("create")
def maintenance_create(
    service: Annotated[str, typer.Argument(help="service name")],
    duration: Annotated[str | None, typer.Option(help="90m, 2h, 1d, 1w")] = None,
    ends_at: Annotated[str | None, typer.Option(help="ISO 8601 with offset")] = None,
    starts_at: Annotated[str | None, typer.Option(help="ISO 8601 with offset")] = None,
    description: Annotated[str, typer.Option(help="what is being done")] = "",
) -> None:
    """Plan a window: the service's alerts page nobody while it is active."""
    with cli_errors():
        if not duration and not ends_at:
            raise Invalid("give --duration or --ends-at")
        body = _validate(
            MaintenanceCreate,
            {
                "description": description,
                "startsAt": starts_at,
                "endsAt": _ends(starts_at, ends_at, duration),
            },
        )
    with write_ctx() as ctx:
        window, name = maintenance.create(ctx, service, body)
        window_id, start, end = window.id, window.starts_at, window.ends_at
    typer.echo(
        f"created maintenance window {window_id} on {name}: "
        f"{start.isoformat()} to {end.isoformat()}"
    )


@maintenance_app.command("end")
def maintenance_end(ids: Annotated[list[str], typer.Argument(help="window ids")]) -> None:
    """End maintenance windows now."""
    with write_ctx() as ctx:
        for window_id in ids:
            maintenance.end(ctx, window_id)
    typer.echo(f"ended maintenance window{'s' if len(ids) > 1 else ''} {', '.join(ids)}")
