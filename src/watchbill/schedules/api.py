"""/api/v1 on-call routes beside the generic Schedule resource routes: who is on call,
the final schedule, coverage gaps, overrides, calendar feeds and recipes; and the public
iCalendar feed at /ical/<secret>.ics (the secret is the credential)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from watchbill.access import Principal, Role
from watchbill.context import Ctx
from watchbill.errors import NotFound
from watchbill.resources import service as resources
from watchbill.resources.api import PathName
from watchbill.schedules import feeds, recipes, service
from watchbill.schedules.schemas import (
    FeedOut,
    GapsOut,
    Moment,
    OnCallOut,
    OnCallPage,
    OverrideIn,
    OverrideOut,
    OverridePage,
    ScheduleSpec,
    ShiftsOut,
)
from watchbill.users.resource import USERS
from watchbill.web.deps import ReadCtx, Runtime, require, runtime

router = APIRouter(prefix="/api/v1", tags=["on-call"])
public = APIRouter(include_in_schema=False)

Rt = Annotated[Runtime, Depends(runtime)]
Responder = Annotated[Principal, Depends(require(Role.RESPONDER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
Signed = Annotated[Principal, Depends(require(Role.VIEWER))]
At = Annotated[Moment | None, Query(description="ISO 8601 instant with offset; default now")]
From = Annotated[
    Moment | None, Query(alias="from", description="ISO 8601 with offset; default now")
]
To = Annotated[
    Moment | None,
    Query(alias="to", description="ISO 8601 with offset; default from + 7 days; at most 1 year"),
]
OverrideId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DEFAULT_SPAN = timedelta(days=7)


def _range(ctx: Ctx, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    begin = (start or ctx.now()).astimezone(UTC)
    return begin, (end or begin + DEFAULT_SPAN).astimezone(UTC)


@router.get("/oncall", response_model=OnCallPage, summary="Who is on call on every schedule")
def oncall_all(ctx: ReadCtx, at: At = None) -> dict[str, Any]:
    when = (at or ctx.now()).astimezone(UTC)
    return {"at": when, "items": [o.view() for o in service.who_is_on_call(ctx.session, when)]}


@router.get(
    "/schedules/{name}/oncall",
    response_model=OnCallOut,
    summary="Who is on call on one schedule, and until when",
)
def oncall_one(ctx: ReadCtx, name: PathName, at: At = None) -> dict[str, Any]:
    return service.on_call(ctx.session, name, (at or ctx.now()).astimezone(UTC)).view()


@router.get(
    "/schedules/{name}/shifts",
    response_model=ShiftsOut,
    summary="The final schedule: who is on call when, overrides and layers applied",
)
def shifts(ctx: ReadCtx, name: PathName, start: From = None, end: To = None) -> dict[str, Any]:
    begin, finish = _range(ctx, start, end)
    found = service.final_shifts(ctx.session, name, begin, finish)
    row = service.get_schedule(ctx.session, name)
    return {
        "schedule": name,
        "timeZone": row.time_zone,
        "from": begin,
        "to": finish,
        "items": [service.shift_view(s) for s in found],
    }


@router.get(
    "/schedules/{name}/gaps",
    response_model=GapsOut,
    summary="Coverage gaps: when nobody is on call",
)
def gaps(ctx: ReadCtx, name: PathName, start: From = None, end: To = None) -> dict[str, Any]:
    begin, finish = _range(ctx, start, end)
    found = service.coverage_gaps(ctx.session, name, begin, finish)
    return {
        "schedule": name,
        "from": begin,
        "to": finish,
        "covered": not found,
        "items": [{"start": a, "end": b} for a, b in found],
    }


@router.get(
    "/schedules/{name}/overrides",
    response_model=OverridePage,
    summary="Overrides that overlap a range (default: the next 7 days)",
)
def list_overrides(
    ctx: ReadCtx, name: PathName, start: From = None, end: To = None
) -> dict[str, Any]:
    begin, finish = _range(ctx, start, end)
    rows = service.list_overrides(ctx.session, name, begin, finish)
    return {"items": [service.override_view(o, name) for o in rows]}


@router.post(
    "/schedules/{name}/overrides",
    status_code=201,
    response_model=OverrideOut,
    summary="Put someone on call from start to end, over every layer (responders and up; "
    "a start in the past, admins only)",
)
def add_override(name: PathName, body: OverrideIn, principal: Responder, rt: Rt) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        return service.override_view(service.add_override(ctx, name, body), name)


@router.delete(
    "/schedules/{name}/overrides/{override_id}", status_code=204, summary="Delete an override"
)
def delete_override(
    name: PathName, override_id: OverrideId, principal: Responder, rt: Rt
) -> Response:
    with rt.write(principal) as ctx:
        service.delete_override(ctx, name, override_id)
    return Response(status_code=204)


@router.post(
    "/schedules/{name}/calendar-feed",
    response_model=FeedOut,
    summary="Create or rotate the schedule's secret iCalendar feed URL (admins)",
)
def schedule_feed(name: PathName, principal: Admin, rt: Rt) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        secret = feeds.issue(ctx, schedule=service.get_schedule(ctx.session, name))
    return {"url": feeds.feed_url(rt.settings.base_url, secret), "subject": f"schedule/{name}"}


@router.delete(
    "/schedules/{name}/calendar-feed", status_code=204, summary="Revoke the schedule's feed"
)
def revoke_schedule_feed(name: PathName, principal: Admin, rt: Rt) -> Response:
    with rt.write(principal) as ctx:
        feeds.revoke(ctx, schedule=service.get_schedule(ctx.session, name))
    return Response(status_code=204)


@router.post(
    "/users/{name}/calendar-feed",
    response_model=FeedOut,
    summary="Create or rotate a person's feed of their shifts (themselves or admins)",
)
def user_feed(name: PathName, principal: Signed, rt: Rt) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        feeds.may_manage_own(ctx)
        secret = feeds.issue(ctx, user=resources.get(ctx, USERS, name))
    return {"url": feeds.feed_url(rt.settings.base_url, secret), "subject": f"user/{name}"}


@router.delete("/users/{name}/calendar-feed", status_code=204, summary="Revoke a person's feed")
def revoke_user_feed(name: PathName, principal: Signed, rt: Rt) -> Response:
    with rt.write(principal) as ctx:
        feeds.may_manage_own(ctx)
        feeds.revoke(ctx, user=resources.get(ctx, USERS, name))
    return Response(status_code=204)


def _recipe_answer(spec: ScheduleSpec, start: date) -> dict[str, Any]:
    found = recipes.coverage(spec, start)
    return {
        "spec": spec.model_dump(mode="json", by_alias=True),
        "covered": not found,
        "gaps": [g.model_dump(mode="json", by_alias=True) for g in found],
    }


@router.post(
    "/schedule-recipes/follow-the-sun",
    summary="Build a follow-the-sun Schedule spec from regions and hours; check coverage",
)
def follow_the_sun(body: recipes.FollowTheSunIn, _p: Responder) -> dict[str, Any]:
    return _recipe_answer(recipes.follow_the_sun(body), body.start)


@router.post(
    "/schedule-recipes/weekday-weekend",
    summary="Build a weekday/weekend Schedule spec; check coverage",
)
def weekday_weekend(body: recipes.WeekdayWeekendIn, _p: Responder) -> dict[str, Any]:
    return _recipe_answer(recipes.weekday_weekend(body), body.start)


@public.get("/ical/{secret}.ics")
def ical_feed(secret: Annotated[str, Path(max_length=100)], rt: Rt) -> Response:
    with rt.db.read() as session:
        body = feeds.render(session, secret, rt.clock.now())
    if body is None:
        raise NotFound("no such calendar feed")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
