"""The audit log page (admins and owners)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from watchbill.access import Role
from watchbill.audit import chain
from watchbill.audit.api import audit_view, cursor_id
from watchbill.audit.service import list_events
from watchbill.errors import WatchbillError
from watchbill.resources.service import encode_cursor
from watchbill.web.layout import PageUser, SignedIn, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


def _admins_only(request: Request, pu: PageUser) -> Response | None:
    if pu.principal.can(Role.ADMIN):
        return None
    return render(
        request,
        "error.html",
        pu,
        status=403,
        error="The audit log is visible to admins and owners.",
    )


@router.get("/audit/verify", response_class=HTMLResponse)
def audit_verify_page(request: Request, pu: SignedIn) -> Response:
    refused = _admins_only(request, pu)
    if refused is not None:
        return refused
    verdict = chain.verdict_view(chain.verify(pu.session))
    return render(request, "audit_verify.html", pu, verdict=verdict)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    pu: SignedIn,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    actor: Annotated[str, Query(max_length=200)] = "",
    object_type: Annotated[str, Query(max_length=63)] = "",
) -> Response:
    refused = _admins_only(request, pu)
    if refused is not None:
        return refused
    try:
        rows = list_events(
            pu.ctx(request.app.state.runtime),
            before_id=cursor_id(cursor),
            limit=PAGE_SIZE + 1,
            actor=actor or None,
            object_type=object_type or None,
        )
    except WatchbillError as exc:
        return render(request, "error.html", pu, status=exc.status, error=str(exc))
    next_cursor = encode_cursor(rows[PAGE_SIZE - 1].id) if len(rows) > PAGE_SIZE else None
    return render(
        request,
        "audit.html",
        pu,
        events=[audit_view(e) for e in rows[:PAGE_SIZE]],
        next_cursor=next_cursor,
        actor=actor,
        object_type=object_type,
    )
