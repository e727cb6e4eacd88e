"""`watchbill`: the command line assembled from every slice's commands and kinds.

A slice's commands are imported only when they run: `watchbill --help` lists them
from their declarations, so it starts in a fraction of a second.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import get_group

from watchbill import __version__
from watchbill.app.commands import apply_cmd, db_app, export_cmd, serve, worker
from watchbill.app.slices import SLICES
from watchbill.slice import Command

_COMMANDS: dict[str, Command] = {c.name: c for s in SLICES for c in s.commands}
_KINDS: dict[str, str] = {k.plural: k.target for s in SLICES for k in s.kinds}
_RESOLVED: dict[str, Any] = {}


def _help(name: str) -> str:
    if name in _COMMANDS:
        return _COMMANDS[name].help
    return f"{name.capitalize().replace('-', ' ')}: list, show, delete."


def _resolve(name: str) -> Any:
    """The click command of a slice's group, with its kind's list/show/delete added."""
    if name not in _RESOLVED:
        from watchbill.app.assembly import kinds, load
        from watchbill.cli.catalog import kind_commands

        declared = _COMMANDS.get(name)
        group = get_group(load(declared.target)) if declared else TyperGroup(name=name)
        if name in _KINDS:
            for command in kind_commands(kinds().by_plural[name]):
                group.add_command(command)
        group.help = group.short_help = _help(name)
        group.no_args_is_help = True
        _RESOLVED[name] = group
    return _RESOLVED[name]


class SliceCommands(TyperGroup):
    """The root group: its own commands, and the slices' commands loaded on first use."""

    listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *sorted({*_COMMANDS, *_KINDS} - set(self.commands))]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        own = super().get_command(ctx, cmd_name)
        if own is not None or cmd_name not in {*_COMMANDS, *_KINDS}:
            return own
        if self.listing:
            return TyperGroup(name=cmd_name, help=_help(cmd_name), short_help=_help(cmd_name))
        return _resolve(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    cls=SliceCommands,
    help="Watchbill: alerts, incidents, on-call and the rest of technical operations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db_app, name="db", help="Database schema.")
app.command()(serve)
app.command()(worker)
app.command("apply")(apply_cmd)
app.command("export")(export_cmd)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"watchbill {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print version"
    ),
) -> None:
    from watchbill.app.assembly import migrations
    from watchbill.cli.common import use_schema

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("watchbill").setLevel(_settings().log_level.upper())
    use_schema(migrations)


def _settings() -> Any:
    """The settings, or exit 2 naming each bad variable (before any command runs)."""
    from pydantic import ValidationError

    from watchbill.settings import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"WATCHBILL_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        typer.echo(f"error: invalid configuration: {problems}", err=True)
        sys.exit(2)


def main() -> None:
    app()
