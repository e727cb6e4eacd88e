"""Generic operations on named objects; every mutation is checked for role and audited."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, or_, select

from watchbill.audit.service import record
from watchbill.context import Ctx
from watchbill.errors import FieldError, Forbidden, Invalid, NotFound
from watchbill.resources.base import Resource


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a put did: `created`, `updated` or `unchanged`, with the specs either side."""

    obj: Any
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def encode_cursor(value: str | int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": value})).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return orjson.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise Invalid("invalid cursor", [FieldError("query.cursor", "not a cursor")]) from exc


def text_match(q: str, *columns: Any) -> Any:
    """Case-insensitive substring match on any of `columns`; `%` and `_` are literal."""
    needle = q.lower()
    return or_(*(func.lower(c).contains(needle, autoescape=True) for c in columns))


def _require_write(ctx: Ctx, res: Resource) -> None:
    if not ctx.principal.can(res.write_role):
        raise Forbidden(f"changing {res.plural} needs the {res.write_role} role")


def find(ctx: Ctx, res: Resource, name: str) -> Any | None:
    return ctx.session.scalar(select(res.model).where(res.model.name == name))


def get(ctx: Ctx, res: Resource, name: str) -> Any:
    obj = find(ctx, res, name)
    if obj is None:
        raise NotFound(f"{res.kind} {name!r} does not exist")
    return obj


def list_page(
    ctx: Ctx, res: Resource, *, filters: BaseModel, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """One page ordered by name, and the cursor for the next page (None at the end)."""
    stmt = select(res.model).order_by(res.model.name).limit(limit + 1)
    if cursor:
        after = decode_cursor(cursor)
        if not isinstance(after, str):
            raise Invalid("invalid cursor", [FieldError("query.cursor", "not a cursor")])
        stmt = stmt.where(res.model.name > after)
    rows = list(ctx.session.scalars(res.filter(stmt, filters)))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].name)
    return rows, None


def put(ctx: Ctx, res: Resource, name: str, spec: BaseModel, *, fresh: bool = False) -> Outcome:
    """Create or replace `name` with `spec`: idempotent, so apply and PUT can be retried.

    `fresh` marks a row created bare moments ago in this transaction (see apply), so
    the change is reported and audited as a creation.
    """
    _require_write(ctx, res)
    obj = find(ctx, res, name)
    before = res.spec_json(obj) if obj is not None and not fresh else None
    if obj is None:
        obj = res.model(name=name, created_at=ctx.now(), updated_at=ctx.now())
    with ctx.session.no_autoflush:  # a half-set row must not be flushed by a lookup
        res.write_spec(ctx, obj, spec)
    ctx.session.add(obj)
    ctx.session.flush()
    after = res.spec_json(obj)
    if before == after:
        return Outcome(obj, "unchanged", before, after)
    obj.updated_at = ctx.now()
    action = "created" if before is None else "updated"
    record(
        ctx,
        action=f"{res.kind.lower()}.{'create' if before is None else 'update'}",
        object_type=res.kind,
        object_id=name,
        before=before,
        after=after,
    )
    return Outcome(obj, action, before, after)


def patch(ctx: Ctx, res: Resource, name: str, changes: dict[str, Any]) -> Outcome:
    """Change only the fields given, validating the merged spec as a whole."""
    obj = get(ctx, res, name)
    merged = {**res.spec_json(obj), **changes}
    try:
        spec = res.spec.model_validate(merged)
    except ValidationError as exc:
        raise invalid_from(exc, prefix="body") from exc
    return put(ctx, res, name, spec)


def delete(ctx: Ctx, res: Resource, name: str) -> None:
    _require_write(ctx, res)
    obj = get(ctx, res, name)
    res.check_delete(ctx, obj)
    before = res.spec_json(obj)
    ctx.session.delete(obj)
    ctx.session.flush()
    record(
        ctx,
        action=f"{res.kind.lower()}.delete",
        object_type=res.kind,
        object_id=name,
        before=before,
    )


def invalid_from(exc: ValidationError, *, prefix: str = "") -> Invalid:
    """A pydantic error as an Invalid naming every bad field by its path."""
    errors = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        errors.append(FieldError(loc or "(root)", err["msg"]))
    return Invalid("validation failed", errors)
