"""/api/v1/incidents: list and read (viewers), act on incidents (responders and above)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from watchbill.access import Principal, Role
from watchbill.incidents import service
from watchbill.incidents.schemas import (
    AlertPage,
    AssignIn,
    IncidentDetail,
    IncidentOut,
    IncidentPage,
    IncidentPatch,
    MergeIn,
    NoteIn,
    SplitIn,
    TimelineEventOut,
    TimelinePage,
    parse_filters,
)
from watchbill.resources.api import Cursor, Limit
from watchbill.web.deps import ReadCtx, Runtime, require, runtime

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1, description="the incident's number")]
Responder = Annotated[Principal, Depends(require(Role.RESPONDER))]
Rt = Annotated[Runtime, Depends(runtime)]
Many = Annotated[
    list[str] | None,
    Query(description="repeat the parameter or separate values with commas"),
]
Short = Annotated[str | None, Query(max_length=200)]


@router.get("", response_model=IncidentPage, summary="List incidents, newest first")
def list_incidents(
    ctx: ReadCtx,
    status: Many = None,
    service_name: Annotated[str | None, Query(alias="service", max_length=63)] = None,
    severity: Many = None,
    urgency: Short = None,
    assignee: Annotated[str | None, Query(max_length=63)] = None,
    suppressed: Annotated[
        bool | None, Query(description="true: only suppressed; false: only paged")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the title")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    filters = parse_filters(
        status=status,
        service=service_name,
        severity=severity,
        urgency=urgency,
        assignee=assignee,
        suppressed=suppressed,
        q=q,
    )
    rows, next_cursor = service.list_incidents(ctx, filters=filters, cursor=cursor, limit=limit)
    return {"items": service.incident_views(ctx, rows), "nextCursor": next_cursor}


@router.get(
    "/{incident_id}",
    response_model=IncidentDetail,
    summary="One incident with the first pages of its timeline and alerts",
)
def get_incident(ctx: ReadCtx, incident_id: Id) -> dict[str, Any]:
    return service.detail_view(ctx, incident_id=incident_id)


@router.get(
    "/{incident_id}/timeline", response_model=TimelinePage, summary="Timeline, oldest first"
)
def get_timeline(
    ctx: ReadCtx,
    incident_id: Id,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    rows, next_cursor = service.timeline(ctx, incident_id=incident_id, cursor=cursor, limit=limit)
    return {"items": [service.event_view(e) for e in rows], "nextCursor": next_cursor}


@router.get("/{incident_id}/alerts", response_model=AlertPage, summary="Alerts, newest first")
def get_alerts(
    ctx: ReadCtx, incident_id: Id, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    rows, next_cursor = service.alerts(ctx, incident_id=incident_id, cursor=cursor, limit=limit)
    return {"items": service.alert_views(ctx, rows), "nextCursor": next_cursor}


@router.patch(
    "/{incident_id}",
    response_model=IncidentOut,
    summary="Change title, severity, priority (null clears) or urgency",
)
def patch_incident(
    incident_id: Id, body: IncidentPatch, principal: Responder, rt: Rt
) -> dict[str, Any]:
    changes = body.model_dump(include=body.model_fields_set)
    with rt.write(principal) as ctx:
        change = service.edit(ctx, incident_id=incident_id, changes=changes)
        return service.incident_view(ctx, change.incident)


def _status_route(name: str, action: Any, summary: str) -> None:
    @router.post(
        f"/{{incident_id}}/{name}",
        response_model=IncidentOut,
        summary=summary,
        name=f"{name}_incident",
    )
    def act(incident_id: Id, principal: Responder, rt: Rt) -> dict[str, Any]:
        with rt.write(principal) as ctx:
            change = action(ctx, incident_id=incident_id)
            return service.incident_view(ctx, change.incident)


_status_route(
    "acknowledge", service.acknowledge, "Acknowledge (a repeat is a no-op; resolved: 409)"
)
_status_route("resolve", service.resolve, "Resolve (a repeat is a no-op)")
_status_route("reopen", service.reopen, "Reopen a resolved incident (triggered again)")


@router.post(
    "/{incident_id}/notes",
    status_code=201,
    response_model=TimelineEventOut,
    summary="Add a note to the timeline",
)
def add_note(incident_id: Id, body: NoteIn, principal: Responder, rt: Rt) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        event = service.add_note(ctx, incident_id=incident_id, text=body.text)
        return service.event_view(event)


@router.post(
    "/{incident_id}/assign",
    response_model=IncidentOut,
    summary="Add and remove assignees by user name",
)
def assign(incident_id: Id, body: AssignIn, principal: Responder, rt: Rt) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        change = service.assign(ctx, incident_id=incident_id, add=body.add, remove=body.remove)
        return service.incident_view(ctx, change.incident)


@router.post(
    "/{incident_id}/merge",
    response_model=IncidentOut,
    summary="Merge other incidents into this one (their alerts move here; they resolve)",
)
def merge(incident_id: Id, body: MergeIn, principal: Responder, rt: Rt) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        target = service.merge(ctx, target_id=incident_id, source_ids=body.sources)
        return service.incident_view(ctx, target)


@router.post(
    "/{incident_id}/split",
    status_code=201,
    response_model=IncidentOut,
    summary="Move some of this incident's alerts to a new incident",
)
def split(incident_id: Id, body: SplitIn, principal: Responder, rt: Rt) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        new = service.split(
            ctx, incident_id=incident_id, alert_ids=body.alert_ids, title=body.title
        )
        return service.incident_view(ctx, new)
