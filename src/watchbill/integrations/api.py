"""Listing integrations with their keys and URLs, and rotating keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from watchbill.access import Principal, Role
from watchbill.integrations import service
from watchbill.resources.api import PathName
from watchbill.resources.schema import CamelModel
from watchbill.web.deps import ReadCtx, Runtime, require, runtime

router = APIRouter(prefix="/api/v1", tags=["integrations"])


class IntegrationOut(CamelModel):
    service: str
    name: str
    type: str
    key: str
    url: str
    interval_seconds: int | None
    last_event_at: str | None


@router.get(
    "/integrations",
    response_model=list[IntegrationOut],
    summary="Integrations with their keys and the URL each sender posts to",
)
def list_integrations(
    ctx: ReadCtx,
    rt: Annotated[Runtime, Depends(runtime)],
    service_name: Annotated[str | None, Query(alias="service", max_length=63)] = None,
) -> list[dict[str, Any]]:
    return [v.as_json() for v in service.list_views(ctx, rt.settings.base_url, service_name)]


@router.post(
    "/services/{name}/integrations/{integration}/rotate",
    response_model=IntegrationOut,
    summary="Give an integration a new key; the old key stops working at once",
)
def rotate(
    name: PathName,
    integration: PathName,
    principal: Annotated[Principal, Depends(require(Role.ADMIN))],
    rt: Annotated[Runtime, Depends(runtime)],
) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        service.rotate(ctx, name, integration)
        views = service.list_views(ctx, rt.settings.base_url, name)
    return next(v.as_json() for v in views if v.name == integration)
