"""Sign-in and sign-out, the first owner's setup form, and the tokens page (list, create
with the secret shown once, revoke)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from math import ceil
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from watchbill.access import ROLE_NAMES, Principal, Role
from watchbill.audit.service import record
from watchbill.auth import service, throttle
from watchbill.auth.credentials import hash_password
from watchbill.context import Ctx
from watchbill.errors import WatchbillError
from watchbill.resources import service as resources
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec
from watchbill.web.deps import Runtime, client_ip, runtime
from watchbill.web.layout import (
    SESSION_COOKIE,
    CsrfField,
    PageUser,
    SignedIn,
    check_csrf,
    render,
    secure_cookies,
    user_principal,
)

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "wb_login_csrf"


def safe_next(target: str) -> str:
    """Only same-site paths, so the login page cannot be used as an open redirect."""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(c.isspace() or ord(c) < 32 for c in target)
    ):
        return target
    return "/"


def _login_page(request: Request, rt: Runtime, next_: str, error: str, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    resp = render(
        request,
        "login.html",
        None,
        next=safe_next(next_),
        login_csrf=token,
        error=error,
        status=status,
    )
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request, rt),
    )
    return resp


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, rt: Annotated[Runtime, Depends(runtime)], next: str = "/"
) -> Response:
    return _login_page(request, rt, next, "", 200)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: CsrfField = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf):
        return _login_page(request, rt, next, "The login form expired; please try again.", 403)
    ttl = timedelta(hours=rt.settings.session_hours)
    ip = client_ip(request)
    now = rt.clock.now()
    # Reads and the password check (scrypt, tens of milliseconds) outside the write
    # transaction, which then only writes: SQLite's write lock is not held meanwhile.
    with rt.db.read() as session:
        account = service.account_key(session, username)
        wait = throttle.wait_needed(session, rt.settings, account=account, address=ip, now=now)
        user = None if wait else service.check_password(session, username, password)
    if wait is not None:
        minutes = max(1, round(wait.total_seconds() / 60))
        error = f"Too many failed sign-ins; try again in {minutes} minute(s)."
        resp = _login_page(request, rt, next, error, 429)
        resp.headers["Retry-After"] = str(ceil(wait.total_seconds()))
        return resp
    with rt.db.transaction() as session:
        started = (
            None
            if user is None
            else service.start_session(session, user.id, now=now, ttl=ttl, ip=ip)
        )
        if started is None:
            throttle.note_failure(session, rt.settings, account=account, address=ip, now=now)
        else:
            throttle.note_success(session, account=account)
            ctx = Ctx(session, user_principal(started[1].user, ip), rt.clock)
            record(ctx, action="session.login", object_type="User", object_id=account)
    if started is None:
        return _login_page(request, rt, next, "Wrong name or password.", 401)
    resp = RedirectResponse(safe_next(next), status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        started[0],
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request, rt),
        max_age=int(ttl.total_seconds()),
    )
    resp.delete_cookie(LOGIN_CSRF_COOKIE)
    return resp


@router.post("/logout")
def logout(
    request: Request, rt: Annotated[Runtime, Depends(runtime)], pu: SignedIn, csrf: CsrfField = ""
) -> Response:
    check_csrf(pu, csrf)
    with rt.db.transaction() as session:
        service.logout(session, request.cookies.get(SESSION_COOKIE, ""))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/setup", response_class=HTMLResponse)
def setup_form(request: Request, token: str = "") -> Response:
    return render(request, "setup.html", None, token=token, error="")


@router.post("/setup", response_class=HTMLResponse)
def setup_submit(
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    token: Annotated[str, Form(max_length=200)],
    name: Annotated[str, Form(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")],
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(min_length=12, max_length=1024)],
    time_zone: Annotated[str, Form(max_length=64)] = "UTC",
) -> Response:
    """Create the first owner with a one-time link printed by `watchbill serve`."""
    try:
        spec = UserSpec(email=email, time_zone=time_zone, role=Role.OWNER)
    except ValidationError as exc:
        msg = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return render(request, "setup.html", None, token=token, error=msg, status=422)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        if not service.redeem_setup_link(session, token, now):
            return render(
                request,
                "setup.html",
                None,
                token="",
                status=403,
                error="This setup link is used, expired or unknown, or an owner "
                "already exists. Run `watchbill users create` on the server.",
            )
        ctx = Ctx(session, Principal("setup", name, Role.OWNER, None, client_ip(request)), rt.clock)
        user = resources.put(ctx, USERS, name, spec).obj
        user.password_hash = hash_password(password)
    return RedirectResponse("/login", status_code=303)


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
