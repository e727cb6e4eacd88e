"""`watchbill oncall now|shifts|gaps|override|overrides|override-delete|feed|recipe|health`.

Times on the command line: `now`, an ISO 8601 instant with offset, a date (midnight in
the schedule's zone), or an offset from the other end like `+7d`, `+12h`, `+2w`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from watchbill.cli.common import cli_errors, fail, print_json, print_table, read_ctx, write_ctx
from watchbill.config.apply import dump
from watchbill.config.documents import API_VERSION
from watchbill.errors import FieldError, Invalid
from watchbill.oncall_health import service as health
from watchbill.oncall_health import views as health_views
from watchbill.resources import service as resources
from watchbill.resources.schema import check_name
from watchbill.resources.service import invalid_from
from watchbill.schedules import feeds, recipes, service
from watchbill.schedules.schemas import OverrideIn, ScheduleSpec, in_years
from watchbill.settings import get_settings
from watchbill.users.resource import USERS

app = typer.Typer(no_args_is_help=True)
recipe_app = typer.Typer(
    help="Build common schedules from restricted layers, checked for coverage gaps.",
    no_args_is_help=True,
)
app.add_typer(recipe_app, name="recipe")

ScheduleOpt = Annotated[str, typer.Option("--schedule", "-s", help="the schedule's name")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON instead of a table")]
AFTER_THE_FACT = " (entered after the fact)"
_RELATIVE = re.compile(r"^\+(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(raw: str, tz: ZoneInfo, *, now: datetime, base: datetime, loc: str) -> datetime:
    """A command-line time: now, ISO instant with offset, a date in `tz`, or +N[mhdw]
    after `base`; between the years schedules live in."""
    try:
        return in_years(_parse_when(raw, tz, now=now, base=base, loc=loc))
    except (ValueError, OverflowError) as exc:
        raise Invalid(f"bad {loc}", [FieldError(loc, str(exc))]) from exc


def _parse_when(raw: str, tz: ZoneInfo, *, now: datetime, base: datetime, loc: str) -> datetime:
    text = raw.strip()
    if text == "now":
        return now
    relative = _RELATIVE.match(text)
    if relative:
        return base + timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz).astimezone(UTC)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(
            f"bad {loc}", [FieldError(loc, "now, a date, ISO 8601 with offset, or +7d")]
        ) from exc
    if value.tzinfo is None:
        raise Invalid(f"bad {loc}", [FieldError(loc, "give a UTC offset, e.g. +02:00 or Z")])
    return value.astimezone(UTC)


T = TypeVar("T")


def _over_range(
    schedule: str, start: str, end: str, query: Callable[[Session, str, datetime, datetime], T]
) -> tuple[str, T]:
    """The schedule's zone, and `query` over --from..--to read in that zone."""
    with read_ctx() as ctx:
        check_name(schedule, "--schedule")
        zone = service.get_schedule(ctx.session, schedule).time_zone
        begin, finish = _range(zone, start, end, ctx.now())
        return zone, query(ctx.session, schedule, begin, finish)


def _range(zone: str, start: str, end: str, now: datetime) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    now = now.replace(microsecond=0)
    begin = parse_when(start, tz, now=now, base=now, loc="--from")
    return begin, parse_when(end, tz, now=now, base=begin, loc="--to")


def _local(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@app.command("now")
def now_cmd(
    schedule: Annotated[str | None, typer.Option("--schedule", "-s", help="only this one")] = None,
    at: Annotated[str, typer.Option(help="another instant than now")] = "now",
    as_json: JsonOpt = False,
) -> None:
    """Who is on call now (or --at), on every schedule or one."""
    with read_ctx() as ctx:
        when = parse_when(at, ZoneInfo("UTC"), now=ctx.now(), base=ctx.now(), loc="--at")
        if schedule:
            check_name(schedule, "--schedule")
            answers = [service.on_call(ctx.session, schedule, when)]
        else:
            answers = service.who_is_on_call(ctx.session, when)
    items = [{k: _iso(v) for k, v in a.view().items()} for a in answers]
    if as_json:
        print_json(items[0] if schedule else {"at": when.isoformat(), "items": items})
        return
    print_table(
        [{**i, "user": i["user"] or "(nobody)", "until": i["until"] or ""} for i in items],
        ["schedule", "team", "user", "until"] if schedule else ["schedule", "team", "user"],
    )


@app.command("shifts")
def shifts_cmd(
    schedule: ScheduleOpt,
    start: Annotated[str, typer.Option("--from", help="default now")] = "now",
    end: Annotated[str, typer.Option("--to", help="default +7d; at most a year")] = "+7d",
    as_json: JsonOpt = False,
) -> None:
    """The final schedule from --from to --to: who is on call when."""
    zone, found = _over_range(schedule, start, end, service.final_shifts)
    if as_json:
        print_json([{k: _iso(v) for k, v in service.shift_view(s).items()} for s in found])
        return
    print_table(
        [
            {
                "user": s.user,
                "from": _local(s.start, zone),
                "to": _local(s.end, zone),
                "source": s.source + (AFTER_THE_FACT if s.after_the_fact else ""),
            }
            for s in found
        ],
        ["user", "from", "to", "source"],
    )


@app.command("health")
def health_cmd(
    start: Annotated[
        str | None, typer.Option("--from", help="default: --to minus 28 days; a date is UTC")
    ] = None,
    end: Annotated[str, typer.Option("--to", help="default now; a year at most")] = "now",
    team: Annotated[str | None, typer.Option("--team", help="only this team's members")] = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per person")] = False,
) -> None:
    """On-call health from --from to --to: hours on call, pages, pages in sleep hours,
    off-hours interruptions, nights interrupted, time to acknowledge, per person and team.
    Exit status 3 when someone is over a limit (WATCHBILL_ONCALL_MAX_*)."""
    if as_json and as_csv:
        raise fail("choose one of --json and --csv")
    settings = get_settings()
    with read_ctx() as ctx:
        now = ctx.now().replace(microsecond=0)
        finish = parse_when(end, ZoneInfo("UTC"), now=now, base=now, loc="--to")
        begin = (
            parse_when(start, ZoneInfo("UTC"), now=now, base=finish, loc="--from")
            if start is not None
            else finish - health.DEFAULT_SPAN
        )
        report = health.report(
            ctx.session,
            start=begin,
            end=finish,
            team=check_name(team, "--team") if team is not None else None,
            weekly_limits=settings.oncall_limits,
            sleep_hours=settings.sleep_hours,
            team_loc="--team",
        )
    if as_csv:
        sys.stdout.write(health_views.report_csv(report))
    elif as_json:
        print_json(health_views.report_view(report))
    else:
        _print_health(report)
    if any(p.load.warnings for p in report.people):
        raise typer.Exit(3)


def _print_health(report: health.Report) -> None:
    typer.echo(
        f"{report.start:%Y-%m-%d %H:%M} - {report.end:%Y-%m-%d %H:%M} UTC; sleep hours "
        f"{report.sleep_hours} in each person's zone"
    )
    columns = ["hours", "pages", "sleep", "off-hours", "nights", "mtta-s", "acks"]

    def figures(view: dict[str, Any]) -> dict[str, Any]:
        return {
            "hours": view["hoursOnCall"],
            "pages": view["pages"],
            "sleep": view["sleepPages"],
            "off-hours": view["offHoursInterruptions"],
            "nights": view["nightsInterrupted"],
            "mtta-s": view["mttaSeconds"],
            "acks": view["timedAcknowledgements"],
        }

    people = [health_views.person_view(p) for p in report.people]
    print_table(
        [
            {
                "user": v["user"],
                **figures(v),
                "warnings": "; ".join(w["message"] for w in v["warnings"]),
            }
            for v in people
        ],
        ["user", *columns, "warnings"],
    )
    typer.echo("")
    print_table(
        [
            {"team": v["team"], "members": v["members"], **figures(v)}
            for v in map(health_views.team_view, report.teams)
        ],
        ["team", "members", *columns],
    )


@app.command("gaps")
def gaps_cmd(
    schedule: ScheduleOpt,
    start: Annotated[str, typer.Option("--from", help="default now")] = "now",
    end: Annotated[str, typer.Option("--to", help="default +7d; at most a year")] = "+7d",
    as_json: JsonOpt = False,
) -> None:
    """When nobody is on call between --from and --to; exit status 3 when there are gaps."""
    zone, found = _over_range(schedule, start, end, service.coverage_gaps)
    if as_json:
        print_json([{"start": _iso(a), "end": _iso(b)} for a, b in found])
    elif not found:
        typer.echo(f"covered: someone is on call on {schedule} the whole time")
    else:
        print_table(
            [
                {
                    "from": _local(a, zone),
                    "to": _local(b, zone),
                    "hours": round((b - a).total_seconds() / 3600, 2),
                }
                for a, b in found
            ],
            ["from", "to", "hours"],
        )
    if found:
        raise typer.Exit(3)


@app.command("override")
def override_cmd(
    schedule: ScheduleOpt,
    user: Annotated[str, typer.Option("--user", "-u", help="who takes over")],
    start: Annotated[str, typer.Option("--from", help="now, a date, ISO instant")],
    end: Annotated[str, typer.Option("--to", help="ISO instant, a date, or +8h")],
) -> None:
    """Put USER on call on SCHEDULE from --from to --to, over every layer. A --from in
    the past records a past swap, marked as entered after the fact."""
    with write_ctx() as ctx:
        check_name(schedule, "--schedule")
        zone = service.get_schedule(ctx.session, schedule).time_zone
        begin, finish = _range(zone, start, end, ctx.now())
        try:
            body = OverrideIn(user=user, start=begin, end=finish)
        except ValidationError as exc:
            raise invalid_from(exc) from exc
        made = service.add_override(ctx, schedule, body)
        ident, late = made.id, made.after_the_fact
    typer.echo(
        f"override {ident}: {user} on call on {schedule} "
        f"from {_local(begin, zone)} to {_local(finish, zone)}" + (AFTER_THE_FACT if late else "")
    )


@app.command("overrides")
def overrides_cmd(
    schedule: ScheduleOpt,
    start: Annotated[str, typer.Option("--from", help="default now")] = "now",
    end: Annotated[str, typer.Option("--to", help="default +30d")] = "+30d",
    as_json: JsonOpt = False,
) -> None:
    """The overrides on SCHEDULE that overlap --from to --to."""
    with read_ctx() as ctx:
        check_name(schedule, "--schedule")
        zone = service.get_schedule(ctx.session, schedule).time_zone
        begin, finish = _range(zone, start, end, ctx.now())
        items = [
            service.override_view(o, schedule)
            for o in service.list_overrides(ctx.session, schedule, begin, finish)
        ]
    if as_json:
        print_json([{k: _iso(v) for k, v in i.items()} for i in items])
        return
    print_table(
        [
            {
                **i,
                "start": _local(i["start"], zone),
                "end": _local(i["end"], zone),
                "entered": "after the fact" if i["enteredAfterTheFact"] else "",
            }
            for i in items
        ],
        ["id", "user", "start", "end", "createdBy", "entered"],
    )


@app.command("override-delete")
def override_delete_cmd(
    schedule: ScheduleOpt,
    override_id: Annotated[int, typer.Argument(min=1, help="the override's id")],
) -> None:
    """Delete an override (see `watchbill oncall overrides` for ids)."""
    with write_ctx() as ctx:
        check_name(schedule, "--schedule")
        service.delete_override(ctx, schedule, override_id)
    typer.echo(f"deleted override {override_id} on {schedule}")


@app.command("feed")
def feed_cmd(
    schedule: Annotated[str | None, typer.Option("--schedule", "-s")] = None,
    user: Annotated[str | None, typer.Option("--user", "-u")] = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="stop the feed")] = False,
) -> None:
    """Create or rotate the secret iCalendar feed URL of a schedule or a person (printed
    once; the old URL stops working), or --revoke it."""
    with cli_errors():
        if (schedule is None) == (user is None):
            raise Invalid("give --schedule or --user")
    with write_ctx() as ctx:
        if schedule is not None:
            check_name(schedule, "--schedule")
            subject: dict[str, Any] = {"schedule": service.get_schedule(ctx.session, schedule)}
        else:
            assert user is not None
            check_name(user, "--user")
            subject = {"user": resources.get(ctx, USERS, user)}
        if revoke:
            feeds.revoke(ctx, **subject)
        else:
            secret = feeds.issue(ctx, **subject)
    if revoke:
        typer.echo("calendar feed revoked")
        return
    typer.echo("calendar feed URL (shown only now; subscribe to it in your calendar):", err=True)
    typer.echo(feeds.feed_url(get_settings().base_url, secret))


# ---------------------------------------------------------------- recipes


def _write_recipe(name: str, spec: ScheduleSpec, start: date, output: Path | None) -> None:
    check_name(name, "--name")
    doc = {
        "apiVersion": API_VERSION,
        "kind": "Schedule",
        "metadata": {"name": name},
        "spec": spec.model_dump(mode="json", by_alias=True),
    }
    text = dump([doc])
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    found = recipes.coverage(spec, start)
    if not found:
        typer.echo("coverage: every hour of the first year is covered", err=True)
        return
    typer.echo(f"coverage: {len(found)} gap(s) in the first year, e.g.:", err=True)
    for gap in found[:5]:
        typer.echo(f"  {gap.start.isoformat()} to {gap.end.isoformat()}", err=True)
    raise typer.Exit(3)


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from exc


def _length(raw: str, loc: str) -> dict[str, int]:
    match = re.match(r"^(\d{1,6})([smhdw])$", raw.strip())
    if not match:
        raise Invalid(f"bad {loc}", [FieldError(loc, "like 1w, 2d, 12h, 30m or 3600s")])
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match[2]]
    return {unit: int(match[1])}


def _region(raw: str, i: int) -> dict[str, Any]:
    match = re.match(r"^([a-z0-9-]+)=([a-z0-9,-]+)@(\d\d:\d\d)-(\d\d:\d\d)$", raw.strip())
    if not match:
        raise Invalid(
            "bad --region",
            [FieldError(f"--region.{i}", "like apac=priya,arjun@00:00-08:00")],
        )
    name, users, begin, end = match.groups()
    return {"name": name, "users": users.split(","), "startTime": begin, "endTime": end}


Output = Annotated[Path | None, typer.Option("-o", "--output", help="file (default stdout)")]


@recipe_app.command("follow-the-sun")
def follow_the_sun_cmd(
    name: Annotated[str, typer.Option(help="the schedule's name")],
    region: Annotated[
        list[str],
        typer.Option(help="NAME=user1,user2@HH:MM-HH:MM in the schedule's zone; repeat"),
    ],
    start: Annotated[str, typer.Option(help="first day, YYYY-MM-DD")],
    time_zone: Annotated[str, typer.Option(help="the schedule's zone")] = "UTC",
    turn: Annotated[str, typer.Option(help="each member's turn: 1w, 2d, 12h")] = "1w",
    team: Annotated[str | None, typer.Option(help="owning team")] = None,
    output: Output = None,
) -> None:
    """A follow-the-sun schedule: one layer per region, restricted to its hours. Prints
    the YAML to apply and checks that every hour is covered (exit 3 if not)."""
    with cli_errors():
        body = _validated(
            recipes.FollowTheSunIn,
            {
                "timeZone": time_zone,
                "start": start,
                "turn": _length(turn, "--turn"),
                "team": team,
                "regions": [_region(r, i) for i, r in enumerate(region)],
            },
        )
        _write_recipe(name, recipes.follow_the_sun(body), body.start, output)


@recipe_app.command("weekday-weekend")
def weekday_weekend_cmd(
    name: Annotated[str, typer.Option(help="the schedule's name")],
    weekday: Annotated[str, typer.Option(help="weekday rotation: user1,user2,...")],
    weekend: Annotated[str, typer.Option(help="weekend rotation: user1,user2,...")],
    start: Annotated[str, typer.Option(help="first day, YYYY-MM-DD")],
    time_zone: Annotated[str, typer.Option(help="the schedule's zone")] = "UTC",
    weekday_turn: Annotated[str, typer.Option(help="turn on weekdays")] = "1w",
    weekend_turn: Annotated[str, typer.Option(help="turn on weekends")] = "1w",
    weekend_from: Annotated[str, typer.Option(help='"friday 18:00"')] = "friday 18:00",
    weekend_to: Annotated[str, typer.Option(help='"monday 09:00"')] = "monday 09:00",
    team: Annotated[str | None, typer.Option(help="owning team")] = None,
    output: Output = None,
) -> None:
    """Weekdays and weekends as two restricted layers that tile the week. Prints the YAML
    to apply and checks that every hour is covered (exit 3 if not)."""
    with cli_errors():
        opens = weekend_from.split()
        closes = weekend_to.split()
        if len(opens) != 2 or len(closes) != 2:
            raise Invalid("give the weekend as DAY HH:MM, e.g. --weekend-from 'friday 18:00'")
        body = _validated(
            recipes.WeekdayWeekendIn,
            {
                "timeZone": time_zone,
                "start": start,
                "team": team,
                "weekday": {
                    "users": weekday.split(","),
                    "turn": _length(weekday_turn, "--weekday-turn"),
                },
                "weekend": {
                    "users": weekend.split(","),
                    "turn": _length(weekend_turn, "--weekend-turn"),
                },
                "weekendStartDay": opens[0],
                "weekendStartTime": opens[1],
                "weekendEndDay": closes[0],
                "weekendEndTime": closes[1],
            },
        )
        _write_recipe(name, recipes.weekday_weekend(body), body.start, output)
