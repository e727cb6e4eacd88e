"""On-call pages: who is on call now across the organisation, and a schedule's page with
a timeline of its layers, overrides and the final schedule (server-drawn bars), its
overrides, and its calendar feed."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from watchbill.access import Role
from watchbill.core import schedule as core
from watchbill.errors import FieldError, Invalid, WatchbillError
from watchbill.resources.service import invalid_from
from watchbill.schedules import feeds, service
from watchbill.schedules.models import Schedule
from watchbill.schedules.resource import SCHEDULES
from watchbill.schedules.schemas import OverrideIn, in_years
from watchbill.users.models import User
from watchbill.web.deps import Runtime, runtime
from watchbill.web.layout import TEMPLATES, CsrfField, PageUser, SignedIn, check_csrf, render

router = APIRouter(include_in_schema=False)
Rt = Annotated[Runtime, Depends(runtime)]
SPANS = (1, 7, 14, 28)
UPCOMING = timedelta(days=14)


def hue(user: str) -> int:
    """A stable colour per person, so the same person looks the same in every row."""
    return zlib.crc32(user.encode()) % 360


@dataclass(frozen=True, slots=True)
class Bar:
    user: str
    start: datetime
    end: datetime
    left: float
    width: float
    hue: int
    override: bool
    after_the_fact: bool


def _bars(shifts: list[core.Shift], start: datetime, end: datetime) -> list[Bar]:
    span = (end - start).total_seconds()
    return [
        Bar(
            user=s.user,
            start=s.start,
            end=s.end,
            left=round((s.start - start).total_seconds() / span * 100, 3),
            width=round((s.end - s.start).total_seconds() / span * 100, 3),
            hue=hue(s.user),
            override=s.source == core.OVERRIDE,
            after_the_fact=s.after_the_fact,
        )
        for s in shifts
    ]


def local(instant: datetime, zone: str) -> str:
    """An instant on the schedule's wall clock, as the page shows it."""
    return instant.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


TEMPLATES.env.filters.update(hue=hue, local=local)


def _error(request: Request, pu: PageUser, exc: WatchbillError) -> Response:
    return render(request, "error.html", pu, status=exc.status, error=str(exc))


@router.get("/oncall", response_class=HTMLResponse)
def oncall_page(request: Request, pu: SignedIn, rt: Rt) -> Response:
    now = rt.clock.now()
    rows = []
    for row in pu.session.scalars(select(Schedule).order_by(Schedule.name)):
        sched = service.compiled(pu.session, row, now, now + UPCOMING)
        shifts = core.final_shifts(sched, now, now + UPCOMING)
        current = shifts[0] if shifts and shifts[0].start == now else None
        following = next((s for s in shifts if current is None or s.start >= current.end), None)
        rows.append(
            {
                "name": row.name,
                "team": row.team.name if row.team else None,
                "zone": row.time_zone,
                "user": current.user if current else None,
                "override": bool(current and current.source == core.OVERRIDE),
                "until": current.end if current and current.end < now + UPCOMING else None,
                "next": following,
            }
        )
    mine = service.user_shifts(pu.session, pu.user, now, now + UPCOMING)
    return render(request, "oncall/now.html", pu, rows=rows, mine=mine, now=now, feed_url=None)


@router.post("/oncall/my-feed", response_class=HTMLResponse)
def my_feed(request: Request, pu: SignedIn, rt: Rt, csrf: CsrfField = "") -> Response:
    """Create or rotate the signed-in person's own calendar feed; the URL is shown once."""
    check_csrf(pu, csrf)
    with rt.write(pu.principal) as ctx:
        user = ctx.session.get_one(User, pu.user.id)
        secret = feeds.issue(ctx, user=user)
    return render(
        request,
        "oncall/feed.html",
        pu,
        subject=f"your shifts ({pu.user.name})",
        url=feeds.feed_url(rt.settings.base_url, secret),
        back="/oncall",
    )


def _local_day(raw: str, tz: ZoneInfo, now: datetime) -> datetime:
    if not raw:
        day = now.astimezone(tz).date()
    else:
        try:
            day = in_years(date.fromisoformat(raw))
        except ValueError as exc:
            raise Invalid("bad start", [FieldError("start", "a date, YYYY-MM-DD")]) from exc
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@router.get("/oncall/schedules/{name}", response_class=HTMLResponse)
def schedule_page(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    name: str,
    start: Annotated[str, Query(max_length=10)] = "",
    days: Annotated[int, Query(ge=1, le=28)] = 7,
    error: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    now = rt.clock.now()
    try:
        row = service.get_schedule(pu.session, name)
        tz = ZoneInfo(row.time_zone)
        begin = _local_day(start, tz, now)
        end = begin + timedelta(days=days)
        view = service.timeline(pu.session, row, begin, end)
        # Those in view (past swaps recorded later among them) and all upcoming ones.
        shown = {
            o.id: o
            for o in service.list_overrides(pu.session, name, begin, end)
            + service.list_overrides(pu.session, name, now, now + timedelta(days=366))
        }
    except WatchbillError as exc:
        return _error(request, pu, exc)
    ticks = []
    day = begin
    while day < end:
        ticks.append(
            (
                round((day - begin).total_seconds() / (end - begin).total_seconds() * 100, 3),
                day.astimezone(tz),
            )
        )
        day = datetime.combine(
            day.astimezone(tz).date() + timedelta(days=1), time(0), tzinfo=tz
        ).astimezone(UTC)
    first_day = begin.astimezone(tz).date()
    users = list(pu.session.scalars(select(User.name).order_by(User.name).limit(2000)))
    return render(
        request,
        "oncall/schedule.html",
        pu,
        item=SCHEDULES.view(row),
        tz=tz,
        now=now,
        current=service.on_call(pu.session, name, now),
        rows=[(label, _bars(shifts, begin, end)) for label, shifts in view.layers],
        override_bars=_bars(view.overrides, begin, end),
        final_bars=_bars(view.final, begin, end),
        gaps=view.gaps,
        ticks=ticks,
        now_left=(
            round((now - begin).total_seconds() / (end - begin).total_seconds() * 100, 3)
            if begin <= now < end
            else None
        ),
        days=days,
        spans=SPANS,
        start=first_day,
        earlier=first_day - timedelta(days=days),
        later=first_day + timedelta(days=days),
        overrides=[
            service.override_view(o, name)
            for o in sorted(shown.values(), key=lambda o: (o.starts_at, o.id))
        ],
        users=users,
        can_override=pu.principal.can(Role.RESPONDER),
        is_admin=pu.principal.can(Role.ADMIN),
        error=error,
    )


def _local_instant(raw: str, tz: ZoneInfo, loc: str) -> datetime:
    """A datetime-local form value (no offset) read in the schedule's zone."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid("bad time", [FieldError(loc, "a date and time, YYYY-MM-DDTHH:MM")]) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


@router.post("/oncall/schedules/{name}/overrides")
def override_submit(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    name: str,
    user: Annotated[str, Form(max_length=63)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
    csrf: CsrfField = "",
) -> Response:
    check_csrf(pu, csrf)
    try:
        tz = ZoneInfo(service.get_schedule(pu.session, name).time_zone)
        try:
            body = OverrideIn(
                user=user,
                start=_local_instant(start, tz, "start"),
                end=_local_instant(end, tz, "end"),
            )
        except ValidationError as exc:
            raise invalid_from(exc) from exc
        with rt.write(pu.principal) as ctx:
            service.add_override(ctx, name, body)
    except WatchbillError as exc:
        return _error(request, pu, exc)
    return RedirectResponse(f"/oncall/schedules/{name}#overrides", status_code=303)


@router.post("/oncall/schedules/{name}/overrides/{override_id}/delete")
def override_delete(
    request: Request, pu: SignedIn, rt: Rt, name: str, override_id: int, csrf: CsrfField = ""
) -> Response:
    check_csrf(pu, csrf)
    try:
        with rt.write(pu.principal) as ctx:
            service.delete_override(ctx, name, override_id)
    except WatchbillError as exc:
        return _error(request, pu, exc)
    return RedirectResponse(f"/oncall/schedules/{name}#overrides", status_code=303)


@router.post("/oncall/schedules/{name}/feed", response_class=HTMLResponse)
def schedule_feed(
    request: Request, pu: SignedIn, rt: Rt, name: str, csrf: CsrfField = ""
) -> Response:
    check_csrf(pu, csrf)
    try:
        with rt.write(pu.principal) as ctx:
            secret = feeds.issue(ctx, schedule=service.get_schedule(ctx.session, name))
    except WatchbillError as exc:
        return _error(request, pu, exc)
    return render(
        request,
        "oncall/feed.html",
        pu,
        subject=f"schedule {name}",
        url=feeds.feed_url(rt.settings.base_url, secret),
        back=f"/oncall/schedules/{name}",
    )
