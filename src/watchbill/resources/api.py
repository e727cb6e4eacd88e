"""API routes for every resource kind, built from its description.

(No `from __future__ import annotations` here: FastAPI must see the real types of the
route signatures built inside `resource_router`.)
"""

from typing import Annotated, Any, Optional

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, create_model

from watchbill.access import Principal
from watchbill.errors import Conflict
from watchbill.resources import service
from watchbill.resources.base import Resource
from watchbill.resources.schema import NAME_PATTERN, Name
from watchbill.web.deps import ReadCtx, Runtime, require, runtime

Limit = Annotated[int, Query(ge=1, le=500, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=512, description="nextCursor of the last page")]
PathName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=63)]


def _create_model(res: Resource) -> type[BaseModel]:
    return create_model(f"{res.kind}Create", __base__=res.spec, name=(Name, ...))


def _patch_model(res: Resource) -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (Optional[field.annotation], None)  # noqa: UP045 - create_model needs a runtime type
        for name, field in res.spec.model_fields.items()
    }
    return create_model(f"{res.kind}Patch", __base__=res.spec.__base__, **fields)


def _out_model(res: Resource) -> type[BaseModel]:
    return create_model(
        f"{res.kind}",
        __base__=res.spec,
        name=(str, ...),
        created_at=(str, ...),
        updated_at=(str, ...),
    )


def resource_router(res: Resource) -> APIRouter:
    """GET list, POST, and GET/PUT/PATCH/DELETE by name under /api/v1/<plural>."""
    router = APIRouter(prefix=f"/api/v1/{res.plural}", tags=[res.plural])
    Spec = res.spec
    Create = _create_model(res)
    Patch = _patch_model(res)
    Out = _out_model(res)
    Filters = res.filters
    writer = Depends(require(res.write_role))

    class OutPage(BaseModel):
        items: list[Out]  # type: ignore[valid-type]
        nextCursor: str | None = None

    OutPage.__name__ = f"{res.kind}Page"

    @router.get("", response_model=OutPage, summary=f"List {res.plural}")
    def list_items(
        ctx: ReadCtx,
        filters: Annotated[Filters, Query()],  # type: ignore[valid-type]
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        rows, next_cursor = service.list_page(ctx, res, filters=filters, cursor=cursor, limit=limit)
        return {"items": [res.view(r) for r in rows], "nextCursor": next_cursor}

    @router.post("", status_code=201, response_model=Out, summary=f"Create a {res.kind}")
    def create_item(
        body: Create,  # type: ignore[valid-type]
        principal: Annotated[Principal, writer],
        rt: Annotated[Runtime, Depends(runtime)],
    ) -> dict[str, Any]:
        data = body.model_dump(exclude={"name"})  # type: ignore[attr-defined]
        with rt.write(principal) as ctx:
            if service.find(ctx, res, body.name) is not None:  # type: ignore[attr-defined]
                raise Conflict(f"{res.kind} {body.name!r} already exists")  # type: ignore[attr-defined]
            outcome = service.put(ctx, res, body.name, Spec.model_validate(data))  # type: ignore[attr-defined]
            return res.view(outcome.obj)

    @router.get("/{name}", response_model=Out, summary=f"Get a {res.kind}")
    def get_item(ctx: ReadCtx, name: PathName) -> dict[str, Any]:
        return res.view(service.get(ctx, res, name))

    @router.put("/{name}", response_model=Out, summary=f"Create or replace a {res.kind}")
    def put_item(
        name: PathName,
        body: Spec,  # type: ignore[valid-type]
        principal: Annotated[Principal, writer],
        rt: Annotated[Runtime, Depends(runtime)],
        response: Response,
    ) -> dict[str, Any]:
        with rt.write(principal) as ctx:
            outcome = service.put(ctx, res, name, body)
            if outcome.action == "created":
                response.status_code = 201
            return res.view(outcome.obj)

    @router.patch("/{name}", response_model=Out, summary=f"Change some fields of a {res.kind}")
    def patch_item(
        name: PathName,
        body: Annotated[Patch, Body()],  # type: ignore[valid-type]
        principal: Annotated[Principal, writer],
        rt: Annotated[Runtime, Depends(runtime)],
    ) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True, by_alias=True, mode="json")  # type: ignore[attr-defined]
        with rt.write(principal) as ctx:
            return res.view(service.patch(ctx, res, name, changes).obj)

    @router.delete("/{name}", status_code=204, summary=f"Delete a {res.kind}")
    def delete_item(
        name: PathName,
        principal: Annotated[Principal, writer],
        rt: Annotated[Runtime, Depends(runtime)],
    ) -> Response:
        with rt.write(principal) as ctx:
            service.delete(ctx, res, name)
        return Response(status_code=204)

    return router
