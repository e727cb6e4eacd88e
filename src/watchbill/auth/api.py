"""API routes for tokens and for the caller's own identity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, Field

from watchbill.access import Principal, Role
from watchbill.auth import service
from watchbill.resources.api import PathName
from watchbill.resources.schema import CamelModel, Name
from watchbill.users.models import User
from watchbill.web.deps import ReadCtx, Runtime, require, runtime

router = APIRouter(prefix="/api/v1", tags=["auth"])


class TokenCreate(CamelModel):
    name: Name
    role: Role
    expires_at: AwareDatetime | None = Field(default=None, description="RFC 3339, with offset")


class TokenOut(CamelModel):
    name: str
    prefix: str
    role: str = Field(description="the most it may do; a user's token never exceeds its user")
    user: str | None = Field(description="the user it belongs to; null: a service account")
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="the secret: shown this once, never stored")


class Me(CamelModel):
    kind: str
    name: str
    role: str = Field(description="what the token may do now: the lesser of its and its user's")
    user: str | None = Field(description="the user it belongs to; null: a service account")


@router.get("/me", response_model=Me, summary="Who the token belongs to")
def me(ctx: ReadCtx) -> dict[str, Any]:
    principal = ctx.principal
    user = ctx.session.get(User, principal.user_id) if principal.user_id is not None else None
    return {
        "kind": principal.kind,
        "name": principal.name,
        "role": principal.role.value,
        "user": user.name if user is not None else None,
    }


@router.get("/tokens", response_model=list[TokenOut], summary="List API tokens (never secrets)")
def list_tokens(
    ctx: ReadCtx, _admin: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> list[dict[str, Any]]:
    return [service.token_view(t) for t in service.list_tokens(ctx.session)]


@router.post("/tokens", status_code=201, response_model=TokenCreated, summary="Create a token")
def create_token(
    body: TokenCreate,
    principal: Annotated[Principal, Depends(require(Role.ADMIN))],
    rt: Annotated[Runtime, Depends(runtime)],
) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        issued = service.create_token(
            ctx, name=body.name, role=body.role, expires_at=body.expires_at
        )
        return {**service.token_view(issued.token), "token": issued.secret}


@router.post("/tokens/{name}/revoke", response_model=TokenOut, summary="Revoke a token")
def revoke_token(
    name: PathName,
    principal: Annotated[Principal, Depends(require(Role.ADMIN))],
    rt: Annotated[Runtime, Depends(runtime)],
) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        return service.token_view(service.revoke_token(ctx, name))
