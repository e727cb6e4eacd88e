"""The tokens page: list, create (the secret shown once) and revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from watchbill.auth import service
from watchbill.auth.roles import ROLE_NAMES, Role
from watchbill.errors import WatchbillError
from watchbill.web.deps import Runtime, runtime
from watchbill.web.pages import CsrfField, PageUser, SignedIn, check_csrf, render

router = APIRouter(include_in_schema=False)


def _tokens_page(
    request: Request, pu: PageUser, *, created: str = "", error: str = "", status: int = 200
) -> Response:
    if not pu.principal.can(Role.ADMIN):
        return render(
            request, "error.html", pu, status=403, error="Managing API tokens needs the admin role."
        )
    with request.app.state.runtime.db.read() as session:  # fresh: sees this request's write
        tokens = [service.token_view(t) for t in service.list_tokens(session)]
    return render(
        request,
        "tokens.html",
        pu,
        tokens=tokens,
        roles=ROLE_NAMES,
        created=created,
        error=error,
        status=status,
    )


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, pu: SignedIn) -> Response:
    return _tokens_page(request, pu)


@router.post("/tokens", response_class=HTMLResponse)
def tokens_create(
    request: Request,
    pu: SignedIn,
    rt: Annotated[Runtime, Depends(runtime)],
    name: Annotated[str, Form(max_length=63)],
    role: Annotated[str, Form(max_length=16)],
    expires: Annotated[str, Form(max_length=32)] = "",
    csrf: CsrfField = "",
) -> Response:
    check_csrf(pu, csrf)
    try:
        if role not in ROLE_NAMES:
            raise WatchbillError(f"unknown role {role!r}", status=422)
        expires_at = datetime.fromisoformat(expires).replace(tzinfo=UTC) if expires else None
        with rt.write(pu.principal) as ctx:
            issued = service.create_token(ctx, name=name, role=Role(role), expires_at=expires_at)
            secret = issued.secret
    except ValueError:
        return _tokens_page(request, pu, error="Expiry must be a date and time.", status=422)
    except WatchbillError as exc:
        return _tokens_page(request, pu, error=str(exc), status=exc.status)
    return _tokens_page(request, pu, created=secret)


@router.post("/tokens/{name}/revoke", response_class=HTMLResponse)
def tokens_revoke(
    request: Request,
    pu: SignedIn,
    rt: Annotated[Runtime, Depends(runtime)],
    name: str,
    csrf: CsrfField = "",
) -> Response:
    check_csrf(pu, csrf)
    try:
        with rt.write(pu.principal) as ctx:
            service.revoke_token(ctx, name)
    except WatchbillError as exc:
        return _tokens_page(request, pu, error=str(exc), status=exc.status)
    return _tokens_page(request, pu)
