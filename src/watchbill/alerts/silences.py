"""Silences, as in Alertmanager: label matchers, a start, an end, an author and a comment.

An alert whose labels (plus `service`) all match a silence's matchers while the silence
is active is still recorded, and its incident opened, but nobody is paged; the incident
says which silence is why. Expiring a silence ends it now; silences are never deleted,
so what was silenced when stays answerable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from sqlalchemy import Select, select

from watchbill.access import Role
from watchbill.alerts.models import Silence
from watchbill.audit.service import record
from watchbill.context import Ctx
from watchbill.core.matchers import MAX_PATTERN, Matcher, MatcherError, parse_matcher
from watchbill.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from watchbill.resources.schema import CamelModel
from watchbill.resources.service import decode_cursor, encode_cursor

ACTIVE, PENDING, EXPIRED = "active", "pending", "expired"
State = Literal["active", "pending", "expired"]
STATES: tuple[str, ...] = (ACTIVE, PENDING, EXPIRED)
WRITE_ROLE = Role.RESPONDER
MAX_ID = 2**31 - 1  # ids are 32-bit in PostgreSQL; larger numbers cannot exist


# ----------------------------------------------------------------- shared helpers


def window_state(starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    if ends_at <= now:
        return EXPIRED
    return PENDING if starts_at > now else ACTIVE


def where_state(stmt: Select[Any], model: Any, state: str | None, now: datetime) -> Select[Any]:
    if state == ACTIVE:
        return stmt.where(model.starts_at <= now, model.ends_at > now)
    if state == PENDING:
        return stmt.where(model.starts_at > now, model.ends_at > now)
    if state == EXPIRED:
        return stmt.where(model.ends_at <= now)
    return stmt


def parse_id(value: str | int, what: str) -> int:
    """A numeric id from a path or argument; anything else names nothing (404)."""
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not 0 < int(text) <= MAX_ID:
        raise NotFound(f"{what} {str(value)[:40]!r} does not exist")
    return int(text)


def cursor_id(cursor: str | None) -> int | None:
    """The id a descending listing continues below."""
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID + 1:
        raise Invalid("invalid cursor", [FieldError("query.cursor", "not a cursor")])
    return value


def page_by_id_desc(
    ctx: Ctx, stmt: Select[Any], model: Any, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    before = cursor_id(cursor)
    if before is not None:
        stmt = stmt.where(model.id < before)
    rows = list(ctx.session.scalars(stmt.order_by(model.id.desc()).limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].id)
    return rows, None


def check_window(
    starts_at: datetime | None, ends_at: datetime, now: datetime, *, past_start: bool
) -> tuple[datetime, datetime]:
    """The window to store; Invalid naming `startsAt`/`endsAt` when it makes no sense."""
    starts = starts_at or now
    if starts < now and not past_start:
        starts = now  # as Alertmanager does: a silence cannot act in the past
    if ends_at <= starts:
        raise Invalid(
            "the window ends before it starts", [FieldError("endsAt", "must be after startsAt")]
        )
    if ends_at <= now:
        raise Invalid("the window is already over", [FieldError("endsAt", "must be in the future")])
    return starts, ends_at


def require_writer(ctx: Ctx, what: str) -> None:
    if not ctx.principal.can(WRITE_ROLE):
        raise Forbidden(f"{what} needs the {WRITE_ROLE} role; you have {ctx.principal.role}")


# ----------------------------------------------------------------- schemas


def no_control(value: str) -> str:
    if any((ord(c) < 32 and c not in "\t\n\r") or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    return value


class MatcherSpec(CamelModel):
    """One matcher as Alertmanager's API writes it."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    value: Annotated[str, StringConstraints(max_length=MAX_PATTERN), AfterValidator(no_control)]
    is_regex: bool = False
    is_equal: bool = True

    @model_validator(mode="after")
    def _compiles(self) -> MatcherSpec:
        try:
            self.matcher()
        except MatcherError as exc:
            raise ValueError(str(exc)) from exc
        return self

    def matcher(self) -> Matcher:
        return Matcher(self.name, self.value, self.is_regex, self.is_equal)

    def __str__(self) -> str:
        return str(self.matcher())


def _from_text(value: Any) -> Any:
    """`name=value`, `name!=value`, `name=~regex`, `name!~regex` as a matcher object."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_PATTERN + 300:
        raise ValueError("matcher too long")
    try:
        m = parse_matcher(value)
    except MatcherError as exc:
        raise ValueError(str(exc)) from exc
    return {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}


MatcherInput = Annotated[
    MatcherSpec, BeforeValidator(_from_text, json_schema_input_type=MatcherSpec | str)
]
Comment = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(no_control),
]


class SilenceCreate(CamelModel):
    """A new silence; `createdBy` is the caller."""

    matchers: list[MatcherInput] = Field(
        min_length=1,
        max_length=64,
        description='objects {name, value, isRegex, isEqual} or strings like team="db"',
    )
    starts_at: AwareDatetime | None = Field(default=None, description="default: now")
    ends_at: AwareDatetime
    comment: Comment

    @field_validator("matchers")
    @classmethod
    def _not_everything(cls, matchers: list[MatcherSpec]) -> list[MatcherSpec]:
        # As Alertmanager: a silence whose every matcher matches the empty string would
        # silence every alert, including ones without these labels at all.
        if all(m.matcher().matches({}) for m in matchers):
            raise ValueError("at least one matcher must not match the empty string")
        return matchers


class SilenceOut(CamelModel):
    id: int
    matchers: list[MatcherSpec]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    state: State
    created_at: datetime
    updated_at: datetime


class SilencePage(CamelModel):
    items: list[SilenceOut]
    next_cursor: str | None = None


# ----------------------------------------------------------------- service


def view(s: Silence, now: datetime) -> dict[str, Any]:
    return {
        "id": s.id,
        "matchers": s.matchers,
        "startsAt": s.starts_at,
        "endsAt": s.ends_at,
        "createdBy": s.created_by,
        "comment": s.comment,
        "state": window_state(s.starts_at, s.ends_at, now),
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
    }


def _audit_view(s: Silence, now: datetime) -> dict[str, Any]:
    out = view(s, now)
    for key in ("startsAt", "endsAt", "createdAt", "updatedAt"):
        out[key] = out[key].isoformat()
    return out


def matchers_text(matchers: list[dict[str, Any]]) -> str:
    """`{team="db", alertname=~"Disk.*"}`, as amtool shows them."""
    return ", ".join(str(MatcherSpec.model_validate(m)) for m in matchers)


def create(ctx: Ctx, body: SilenceCreate) -> Silence:
    require_writer(ctx, "creating silences")
    now = ctx.now()
    starts, ends = check_window(body.starts_at, body.ends_at, now, past_start=False)
    silence = Silence(
        matchers=[m.model_dump(mode="json", by_alias=True) for m in body.matchers],
        starts_at=starts,
        ends_at=ends,
        created_by=ctx.principal.label,
        comment=body.comment,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(silence)
    ctx.session.flush()
    record(
        ctx,
        action="silence.create",
        object_type="Silence",
        object_id=str(silence.id),
        after=_audit_view(silence, now),
    )
    return silence


def get(ctx: Ctx, silence_id: str | int) -> Silence:
    found = ctx.session.get(Silence, parse_id(silence_id, "silence"))
    if found is None:
        raise NotFound(f"silence {silence_id!r} does not exist")
    return found


def list_page(
    ctx: Ctx, *, state: str | None = None, cursor: str | None = None, limit: int = 50
) -> tuple[list[Silence], str | None]:
    """Newest first, optionally only those in one state."""
    stmt = where_state(select(Silence), Silence, state, ctx.now())
    return page_by_id_desc(ctx, stmt, Silence, cursor, limit)


def expire(ctx: Ctx, silence_id: str | int) -> Silence:
    """End a silence now (a pending one never starts)."""
    require_writer(ctx, "expiring silences")
    silence = get(ctx, silence_id)
    now = ctx.now()
    state = window_state(silence.starts_at, silence.ends_at, now)
    if state == EXPIRED:
        raise Conflict(f"silence {silence.id} has already expired")
    before = _audit_view(silence, now)
    if state == PENDING:
        silence.starts_at = now
    silence.ends_at = now
    silence.updated_at = now
    ctx.session.flush()
    record(
        ctx,
        action="silence.expire",
        object_type="Silence",
        object_id=str(silence.id),
        before=before,
        after=_audit_view(silence, now),
    )
    return silence
