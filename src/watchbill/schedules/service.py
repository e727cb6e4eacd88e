"""Who is on call, the final schedule, coverage gaps, and overrides: load the schedule,
ask the pure core, answer. Parsed schedules are cached per process by (id, revision), so
"who is on call now" across a thousand schedules costs two queries and the core's
arithmetic; overrides are always read fresh.

The past is the admins' record: on-call hours for pay and health are read from it, so
an override that starts before it is entered (beyond a few minutes' grace for "from
now" typed on a form) is a past swap written down later. Only admins may enter one,
and it stays marked `after_the_fact` wherever it shows."""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchbill.access import Role
from watchbill.audit.service import record
from watchbill.catalog.models import Team
from watchbill.context import Ctx
from watchbill.core import schedule as core
from watchbill.errors import FieldError, Forbidden, Invalid, NotFound, WatchbillError
from watchbill.schedules.compile import compile_schedule
from watchbill.schedules.models import Schedule, ScheduleOverride
from watchbill.schedules.schemas import OverrideIn, ScheduleSpec
from watchbill.users.models import User

MAX_RANGE = timedelta(days=366)
PAST_GRACE = timedelta(minutes=5)
UNTIL_HORIZON = timedelta(days=90)
_CACHE_MAX = 20_000
_cache: dict[int, tuple[str, core.Schedule]] = {}
_cache_lock = threading.Lock()


def check_range(start: datetime, end: datetime, *, limit: timedelta = MAX_RANGE) -> None:
    """Refuse an empty, reversed or over-long range, naming the `to` parameter."""
    if end <= start:
        raise Invalid("empty range", [FieldError("query.to", "must be after from")])
    if end - start > limit:
        year = " (one year)" if limit == MAX_RANGE else ""
        raise Invalid(
            f"the range is too long: at most {limit.days} days{year} at a time",
            [FieldError("query.to", f"at most {limit.days} days after from; ask in parts")],
        )


def get_schedule(session: Session, name: str) -> Schedule:
    row = session.scalar(select(Schedule).where(Schedule.name == name))
    if row is None:
        raise NotFound(f"schedule {name!r} does not exist")
    return row


def _layers(schedule_id: int, revision: str, time_zone: str, layers: list[Any]) -> core.Schedule:
    """The parsed layers of a schedule revision (no overrides), from the cache if there."""
    hit = _cache.get(schedule_id)
    if hit is not None and hit[0] == revision:
        return hit[1]
    spec = ScheduleSpec.model_validate({"timeZone": time_zone, "layers": layers})
    parsed = compile_schedule(spec)
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[schedule_id] = (revision, parsed)
    return parsed


def _overrides(
    session: Session, schedule_id: int | None, start: datetime, end: datetime
) -> dict[int, tuple[core.Override, ...]]:
    """Overrides overlapping [start, end), per schedule (one, or all with None), oldest
    first: where they overlap, the later one wins."""
    stmt = (
        select(
            ScheduleOverride.schedule_id,
            User.name,
            ScheduleOverride.starts_at,
            ScheduleOverride.ends_at,
            ScheduleOverride.after_the_fact,
        )
        .join(User, User.id == ScheduleOverride.user_id)
        .where(ScheduleOverride.ends_at > start, ScheduleOverride.starts_at < end)
        .order_by(ScheduleOverride.id)
    )
    if schedule_id is not None:
        stmt = stmt.where(ScheduleOverride.schedule_id == schedule_id)
    found: dict[int, list[core.Override]] = defaultdict(list)
    for sid, user, starts, ends, late in session.execute(stmt):
        found[sid].append(core.Override(user, starts, ends, late))
    return {sid: tuple(items) for sid, items in found.items()}


def compiled(session: Session, row: Schedule, start: datetime, end: datetime) -> core.Schedule:
    """The schedule as the core sees it, with the overrides that touch [start, end)."""
    base = _layers(row.id, row.revision, row.time_zone, row.layers)
    overrides = _overrides(session, row.id, start, end).get(row.id, ())
    return dataclasses.replace(base, overrides=overrides)


def on_call_users(session: Session, schedule_name: str, at: datetime) -> list[str]:
    """The names of the people on call on `schedule_name` at `at` (empty when nobody is);
    what an escalation step that targets a schedule pages. NotFound if no such schedule."""
    row = get_schedule(session, schedule_name)
    user = core.on_call_at(compiled(session, row, at, at + timedelta(microseconds=1)), at)
    return [user] if user is not None else []


@dataclass(frozen=True, slots=True)
class OnCall:
    schedule: str
    team: str | None
    at: datetime
    user: str | None
    until: datetime | None = None

    def view(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "team": self.team,
            "at": self.at,
            "user": self.user,
            "until": self.until,
        }


def who_is_on_call(session: Session, at: datetime) -> list[OnCall]:
    """Every schedule and who is on call on it at `at`, by schedule name."""
    rows = session.execute(
        select(Schedule.id, Schedule.name, Schedule.revision, Team.name)
        .outerjoin(Team, Team.id == Schedule.team_id)
        .order_by(Schedule.name)
    ).all()
    stale = [r[0] for r in rows if (_cache.get(r[0]) or ("",))[0] != r[2]]
    for i in range(0, len(stale), 500):
        for sid, revision, zone, layers in session.execute(
            select(Schedule.id, Schedule.revision, Schedule.time_zone, Schedule.layers).where(
                Schedule.id.in_(stale[i : i + 500])
            )
        ):
            _layers(sid, revision, zone, layers)
    overrides = _overrides(session, None, at, at + timedelta(microseconds=1))
    answers = []
    for sid, name, revision, team in rows:
        hit = _cache.get(sid)
        if hit is not None and hit[0] == revision:
            base = hit[1]
        else:  # evicted or replaced meanwhile by another request
            row = session.get_one(Schedule, sid)
            base = _layers(sid, row.revision, row.time_zone, row.layers)
        sched = dataclasses.replace(base, overrides=overrides.get(sid, ()))
        answers.append(OnCall(name, team, at, core.on_call_at(sched, at)))
    return answers


def on_call(session: Session, name: str, at: datetime) -> OnCall:
    """Who is on call on one schedule at `at`, and until when (within 90 days)."""
    row = get_schedule(session, name)
    horizon = at + UNTIL_HORIZON
    shifts = core.final_shifts(compiled(session, row, at, horizon), at, horizon)
    first = shifts[0] if shifts and shifts[0].start == at else None
    return OnCall(
        schedule=row.name,
        team=row.team.name if row.team else None,
        at=at,
        user=first.user if first else None,
        until=first.end if first and first.end < horizon else None,
    )


def final_shifts(session: Session, name: str, start: datetime, end: datetime) -> list[core.Shift]:
    check_range(start, end)
    row = get_schedule(session, name)
    return core.final_shifts(compiled(session, row, start, end), start, end)


def coverage_gaps(
    session: Session, name: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    check_range(start, end)
    row = get_schedule(session, name)
    return core.gaps(compiled(session, row, start, end), start, end)


@dataclass(frozen=True, slots=True)
class Timeline:
    """What the schedule page draws: each layer's own shifts, the overrides, the result."""

    start: datetime
    end: datetime
    layers: list[tuple[str, list[core.Shift]]]
    overrides: list[core.Shift]
    final: list[core.Shift]
    gaps: list[tuple[datetime, datetime]]


def timeline(session: Session, row: Schedule, start: datetime, end: datetime) -> Timeline:
    check_range(start, end, limit=timedelta(days=62))
    sched = compiled(session, row, start, end)
    final = core.final_shifts(sched, start, end)
    return Timeline(
        start=start,
        end=end,
        layers=[
            (layer.name, core.layer_shifts(layer, sched.time_zone, start, end))
            for layer in reversed(sched.layers)
        ],
        overrides=[
            core.Shift(
                o.user, max(o.start, start), min(o.end, end), core.OVERRIDE, o.after_the_fact
            )
            for o in sched.overrides
        ],
        final=final,
        gaps=core.gaps(sched, start, end),
    )


def user_shifts(
    session: Session, user: User, start: datetime, end: datetime
) -> list[tuple[str, core.Shift]]:
    """A person's final shifts on every schedule that names them or that they override."""
    ids = set(
        session.scalars(select(Schedule.id).where(Schedule.members.any(User.id == user.id))).all()
    ) | set(
        session.scalars(
            select(ScheduleOverride.schedule_id).where(
                ScheduleOverride.user_id == user.id,
                ScheduleOverride.ends_at > start,
                ScheduleOverride.starts_at < end,
            )
        ).all()
    )
    found = []
    for row in session.scalars(select(Schedule).where(Schedule.id.in_(ids))):
        for shift in core.final_shifts(compiled(session, row, start, end), start, end):
            if shift.user == user.name:
                found.append((row.name, shift))
    return sorted(found, key=lambda item: (item[1].start, item[0]))


def shift_view(s: core.Shift) -> dict[str, Any]:
    return {
        "user": s.user,
        "start": s.start,
        "end": s.end,
        "source": s.source,
        "enteredAfterTheFact": s.after_the_fact,
    }


# ---------------------------------------------------------------- overrides


def override_view(o: ScheduleOverride, schedule: str) -> dict[str, Any]:
    return {
        "id": o.id,
        "schedule": schedule,
        "user": o.user.name,
        "start": o.starts_at,
        "end": o.ends_at,
        "createdBy": o.created_by,
        "createdAt": o.created_at,
        "enteredAfterTheFact": o.after_the_fact,
    }


def _audit_view(o: ScheduleOverride, schedule: str) -> dict[str, Any]:
    view = override_view(o, schedule)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in view.items()}


def _require_responder(ctx: Ctx) -> None:
    if not ctx.principal.can(Role.RESPONDER):
        raise Forbidden("overrides need the responder role")


def add_override(ctx: Ctx, schedule_name: str, body: OverrideIn) -> ScheduleOverride:
    """Someone takes the schedule from start to end. Responders may override for anyone,
    as in PagerDuty: covering for a colleague is the everyday case. An override that
    starts in the past is entered after the fact: admins only, and marked."""
    _require_responder(ctx)
    row = get_schedule(ctx.session, schedule_name)
    user = ctx.session.scalar(select(User).where(User.name == body.user))
    if user is None:
        raise Invalid("unknown user", [FieldError("user", f"user {body.user!r} does not exist")])
    after_the_fact = body.start < ctx.now() - PAST_GRACE
    if after_the_fact and not ctx.principal.can(Role.ADMIN):
        raise WatchbillError(
            "an override that starts in the past rewrites who was on call: only admins "
            "record one (it is marked as entered after the fact)",
            status=403,
            title="Forbidden",
            errors=[FieldError("start", "must not be in the past (admins only)")],
        )
    override = ScheduleOverride(
        schedule_id=row.id,
        user=user,
        starts_at=body.start,
        ends_at=body.end,
        created_by=ctx.principal.label,
        created_at=ctx.now(),
        after_the_fact=after_the_fact,
    )
    ctx.session.add(override)
    ctx.session.flush()
    record(
        ctx,
        action="schedule.override.create",
        object_type="Schedule",
        object_id=row.name,
        after=_audit_view(override, row.name),
    )
    return override


def list_overrides(
    session: Session, schedule_name: str, start: datetime, end: datetime
) -> list[ScheduleOverride]:
    check_range(start, end)
    row = get_schedule(session, schedule_name)
    return list(
        session.scalars(
            select(ScheduleOverride)
            .where(
                ScheduleOverride.schedule_id == row.id,
                ScheduleOverride.ends_at > start,
                ScheduleOverride.starts_at < end,
            )
            .order_by(ScheduleOverride.starts_at, ScheduleOverride.id)
        )
    )


def delete_override(ctx: Ctx, schedule_name: str, override_id: int) -> None:
    _require_responder(ctx)
    row = get_schedule(ctx.session, schedule_name)
    override = ctx.session.scalar(
        select(ScheduleOverride).where(
            ScheduleOverride.id == override_id, ScheduleOverride.schedule_id == row.id
        )
    )
    if override is None:
        raise NotFound(f"schedule {schedule_name!r} has no override {override_id}")
    before = _audit_view(override, row.name)
    ctx.session.delete(override)
    ctx.session.flush()
    record(
        ctx,
        action="schedule.override.delete",
        object_type="Schedule",
        object_id=row.name,
        before=before,
    )
