"""iCalendar (RFC 5545) feeds of final shifts, for one schedule or one person, behind a
secret URL: calendar clients (Google Calendar, Outlook, Apple Calendar) cannot send a
bearer token, so the unguessable secret in the URL is the credential. Only its SHA-256
is stored; rotating replaces it and the old URL stops working at once."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from watchbill import __version__
from watchbill.access import Role
from watchbill.audit.service import record
from watchbill.auth.credentials import hash_token
from watchbill.context import Ctx
from watchbill.core import schedule as core
from watchbill.errors import Forbidden, NotFound
from watchbill.schedules import service
from watchbill.schedules.models import CalendarFeed, Schedule
from watchbill.users.models import User

FEED_PREFIX = "wbcal_"
PAST = timedelta(days=7)
AHEAD = timedelta(days=90)


def feed_url(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/ical/{secret}.ics"


def may_manage_own(ctx: Ctx) -> None:
    """Refuse early a caller who is neither an admin nor a person (a non-admin token)."""
    if not ctx.principal.can(Role.ADMIN) and ctx.principal.user_id is None:
        raise Forbidden("only the user themselves or an admin can manage a person's feed")


def _may_manage(ctx: Ctx, user: User | None) -> None:
    """Schedule feeds are for admins to hand out; a person may manage their own feed."""
    if ctx.principal.can(Role.ADMIN):
        return
    if user is not None and ctx.principal.user_id == user.id:
        return
    raise Forbidden(
        "a schedule's calendar feed needs the admin role"
        if user is None
        else "only the user themselves or an admin can manage their calendar feed"
    )


def _subject(schedule: Schedule | None, user: User | None) -> tuple[str, str, object]:
    if schedule is not None:
        return "Schedule", schedule.name, CalendarFeed.schedule_id == schedule.id
    assert user is not None
    return "User", user.name, CalendarFeed.user_id == user.id


def issue(ctx: Ctx, *, schedule: Schedule | None = None, user: User | None = None) -> str:
    """Create the feed, or rotate its secret; returns the new secret (shown once)."""
    _may_manage(ctx, user)
    kind, name, where = _subject(schedule, user)
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    feed = ctx.session.scalar(select(CalendarFeed).where(where))  # type: ignore[arg-type]
    action = "rotate" if feed is not None else "create"
    if feed is None:
        feed = CalendarFeed(schedule=schedule, user=user)
        ctx.session.add(feed)
    feed.token_hash = hash_token(secret)
    feed.created_by = ctx.principal.label
    feed.created_at = ctx.now()
    ctx.session.flush()
    record(
        ctx,
        action=f"{kind.lower()}.feed.{action}",
        object_type=kind,
        object_id=name,
        after={"feed": "issued", "by": ctx.principal.label},
    )
    return secret


def revoke(ctx: Ctx, *, schedule: Schedule | None = None, user: User | None = None) -> None:
    _may_manage(ctx, user)
    kind, name, where = _subject(schedule, user)
    feed = ctx.session.scalar(select(CalendarFeed).where(where))  # type: ignore[arg-type]
    if feed is None:
        raise NotFound(f"{kind.lower()} {name!r} has no calendar feed")
    ctx.session.delete(feed)
    record(ctx, action=f"{kind.lower()}.feed.revoke", object_type=kind, object_id=name)


def render(session: Session, secret: str, now: datetime) -> bytes | None:
    """The feed's calendar, or None when the secret is unknown (answered as 404)."""
    if not secret.startswith(FEED_PREFIX):
        return None
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(secret)))
    if feed is None:
        return None
    # A window that moves once a day, so the first event keeps its identity all day.
    start = datetime.combine((now - PAST).date(), datetime.min.time(), tzinfo=UTC)
    end = start + PAST + AHEAD + timedelta(days=1)
    if feed.schedule is not None:
        shifts = [
            (feed.schedule.name, s)
            for s in service.final_shifts(session, feed.schedule.name, start, end)
        ]
        title = f"On call: {feed.schedule.name}"
    else:
        assert feed.user is not None
        shifts = service.user_shifts(session, feed.user, start, end)
        title = f"On call: {feed.user.name}"
    return _calendar(title, shifts, now, per_user=feed.user is not None)


def _calendar(
    title: str, shifts: list[tuple[str, core.Shift]], now: datetime, *, per_user: bool
) -> bytes:
    cal = Calendar()
    cal.add("prodid", f"-//Watchbill//{__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", title)
    cal.add("x-published-ttl", "PT1H")
    for schedule, shift in shifts:
        event = Event()
        event.add(
            "uid", f"{schedule}.{shift.source}.{shift.user}.{shift.start:%Y%m%dT%H%M%SZ}@watchbill"
        )
        event.add("dtstamp", now)
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        who = f"{schedule}" if per_user else shift.user
        late = ", entered after the fact" if shift.after_the_fact else ""
        via = f" (override{late})" if shift.source == core.OVERRIDE else ""
        event.add("summary", f"On call: {who}{via}")
        event.add("description", f"Schedule {schedule}, {shift.source}{late}: {shift.user}")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return bytes(cal.to_ical())
