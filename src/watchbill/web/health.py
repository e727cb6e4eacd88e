"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from watchbill.access import Principal, Role
from watchbill.web.deps import Runtime, require, runtime

router = APIRouter(tags=["health"])


async def healthz(_request: Request) -> Response:
    """Liveness: the process is up and answering.

    A plain Starlette route rather than a FastAPI one: load balancers and orchestrators
    call it every few seconds each, and FastAPI's per-request dependency and response
    machinery (nothing this endpoint uses) was about two thirds of its cost. It is not
    listed in the OpenAPI document (docs/api.md describes it).
    """
    return Response(b'{"status":"ok"}', media_type="application/json")


class _LabelledRoute(Route):
    """A plain route that names itself in scope["route"], as FastAPI does only for its own
    routes, so that HttpMetrics labels it by its path instead of "unmatched"."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self
        await super().handle(scope, receive, send)


liveness = _LabelledRoute("/healthz", healthz, methods=["GET"], include_in_schema=False)
"""Mounted first on the application itself by create_app (FastAPI rebuilds the plain
routes of an included router, which would lose the label)."""


@router.get("/readyz", summary="The database is reachable and migrated")
def readyz(rt: Annotated[Runtime, Depends(runtime)]) -> JSONResponse:
    try:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = rt.migrations.current(rt.db.engine)
    except SQLAlchemyError as exc:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__},
            status_code=503,
        )
    head = rt.migrations.heads()
    if current != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "not migrated",
                "current": current,
                "head": head,
                "fix": "run: watchbill db upgrade",
            },
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": rt.db.dialect, "revision": current})


@router.get("/metrics", summary="Prometheus exposition (needs a viewer token)")
def metrics(
    request: Request, _viewer: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
