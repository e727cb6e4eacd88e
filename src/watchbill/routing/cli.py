"""`watchbill route list|test`: the rules in the order they are tried, and what they do
with sample events (the same evaluation as intake)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError

from watchbill.cli.common import cli_errors, print_json, print_table, read_ctx
from watchbill.errors import FieldError, Invalid
from watchbill.resources.service import invalid_from
from watchbill.routing import service
from watchbill.routing.resource import ROUTING_RULES
from watchbill.routing.schemas import SampleEvent

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """The rules in the order they are tried (order, then name)."""
    with read_ctx() as ctx:
        rows, _ = service.list_in_order(ctx, limit=100_000)
        items = [ROUTING_RULES.view(r) for r in rows]
    if as_json:
        print_json(items)
        return
    shown = [
        {
            "order": i["order"],
            "name": i["name"],
            "match": _match_text(i["match"]),
            "then": _then_text(i["set"], i["suppress"]),
        }
        for i in items
    ]
    print_table(shown, ["order", "name", "match", "then"])


def _match_text(match: dict[str, Any]) -> str:
    parts = []
    if match["services"]:
        parts.append("service in " + ",".join(match["services"]))
    if match["severities"]:
        parts.append("severity in " + ",".join(match["severities"]))
    parts.extend(match["labels"])
    if match["text"]:
        parts.append(f"summary~/{match['text']}/")
    return "; ".join(parts) or "every alert"


def _then_text(sets: dict[str, Any], suppress: bool) -> str:
    parts = [f"{k}={v}" for k, v in sets.items() if v]
    if suppress:
        parts.append("suppress")
    return ", ".join(parts) or "nothing"


def _read_events(file: Path) -> tuple[list[Any], bool]:
    """The JSON document(s) of FILE (`-` for stdin): one event, or a list of them."""
    try:
        raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise Invalid(f"{file}: {exc.strerror or exc}") from exc
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"{file}: not valid JSON ({exc})") from exc
    if isinstance(doc, list):
        return doc, True
    return [doc], False


def _labels(values: list[str]) -> dict[str, str]:
    labels = {}
    for i, item in enumerate(values):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise Invalid("bad --label", [FieldError(f"--label.{i}", f"{item!r} is not k=v")])
        labels[name.strip()] = value
    return labels


@app.command("test")
def test_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(help="JSON file of one event or a list of events ('-' for stdin)"),
    ] = None,
    service_name: Annotated[
        str | None, typer.Option("--service", help="the service the alert comes in on")
    ] = None,
    severity: Annotated[str, typer.Option(help="critical, error, warning or info")] = "warning",
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="k=v, repeatable")
    ] = None,
    summary: Annotated[str, typer.Option(help="the alert's summary")] = "",
    at: Annotated[
        str | None,
        typer.Option(help="ISO 8601 instant for silences and maintenance (default now)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Which rule a sample event matches first, what it sets, and whether anyone is paged.

    Give a JSON file ({"service": ..., "severity": ..., "labels": {...}, "summary": ...})
    or the event inline with --service, --severity, --label k=v and --summary.
    """
    with cli_errors():
        if file is not None:
            if service_name or label or summary:
                raise Invalid("give a FILE or the event as options, not both")
            docs, many = _read_events(file)
        else:
            if not service_name:
                raise Invalid("give a FILE or --service", [FieldError("--service", "required")])
            doc: dict[str, Any] = {
                "service": service_name,
                "severity": severity,
                "labels": _labels(label or []),
                "summary": summary,
            }
            if at:
                doc["at"] = at
            docs, many = [doc], False
        events = []
        for i, doc in enumerate(docs):
            if at and isinstance(doc, dict):
                doc = {**doc, "at": at}
            try:
                events.append(SampleEvent.model_validate(doc))
            except ValidationError as exc:
                raise invalid_from(exc, prefix=f"[{i}]" if many else "") from exc
    with read_ctx() as ctx:
        outcomes = [service.route_test(ctx, event) for event in events]
    if as_json:
        results = [service.outcome_json(o) for o in outcomes]
        print_json(results if many else results[0])
        return
    for i, outcome in enumerate(outcomes):
        if i:
            typer.echo("")
        for line in service.describe(outcome):
            typer.echo(line)
