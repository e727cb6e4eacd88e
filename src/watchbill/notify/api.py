"""Notification API: an incident's delivery log, test notifications, webhook secrets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from watchbill.access import Principal, Role
from watchbill.incidents.api import Id
from watchbill.notify import delivery, service
from watchbill.notify.schemas import DeliveryList, NotifyTestIn, SigningSecretOut
from watchbill.resources.api import PathName
from watchbill.web.deps import ReadCtx, Runtime, require, runtime

router = APIRouter(prefix="/api/v1", tags=["notifications"])
Rt = Annotated[Runtime, Depends(runtime)]


@router.get(
    "/incidents/{incident_id}/notifications",
    response_model=DeliveryList,
    summary="The incident's delivery log: every notification and each attempt",
)
def incident_notifications(ctx: ReadCtx, incident_id: Id) -> dict[str, Any]:
    rows = service.incident_deliveries(ctx.session, incident_id)
    return {"items": service.delivery_views(ctx.session, rows)}


@router.post(
    "/users/{name}/notify-test",
    response_model=DeliveryList,
    summary="Send a test notification now to one or every contact method (admin)",
)
def notify_test(
    name: PathName,
    principal: Annotated[Principal, Depends(require(Role.VIEWER))],
    rt: Rt,
    body: Annotated[NotifyTestIn | None, Body()] = None,
) -> dict[str, Any]:
    items = delivery.send_test(
        rt.db,
        rt.clock,
        rt.settings,
        principal,
        user_name=name,
        contact_method=body.contact_method if body else None,
    )
    return {"items": items}


@router.get(
    "/users/{name}/contact-methods/{label}/signing-secret",
    response_model=SigningSecretOut,
    summary="The secret a webhook contact method's receiver verifies signatures with (admin)",
)
def signing_secret(
    name: PathName,
    label: PathName,
    principal: Annotated[Principal, Depends(require(Role.ADMIN))],
    ctx: ReadCtx,
    rt: Rt,
) -> dict[str, Any]:
    secret = delivery.signing_secret(ctx.session, rt.settings, user_name=name, label=label)
    return {"user": name, "contactMethod": label, "secret": secret}
