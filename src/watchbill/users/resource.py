"""Users as a catalog resource."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, select

from watchbill.access import Role
from watchbill.auth.service import withdraw_credentials
from watchbill.context import Ctx
from watchbill.errors import Conflict, FieldError, Forbidden, Invalid
from watchbill.escalation.references import refuse_if_paged
from watchbill.resources.base import FilterModel, Resource
from watchbill.resources.schema import ShortText
from watchbill.resources.service import text_match
from watchbill.schedules.models import Schedule, ScheduleOverride, schedule_members
from watchbill.users.models import ContactMethod, User
from watchbill.users.notification_rules import NotificationRulesSpec
from watchbill.users.schemas import ContactMethodSpec, UserSpec


class UserFilters(FilterModel):
    role: Role | None = None
    q: ShortText | None = None


class UserResource(Resource):
    kind = "User"
    plural = "users"
    model = User
    spec = UserSpec
    filters = UserFilters

    def to_spec(self, obj: User) -> UserSpec:
        return UserSpec(
            full_name=obj.full_name,
            email=obj.email,
            time_zone=obj.time_zone,
            role=Role(obj.role),
            active=obj.active,
            contact_methods=[
                ContactMethodSpec(label=c.label, type=c.type, address=c.address)
                for c in obj.contact_methods
            ],
            notification_rules=NotificationRulesSpec.model_validate(obj.notification_rules or {}),
        )

    def write_spec(self, ctx: Ctx, obj: User, spec: BaseModel) -> None:
        assert isinstance(spec, UserSpec)
        if spec.role == Role.OWNER and obj.role != Role.OWNER and not ctx.principal.can(Role.OWNER):
            raise Forbidden("only an owner can make someone an owner")
        if (
            obj.role == Role.OWNER
            and not ctx.principal.can(Role.OWNER)
            and self.spec_json(obj) != spec.model_dump(mode="json", by_alias=True)
        ):
            raise Forbidden("only an owner can change an owner")
        if obj.role == Role.OWNER and (spec.role != Role.OWNER or not spec.active):
            _keep_an_owner(ctx, obj)
        clash = ctx.session.scalar(
            select(User.name).where(func.lower(User.email) == spec.email.lower(), User.id != obj.id)
        )
        if clash is not None:
            raise Invalid("email already in use", [FieldError("email", f"already used by {clash}")])
        unknown = spec.notification_rules.unknown_labels({c.label for c in spec.contact_methods})
        if unknown:
            raise Invalid(
                "a notification rule names a contact method the user does not have",
                [FieldError(at, f"no contact method labelled {label!r}") for at, label in unknown],
            )
        if obj.active and not spec.active and obj.id is not None:
            withdraw_credentials(ctx, obj)
        obj.full_name = spec.full_name
        obj.email = spec.email
        obj.time_zone = spec.time_zone
        obj.role = spec.role.value
        obj.active = spec.active
        obj.notification_rules = spec.notification_rules.model_dump(mode="json", by_alias=True)
        wanted = [(c.label, c.type.value, c.address) for c in spec.contact_methods]
        current = [(c.label, c.type, c.address) for c in obj.contact_methods]
        if wanted != current:
            obj.contact_methods.clear()
            ctx.session.flush()
            obj.contact_methods.extend(
                ContactMethod(label=label, type=kind, address=address, position=i)
                for i, (label, kind, address) in enumerate(wanted)
            )

    def filter(self, stmt: Select[Any], filters: BaseModel) -> Select[Any]:
        assert isinstance(filters, UserFilters)
        if filters.role:
            stmt = stmt.where(User.role == filters.role.value)
        if filters.q:
            stmt = stmt.where(text_match(filters.q, User.name, User.full_name, User.email))
        return stmt

    def check_delete(self, ctx: Ctx, obj: User) -> None:
        if obj.role == Role.OWNER and not ctx.principal.can(Role.OWNER):
            raise Forbidden("only an owner can delete an owner")
        if obj.role == Role.OWNER:
            _keep_an_owner(ctx, obj)
        _not_on_call(ctx, obj)


def _not_on_call(ctx: Ctx, obj: User) -> None:
    """Refuse to delete someone a schedule or an escalation policy still names, or who
    holds an override that has not ended: silently dropping them would leave a gap
    nobody chose. Past overrides go with the user (the audit log keeps them)."""
    refuse_if_paged(ctx.session, "user", obj.name)
    schedules = ctx.session.scalars(
        select(Schedule.name)
        .join(schedule_members, schedule_members.c.schedule_id == Schedule.id)
        .where(schedule_members.c.user_id == obj.id)
        .order_by(Schedule.name)
    ).all()
    if schedules:
        raise Conflict(
            f"user {obj.name!r} is on schedules: {', '.join(schedules)}; "
            "take them off those layers first"
        )
    overrides = ctx.session.scalars(
        select(Schedule.name)
        .join(ScheduleOverride, ScheduleOverride.schedule_id == Schedule.id)
        .where(ScheduleOverride.user_id == obj.id, ScheduleOverride.ends_at > ctx.now())
        .distinct()
        .order_by(Schedule.name)
    ).all()
    if overrides:
        raise Conflict(
            f"user {obj.name!r} has current or future overrides on schedules: "
            f"{', '.join(overrides)}; delete those overrides first"
        )


def _keep_an_owner(ctx: Ctx, obj: User) -> None:
    others = ctx.session.scalar(
        select(func.count()).where(User.role == Role.OWNER.value, User.id != obj.id, User.active)
    )
    if not others:
        raise Conflict("this is the last owner; make someone else owner first")


USERS = UserResource()
