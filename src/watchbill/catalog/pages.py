"""Catalog pages: services, teams, people, status-page components and escalation policies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from watchbill.catalog.models import Service
from watchbill.catalog.resources import COMPONENTS, SERVICES, TEAMS
from watchbill.errors import WatchbillError
from watchbill.escalation.resource import ESCALATION_POLICIES
from watchbill.integrations import service as integrations
from watchbill.resources import service
from watchbill.resources.base import Resource
from watchbill.users.resource import USERS
from watchbill.web.layout import SignedIn, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _list_page(res: Resource) -> None:
    @router.get(f"/{res.plural}", response_class=HTMLResponse, name=f"{res.plural}_list")
    def listing(
        request: Request,
        pu: SignedIn,
        q: Annotated[str, Query(max_length=200)] = "",
        cursor: Annotated[str | None, Query(max_length=512)] = None,
    ) -> Response:
        try:
            filters = res.filters.model_validate({"q": q or None})
            rows, next_cursor = service.list_page(
                pu.ctx(request.app.state.runtime),
                res,
                filters=filters,
                cursor=cursor,
                limit=PAGE_SIZE,
            )
        except WatchbillError as exc:
            return render(request, "error.html", pu, status=exc.status, error=str(exc))
        items = [{"name": r.name, **res.spec_json(r)} for r in rows]
        partial = request.headers.get("hx-request") == "true"
        template = f"catalog/{res.plural}_rows.html" if partial else f"catalog/{res.plural}.html"
        return render(request, template, pu, items=items, q=q, next_cursor=next_cursor, res=res)


def _detail_page(res: Resource, extra: Any = None) -> None:
    @router.get(f"/{res.plural}/{{name}}", response_class=HTMLResponse, name=f"{res.plural}_detail")
    def detail(request: Request, pu: SignedIn, name: str) -> Response:
        obj = service.find(pu.ctx(request.app.state.runtime), res, name)
        if obj is None:
            return render(
                request, "error.html", pu, status=404, error=f"{res.kind} {name!r} does not exist"
            )
        more = extra(pu, obj, request.app.state.runtime) if extra else {}
        return render(
            request,
            f"catalog/{res.kind.lower()}.html",
            pu,
            item={"name": obj.name, **res.spec_json(obj)},
            res=res,
            obj=obj,
            **more,
        )


def _service_extra(pu: Any, obj: Service, rt: Any) -> dict[str, Any]:
    dependents = pu.session.scalars(
        select(Service.name)
        .where(Service.dependencies.any(Service.id == obj.id))
        .order_by(Service.name)
    ).all()
    views = integrations.list_views(pu.ctx(rt), rt.settings.base_url, obj.name)
    return {"dependents": dependents, "integrations": [v.as_json() for v in views]}


def _team_extra(pu: Any, obj: Any, _rt: Any) -> dict[str, Any]:
    owned = pu.session.scalars(
        select(Service.name).where(Service.owner_team_id == obj.id).order_by(Service.name)
    ).all()
    return {"owned": owned}


def _policy_extra(pu: Any, obj: Any, _rt: Any) -> dict[str, Any]:
    services = pu.session.scalars(
        select(Service.name).where(Service.escalation_policy == obj.name).order_by(Service.name)
    ).all()
    return {"services": services}


for _res in (SERVICES, TEAMS, USERS, COMPONENTS, ESCALATION_POLICIES):
    _list_page(_res)
_detail_page(SERVICES, _service_extra)
_detail_page(TEAMS, _team_extra)
_detail_page(USERS)
_detail_page(COMPONENTS)
_detail_page(ESCALATION_POLICIES, _policy_extra)
