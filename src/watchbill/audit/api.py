"""Reading the audit log over the API (admins and owners)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from watchbill.access import Principal, Role
from watchbill.audit import chain
from watchbill.audit.models import AuditEvent
from watchbill.audit.service import list_events
from watchbill.errors import FieldError, Invalid
from watchbill.resources.api import Cursor, Limit
from watchbill.resources.schema import CamelModel
from watchbill.resources.service import decode_cursor, encode_cursor
from watchbill.web.deps import ReadCtx, require

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditOut(CamelModel):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source_ip: str


class AuditPage(CamelModel):
    items: list[AuditOut]
    next_cursor: str | None = None


def audit_view(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "objectType": e.object_type,
        "objectId": e.object_id,
        "before": e.before,
        "after": e.after,
        "sourceIp": e.source_ip,
    }


def cursor_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("invalid cursor", [FieldError("query.cursor", "not a cursor")])
    return value


@router.get("/audit", response_model=AuditPage, summary="The audit log, newest first")
def audit(
    ctx: ReadCtx,
    _admin: Annotated[Principal, Depends(require(Role.ADMIN))],
    limit: Limit = 50,
    cursor: Cursor = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=63)] = None,
    object_type: Annotated[str | None, Query(alias="objectType", max_length=63)] = None,
    object_id: Annotated[str | None, Query(alias="objectId", max_length=200)] = None,
) -> dict[str, Any]:
    rows = list_events(
        ctx,
        before_id=cursor_id(cursor),
        limit=limit + 1,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
    )
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return {"items": [audit_view(e) for e in rows[:limit]], "nextCursor": next_cursor}


class ChainHead(CamelModel):
    id: int
    hash: str


class ChainBreak(CamelModel):
    id: int
    reason: str


class ChainVerdict(CamelModel):
    intact: bool
    entries: int = Field(description="entries checked (up to and including the first bad one)")
    head: ChainHead | None = Field(description="the last good entry: record it elsewhere")
    first_bad: ChainBreak | None


@router.get(
    "/audit/verify",
    response_model=ChainVerdict,
    summary="Check that no audit entry was altered, inserted or removed",
    description="Walks the whole hash chain with the server key; takes time on a long log.",
)
def audit_verify(
    ctx: ReadCtx, _admin: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    return chain.verdict_view(chain.verify(ctx.session))
