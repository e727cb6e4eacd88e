"""Incident pages: the list (filters, live refresh) and the detail (timeline, alerts, actions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from watchbill.access import Role
from watchbill.catalog.models import Service
from watchbill.errors import FieldError, Invalid, NotFound, WatchbillError
from watchbill.incidents import service
from watchbill.incidents.panels import panels
from watchbill.incidents.schemas import (
    PRIORITY_VALUES,
    SEVERITY_VALUES,
    STATUS_VALUES,
    IncidentPatch,
    NoteIn,
    parse_filters,
)
from watchbill.notify import service as notify
from watchbill.resources.service import invalid_from
from watchbill.web.deps import Runtime, runtime
from watchbill.web.layout import CsrfField, PageUser, SignedIn, check_csrf, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
TIMELINE_PAGE = 200
ALERTS_PAGE = 50
Rt = Annotated[Runtime, Depends(runtime)]
Short = Annotated[str, Query(max_length=200)]


def _incident_id(raw: str) -> int:
    """A path segment as an incident number; anything else is simply not found."""
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise NotFound(f"incident {raw[:40]!r} does not exist")
    return int(raw)


def _error(request: Request, pu: PageUser, exc: WatchbillError) -> Response:
    return render(request, "error.html", pu, status=exc.status, error=str(exc))


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request,
    pu: SignedIn,
    status: Annotated[list[str] | None, Query()] = None,
    service_name: Annotated[str, Query(alias="service", max_length=63)] = "",
    severity: Annotated[list[str] | None, Query()] = None,
    urgency: Short = "",
    assignee: Annotated[str, Query(max_length=63)] = "",
    suppressed: Annotated[str, Query(max_length=5)] = "",
    q: Short = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Open incidents by default; the table refreshes itself every 5 s (HTMX)."""
    if status is None and "f" not in request.query_params:
        status = ["triggered", "acknowledged"]  # the default view: what is open now
    ctx = pu.ctx(request.app.state.runtime)
    try:
        if suppressed not in ("", "yes", "no"):
            raise Invalid(
                "invalid filter", [FieldError("query.suppressed", "use yes, no or nothing")]
            )
        filters = parse_filters(
            status=status,
            service=service_name,
            severity=severity,
            urgency=urgency,
            assignee=assignee,
            suppressed={"yes": True, "no": False}.get(suppressed),
            q=q,
        )
        rows, next_cursor = service.list_incidents(
            ctx, filters=filters, cursor=cursor, limit=PAGE_SIZE
        )
    except WatchbillError as exc:
        return _error(request, pu, exc)
    query = {
        "f": "1",  # marks a chosen filter set (no status boxes ticked means any status)
        "status": filters.statuses,
        "service": service_name,
        "severity": filters.severities,
        "urgency": urgency,
        "assignee": assignee,
        "suppressed": suppressed,
        "q": q,
    }
    kept = urlencode({k: v for k, v in query.items() if v}, doseq=True)
    items = service.incident_views(ctx, rows)
    partial = request.headers.get("hx-request") == "true"
    if partial:
        return render(request, "incidents/_rows.html", pu, items=items)
    services = list(pu.session.scalars(select(Service.name).order_by(Service.name).limit(1000)))
    return render(
        request,
        "incidents/list.html",
        pu,
        items=items,
        counts=service.open_counts(ctx),
        filters=filters,
        query=kept,
        refresh=cursor is None,
        next_cursor=next_cursor,
        services=services,
        service_name=service_name,
        urgency=urgency,
        assignee=assignee,
        suppressed=suppressed,
        q=q,
        statuses=STATUS_VALUES,
        severities=SEVERITY_VALUES,
    )


@router.get("/incidents/{raw_id}", response_class=HTMLResponse)
def incident_page(
    request: Request,
    pu: SignedIn,
    raw_id: str,
    before: Annotated[int | None, Query(ge=1)] = None,
    alerts_cursor: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    ctx = pu.ctx(request.app.state.runtime)
    try:
        incident_id = _incident_id(raw_id)
        inc = service.get(ctx, incident_id=incident_id)
        events, earlier = service.timeline_tail(
            ctx, incident_id=inc.id, before=before, limit=TIMELINE_PAGE
        )
        alert_rows, alerts_next = service.alerts(
            ctx, incident_id=inc.id, cursor=alerts_cursor, limit=ALERTS_PAGE
        )
    except WatchbillError as exc:
        return _error(request, pu, exc)
    return render(
        request,
        "incidents/detail.html",
        pu,
        inc=service.incident_view(ctx, inc),
        merged_from=service.merged_from(ctx, inc.id),
        firing=service.firing_count(ctx, inc.id),
        events=[service.event_view(e) for e in events],
        earlier=earlier,
        newer=before is not None,
        alerts=service.alert_views(ctx, alert_rows),
        alerts_next=alerts_next,
        alerts_paged=alerts_cursor is not None,
        deliveries=notify.delivery_views(
            pu.session, notify.incident_deliveries(pu.session, inc.id)
        ),
        can_act=pu.principal.can(Role.RESPONDER),
        panels=panels(pu, request.app.state.runtime, inc),
        severities=SEVERITY_VALUES,
        priorities=PRIORITY_VALUES,
        error=error,
    )


def _act(
    request: Request,
    pu: PageUser,
    rt: Runtime,
    raw_id: str,
    csrf: str,
    do: Callable[[Any, int], Any],
    anchor: str = "",
) -> Response:
    """Run one change as the signed-in user and go back to the incident."""
    check_csrf(pu, csrf)
    try:
        incident_id = _incident_id(raw_id)
        with rt.write(pu.principal) as ctx:
            do(ctx, incident_id)
    except WatchbillError as exc:
        return _error(request, pu, exc)
    return RedirectResponse(f"/incidents/{incident_id}{anchor}", status_code=303)


def _status_page(name: str, action: Callable[..., Any]) -> None:
    @router.post(f"/incidents/{{raw_id}}/{name}", name=f"incident_{name}")
    def act(request: Request, pu: SignedIn, rt: Rt, raw_id: str, csrf: CsrfField = "") -> Response:
        return _act(request, pu, rt, raw_id, csrf, lambda ctx, i: action(ctx, incident_id=i))


_status_page("acknowledge", service.acknowledge)
_status_page("resolve", service.resolve)
_status_page("reopen", service.reopen)


@router.post("/incidents/{raw_id}/notes")
def note_submit(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    raw_id: str,
    text: Annotated[str, Form(max_length=8000)] = "",
    csrf: CsrfField = "",
) -> Response:
    def do(ctx: Any, incident_id: int) -> None:
        try:
            body = NoteIn(text=text)
        except ValidationError as exc:
            raise invalid_from(exc) from exc
        service.add_note(ctx, incident_id=incident_id, text=body.text)

    return _act(request, pu, rt, raw_id, csrf, do, "#timeline-end")


@router.post("/incidents/{raw_id}/edit")
def edit_submit(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    raw_id: str,
    severity: Annotated[str, Form(max_length=8)] = "",
    priority: Annotated[str, Form(max_length=8)] = "",
    urgency: Annotated[str, Form(max_length=8)] = "",
    csrf: CsrfField = "",
) -> Response:
    def do(ctx: Any, incident_id: int) -> None:
        try:
            body = IncidentPatch.model_validate(
                {"severity": severity, "priority": priority or None, "urgency": urgency}
            )
        except ValidationError as exc:
            raise invalid_from(exc) from exc
        service.edit(ctx, incident_id=incident_id, changes=body.model_dump(exclude={"title"}))

    return _act(request, pu, rt, raw_id, csrf, do)


@router.post("/incidents/{raw_id}/assign")
def assign_submit(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    raw_id: str,
    user: Annotated[str, Form(max_length=63)] = "",
    remove: Annotated[str, Form(max_length=63)] = "",
    csrf: CsrfField = "",
) -> Response:
    def do(ctx: Any, incident_id: int) -> None:
        add = [user.strip()] if user.strip() else []
        gone = [remove] if remove else []
        if not add and not gone:
            raise Invalid("give a user name to assign", [FieldError("user", "required")])
        service.assign(ctx, incident_id=incident_id, add=add, remove=gone)

    return _act(request, pu, rt, raw_id, csrf, do)


@router.post("/incidents/{raw_id}/merge")
def merge_submit(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    raw_id: str,
    sources: Annotated[str, Form(max_length=1000)] = "",
    csrf: CsrfField = "",
) -> Response:
    def do(ctx: Any, incident_id: int) -> None:
        parts = [p.strip().lstrip("#") for p in sources.replace(",", " ").split()]
        if not parts or not all(p.isdigit() and len(p) <= 18 for p in parts):
            raise Invalid(
                "list incident numbers to merge into this one",
                [FieldError("sources", "numbers separated by commas or spaces")],
            )
        service.merge(ctx, target_id=incident_id, source_ids=[int(p) for p in parts])

    return _act(request, pu, rt, raw_id, csrf, do)
