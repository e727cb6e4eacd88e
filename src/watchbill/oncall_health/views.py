"""The report as the API and CLI give it (JSON) and as payroll reads it (CSV, one row per
person). Both round the same way, so the CSV and the JSON always agree."""

from __future__ import annotations

import csv
import io
from typing import Any

from watchbill.core import oncall_load as core
from watchbill.oncall_health.service import PersonRow, Report

CSV_COLUMNS = (
    "user",
    "full_name",
    "time_zone",
    "teams",
    "hours_on_call",
    "pages",
    "sleep_hour_pages",
    "off_hours_interruptions",
    "nights_interrupted",
    "timed_acknowledgements",
    "mtta_seconds",
    "warnings",
)
_FIGURE_WORDS = {
    core.HOURS_ON_CALL: "hours on call",
    core.SLEEP_PAGES: "pages in sleep hours",
    core.NIGHTS_INTERRUPTED: "nights interrupted",
}


def hours(value: float) -> float:
    return round(value, 2)


def seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def warning_text(excess: core.Excess) -> str:
    return (
        f"{excess.value:g} {_FIGURE_WORDS[excess.figure]}, "
        f"over the limit of {excess.limit:g} for this period"
    )


def _warning(excess: core.Excess) -> dict[str, Any]:
    return {
        "figure": excess.figure,
        "value": hours(excess.value),
        "limit": hours(excess.limit),
        "message": warning_text(excess),
    }


def _limits(limits: core.Limits) -> dict[str, float]:
    return {
        core.HOURS_ON_CALL: hours(limits.hours_on_call),
        core.SLEEP_PAGES: hours(limits.sleep_pages),
        core.NIGHTS_INTERRUPTED: hours(limits.nights_interrupted),
    }


def person_view(row: PersonRow) -> dict[str, Any]:
    load = row.load
    return {
        "user": load.user,
        "fullName": row.full_name,
        "timeZone": row.time_zone,
        "teams": list(row.teams),
        "hoursOnCall": hours(load.hours_on_call),
        "pages": load.pages,
        "sleepPages": load.sleep_pages,
        "offHoursInterruptions": load.off_hours_pages,
        "nightsInterrupted": load.nights_interrupted,
        "timedAcknowledgements": load.timed_acknowledgements,
        "mttaSeconds": seconds(load.mtta_seconds),
        "warnings": [_warning(w) for w in load.warnings],
    }


def team_view(team: core.TeamLoad) -> dict[str, Any]:
    return {
        "team": team.team,
        "members": team.members,
        "hoursOnCall": hours(team.hours_on_call),
        "pages": team.pages,
        "sleepPages": team.sleep_pages,
        "offHoursInterruptions": team.off_hours_pages,
        "nightsInterrupted": team.nights_interrupted,
        "timedAcknowledgements": team.timed_acknowledgements,
        "mttaSeconds": seconds(team.mtta_seconds),
        "membersWithWarnings": team.members_with_warnings,
    }


def report_view(report: Report) -> dict[str, Any]:
    return {
        "from": report.start,
        "to": report.end,
        "team": report.team,
        "sleepHours": str(report.sleep_hours),
        "limitsPerWeek": _limits(report.weekly_limits),
        "limits": _limits(report.limits),
        "users": [person_view(p) for p in report.people],
        "teams": [team_view(t) for t in report.teams],
    }


def file_name(report: Report) -> str:
    """oncall-health[-team]-<from>-<to>.csv, dates in UTC."""
    team = f"-{report.team}" if report.team else ""
    return f"oncall-health{team}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv"


def _text(value: str) -> str:
    """Free text as a spreadsheet will not run it: a leading = + - @ is quoted (OWASP's
    advice against CSV formula injection; full names are free text)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def report_csv(report: Report) -> str:
    """One row per person under a header row; plain numbers, no units; an empty cell for
    a time to acknowledge that nothing measured; warnings as `figure>limit` joined by `;`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.people:
        view = person_view(row)
        writer.writerow(
            [
                view["user"],
                _text(view["fullName"]),
                view["timeZone"],
                " ".join(view["teams"]),
                view["hoursOnCall"],
                view["pages"],
                view["sleepPages"],
                view["offHoursInterruptions"],
                view["nightsInterrupted"],
                view["timedAcknowledgements"],
                "" if view["mttaSeconds"] is None else view["mttaSeconds"],
                ";".join(f"{w['figure']}>{w['limit']:g}" for w in view["warnings"]),
            ]
        )
    return out.getvalue()
