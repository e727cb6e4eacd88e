"""Routing-rule routes beyond the generic resource ones: the listing in evaluation order,
and POST /api/v1/routing-rules/test.

Mount this router before the generic resource routers: its GET listing takes the place
of the generic one (same parameters, same page shape, documented there) so that rules
are listed in the order they are tried rather than by name.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from watchbill.access import Principal, Role
from watchbill.context import Ctx
from watchbill.resources.api import Cursor, Limit
from watchbill.resources.schema import ShortText
from watchbill.routing import service
from watchbill.routing.resource import ROUTING_RULES
from watchbill.routing.schemas import RouteOutcome, SampleEvent
from watchbill.web.deps import ReadCtx, Runtime, require, runtime

router = APIRouter(prefix="/api/v1/routing-rules", tags=["routing-rules"])


@router.get("", include_in_schema=False)
def list_in_order(
    ctx: ReadCtx,
    q: Annotated[ShortText | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    rows, next_cursor = service.list_in_order(ctx, q=q, cursor=cursor, limit=limit)
    return {"items": [ROUTING_RULES.view(r) for r in rows], "nextCursor": next_cursor}


@router.post(
    "/test",
    response_model=RouteOutcome,
    summary="Which rule a sample event matches, what it sets, and whether anyone is paged",
)
def test_route(
    event: SampleEvent,
    principal: Annotated[Principal, Depends(require(Role.RESPONDER))],
    rt: Annotated[Runtime, Depends(runtime)],
) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.outcome_json(service.route_test(Ctx(session, principal, rt.clock), event))
