"""On-call health over a period: load the shifts of every schedule, the pages that were
sent and the acknowledgements, hand them to the pure core, and name the people and teams.

Everything is read from tables that exist for other reasons (schedules, deliveries, the
audit log), so the figures need no bookkeeping of their own and cover the past as far
as those records go. Hours on call come from the schedules as they stand now: a layer
rewritten without a new start rewrites its past too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchbill.audit.models import AuditEvent
from watchbill.auth.models import ApiToken
from watchbill.catalog.models import Team, team_members
from watchbill.core import oncall_load as core
from watchbill.core import schedule as schedule_core
from watchbill.errors import FieldError, Invalid
from watchbill.notify.models import SENT, Delivery
from watchbill.schedules import service as schedules
from watchbill.schedules.models import Schedule
from watchbill.users.models import User
from watchbill.users.notification_rules import NotificationRulesSpec

DEFAULT_SPAN = timedelta(days=28)
# Pages and acknowledgements this long before the period are read only to time the
# acknowledgements inside it. A page's notifications span at most a day of rule delays,
# so two days also catch every notification of a page that began before the period.
LOOKBACK = timedelta(days=2)
ACKNOWLEDGE_ACTION = "incident.acknowledge"


@dataclass(frozen=True, slots=True)
class PersonRow:
    """A person's figures with what the report shows beside them."""

    full_name: str
    time_zone: str
    teams: tuple[str, ...]
    load: core.Load


@dataclass(frozen=True, slots=True)
class Report:
    start: datetime
    end: datetime
    team: str | None
    sleep_hours: core.DailyWindow
    weekly_limits: core.Limits
    limits: core.Limits
    people: list[PersonRow]
    teams: list[core.TeamLoad]


Span = tuple[str, datetime, datetime]


def shifts(session: Session, start: datetime, end: datetime) -> list[Span]:
    """Every final shift on every schedule inside [start, end), as (user, start, end)."""
    found = []
    for row in session.scalars(select(Schedule).order_by(Schedule.id)):
        sched = schedules.compiled(session, row, start, end)
        final = schedule_core.final_shifts(sched, start, end)
        found.extend((s.user, s.start, s.end) for s in final)
    return found


def pages(session: Session, start: datetime, end: datetime) -> list[core.Page]:
    """Pages first sent inside [start - LOOKBACK, end): the deliveries one escalation step
    queued for one person about one incident (one `page_user` call, so one creation
    instant) that were sent, at the moment the first of them went out."""
    first_sent = func.min(Delivery.sent_at)
    stmt = (
        select(Delivery.user_name, Delivery.incident_id, first_sent)
        .where(
            Delivery.status == SENT,
            Delivery.incident_id.is_not(None),
            # send_at <= sent_at: the bound lets the (status, send_at) index do the work
            Delivery.send_at >= start - LOOKBACK,
            Delivery.send_at < end,
            Delivery.sent_at >= start - LOOKBACK,
            Delivery.sent_at < end,
        )
        .group_by(Delivery.user_name, Delivery.incident_id, Delivery.created_at)
    )
    return [
        core.Page(user, incident, at)
        for user, incident, at in session.execute(stmt)
        if at is not None and incident is not None
    ]


def acknowledgements(
    session: Session, start: datetime, end: datetime
) -> list[core.Acknowledgement]:
    """Acknowledgements inside [start, end), from the audit log (indexed by action and
    time, and written with every acknowledgement). Who: `user:<name>` (pages, one-click
    links) is that person; `token:<name>` is the token's owner, if it has one."""
    rows = session.execute(
        select(AuditEvent.object_id, AuditEvent.at, AuditEvent.actor).where(
            AuditEvent.action == ACKNOWLEDGE_ACTION,
            AuditEvent.at >= start,
            AuditEvent.at < end,
        )
    ).all()
    tokens = {actor.removeprefix("token:") for _, _, actor in rows if actor.startswith("token:")}
    owners = {
        token: owner
        for token, owner in session.execute(
            select(ApiToken.name, User.name)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.name.in_(tokens))
        )
    }
    found = []
    for object_id, at, actor in rows:
        kind, _, name = actor.partition(":")
        who = name if kind == "user" else owners.get(name) if kind == "token" else None
        found.append(core.Acknowledgement(int(object_id), at, who))
    return found


def _team_members(session: Session, team: str | None) -> dict[str, list[str]]:
    """Each team's members by name (every team, or only `team`), teams in name order."""
    stmt = (
        select(Team.name, User.name)
        .outerjoin(team_members, team_members.c.team_id == Team.id)
        .outerjoin(User, User.id == team_members.c.user_id)
        .order_by(Team.name, User.name)
    )
    if team is not None:
        stmt = stmt.where(Team.name == team)
    members: dict[str, list[str]] = {}
    for team_name, user_name in session.execute(stmt):
        members.setdefault(team_name, [])
        if user_name is not None:
            members[team_name].append(user_name)
    return members


def team_names(session: Session) -> list[str]:
    return list(session.scalars(select(Team.name).order_by(Team.name)))


def _check_team(session: Session, team: str, loc: str) -> None:
    if session.scalar(select(Team.id).where(Team.name == team)) is None:
        raise Invalid("unknown team", [FieldError(loc, f"team {team!r} does not exist")])


def report(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    team: str | None = None,
    weekly_limits: core.Limits,
    sleep_hours: core.DailyWindow = core.SLEEP_HOURS,
    team_loc: str = "query.team",
) -> Report:
    """The figures of everyone who was on call, paged or acknowledged in [start, end) (or
    of every member of `team`), and of each team over its members."""
    schedules.check_range(start, end)
    if team is not None:
        _check_team(session, team, team_loc)
    all_shifts = shifts(session, start, end)
    all_pages = pages(session, start, end)
    acks = acknowledgements(session, start - LOOKBACK, end)
    members = _team_members(session, team)
    if team is not None:
        names = set(members.get(team, ()))
    else:
        names = {user for user, _, _ in all_shifts}
        names |= {p.user for p in all_pages if start <= p.at < end}
        names |= {a.user for a in acks if a.user is not None and start <= a.at < end}
    users = {u.name: u for u in session.scalars(select(User).where(User.name.in_(names)))}
    people = [_person(name, users.get(name)) for name in names]
    found = core.loads(
        people,
        all_shifts,
        all_pages,
        acks,
        start=start,
        end=end,
        weekly_limits=weekly_limits,
        sleep=sleep_hours,
    )
    teams_of: dict[str, list[str]] = defaultdict(list)
    for team_name, names_in in members.items():
        for name in names_in:
            teams_of[name].append(team_name)
    by_user = {load.user: load for load in found}
    return Report(
        start=start,
        end=end,
        team=team,
        sleep_hours=sleep_hours,
        weekly_limits=weekly_limits,
        limits=weekly_limits.for_period(start, end),
        people=[
            PersonRow(
                full_name=users[load.user].full_name if load.user in users else "",
                time_zone=users[load.user].time_zone if load.user in users else "UTC",
                teams=tuple(teams_of.get(load.user, ())),
                load=load,
            )
            for load in found
        ],
        teams=[core.team_load(name, names_in, by_user) for name, names_in in members.items()],
    )


def _person(name: str, user: User | None) -> core.Person:
    """A person as the core sees them; someone deleted since (known only by name from old
    deliveries) is read in UTC with the default working hours."""
    if user is None:
        return core.Person(name)
    rules = NotificationRulesSpec.model_validate(user.notification_rules or {}).to_core()
    return core.Person(name, user.time_zone, rules.working_hours)
