"""The On-call health page (/oncall/health): a period picker, a row per person with
their warnings highlighted, team totals, and the same report as CSV for the signed-in
user (/oncall/health.csv; the API's CSV needs a token, a page has a session)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from watchbill.errors import FieldError, Invalid, WatchbillError
from watchbill.oncall_health import service, views
from watchbill.resources.schema import check_name
from watchbill.schedules.schemas import in_years
from watchbill.web.deps import Runtime, runtime
from watchbill.web.layout import TEMPLATES, PageUser, SignedIn, render

router = APIRouter(include_in_schema=False)
Rt = Annotated[Runtime, Depends(runtime)]
FromDay = Annotated[str, Query(alias="from", max_length=10)]
ToDay = Annotated[str, Query(alias="to", max_length=10)]
TeamName = Annotated[str, Query(max_length=63)]
PRESETS = (7, 28, 91)


def duration(value: float | None) -> str:
    """Seconds as the page shows a time to acknowledge: 45s, 3m 20s, 1h 05m."""
    if value is None:
        return "-"
    whole = round(value)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


TEMPLATES.env.filters.update(duration=duration)


def _day(raw: str, loc: str) -> date | None:
    if not raw:
        return None
    try:
        return in_years(date.fromisoformat(raw))  # type: ignore[no-any-return]
    except ValueError as exc:
        raise Invalid(f"bad {loc}", [FieldError(loc, "a date, YYYY-MM-DD")]) from exc


def _period(pu: PageUser, now: datetime, start: str, end: str) -> tuple[date, date, ZoneInfo]:
    """The picked days, read in the viewer's own zone: from the first day's midnight to
    the midnight after the last (both days included). Default: the last 28 days."""
    tz = ZoneInfo(pu.user.time_zone)
    last = _day(end, "to") or now.astimezone(tz).date()
    first = _day(start, "from") or last - timedelta(days=27)
    return first, last, tz


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _report(
    pu: PageUser, rt: Runtime, first: date, last: date, tz: ZoneInfo, team: str
) -> service.Report:
    return service.report(
        pu.session,
        start=_midnight(first, tz),
        end=_midnight(last + timedelta(days=1), tz),
        team=check_name(team, "team") if team else None,
        weekly_limits=rt.settings.oncall_limits,
        sleep_hours=rt.settings.sleep_hours,
        team_loc="team",
    )


@router.get("/oncall/health", response_class=HTMLResponse)
def health_page(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    start: FromDay = "",
    end: ToDay = "",
    team: TeamName = "",
) -> Response:
    try:
        first, last, tz = _period(pu, rt.clock.now(), start, end)
        report = _report(pu, rt, first, last, tz, team)
    except WatchbillError as exc:
        return render(request, "error.html", pu, status=exc.status, error=str(exc))
    query = urlencode({"from": first, "to": last, **({"team": team} if team else {})})
    today = rt.clock.now().astimezone(tz).date()
    return render(
        request,
        "oncall/health.html",
        pu,
        report=report,
        people=[views.person_view(p) for p in report.people],
        teams=[views.team_view(t) for t in report.teams],
        team_names=sorted(service.team_names(pu.session)),
        team=team,
        first=first,
        last=last,
        tz=tz,
        query=query,
        presets=[(n, today - timedelta(days=n - 1), today) for n in PRESETS],
    )


@router.get("/oncall/health.csv")
def health_csv(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    start: FromDay = "",
    end: ToDay = "",
    team: TeamName = "",
) -> Response:
    try:
        report = _report(pu, rt, *_period(pu, rt.clock.now(), start, end), team)
    except WatchbillError as exc:
        return render(request, "error.html", pu, status=exc.status, error=str(exc))
    return Response(
        views.report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{views.file_name(report)}"'},
    )
