"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from watchbill.adapters.db.migrate import current_revision, head_revision
from watchbill.auth.principal import Principal
from watchbill.auth.roles import Role
from watchbill.web.deps import Runtime, require, runtime

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get("/readyz", summary="The database is reachable and migrated")
def readyz(rt: Annotated[Runtime, Depends(runtime)]) -> JSONResponse:
    try:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(rt.db.engine)
    except SQLAlchemyError as exc:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__},
            status_code=503,
        )
    head = head_revision()
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
