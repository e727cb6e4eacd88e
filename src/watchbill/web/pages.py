"""Server-rendered pages: the layout, login, first-run setup, and the page-session guard."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from math import ceil
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchbill import __version__
from watchbill.audit.service import record
from watchbill.auth import service as auth
from watchbill.auth import throttle
from watchbill.auth.credentials import hash_password
from watchbill.auth.principal import Principal
from watchbill.auth.roles import Role
from watchbill.catalog.models import Service, Team
from watchbill.context import Ctx
from watchbill.errors import Forbidden, WatchbillError
from watchbill.resources import service as resources
from watchbill.users.models import User
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec
from watchbill.web.deps import Runtime, client_ip, runtime
from watchbill.web.problems import domain_problem

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
SESSION_COOKIE = "wb_session"
LOGIN_CSRF_COOKIE = "wb_login_csrf"

NAV: list[tuple[str, str]] = [
    ("Incidents", "/incidents"),
    ("Alerts", "/alerts"),
    ("Silences", "/silences"),
    ("Maintenance", "/maintenance"),
    ("On-call", "/oncall"),
    ("Services", "/services"),
    ("Teams", "/teams"),
    ("People", "/users"),
    ("Changes", "/changes"),
    ("SLOs", "/slos"),
    ("Status page", "/components"),
    ("Cost", "/cost"),
    ("Compliance", "/compliance"),
    ("Reports", "/reports"),
    ("Audit", "/audit"),
    ("Tokens", "/tokens"),
]
TEMPLATES.env.globals.update(version=__version__, nav=NAV)

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """Raised by the page guard; answered with a redirect to the login page."""


@dataclass
class PageUser:
    """The signed-in user of a page, and a read session for the page's queries."""

    user: User
    csrf: str
    principal: Principal
    session: Session

    def ctx(self, rt: Runtime) -> Ctx:
        return Ctx(self.session, self.principal, rt.clock)


def _secure(request: Request, rt: Runtime) -> bool:
    return request.url.scheme == "https" or rt.settings.base_url.startswith("https://")


def user_principal(user: User, ip: str) -> Principal:
    return Principal(
        kind="user", name=user.name, role=Role(user.role), user_id=user.id, source_ip=ip
    )


def page_user(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Iterator[PageUser]:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise LoginRequired
    with rt.db.read() as session:
        web = auth.session_for_cookie(session, secret, rt.clock.now())
        if web is None:
            raise LoginRequired
        yield PageUser(
            user=web.user,
            csrf=web.csrf_token,
            principal=user_principal(web.user, client_ip(request)),
            session=session,
        )


SignedIn = Annotated[PageUser, Depends(page_user)]
CsrfField = Annotated[str, Form(max_length=200)]


def check_csrf(pu: PageUser, token: str) -> None:
    """Synchronizer-token check for every state-changing form."""
    if not token or not secrets.compare_digest(token, pu.csrf):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page")


def render(
    request: Request, template: str, pu: PageUser | None, *, status: int = 200, **context: Any
) -> HTMLResponse:
    base = {
        "me": pu.user if pu else None,
        "csrf": pu.csrf if pu else "",
        "role": pu.principal.role if pu else None,
        "path": request.url.path,
    }
    return TEMPLATES.TemplateResponse(request, template, {**base, **context}, status_code=status)


def install(app: FastAPI) -> None:
    """Page errors render as pages; API errors stay problem+json."""

    @app.exception_handler(WatchbillError)
    async def _domain(request: Request, exc: WatchbillError) -> Response:
        path = request.url.path
        if path.startswith(("/api/", "/v2/")) or "text/html" not in request.headers.get(
            "accept", ""
        ):
            return await domain_problem(request, exc)
        return render(request, "error.html", None, status=exc.status, error=str(exc))

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = f"/login?next={quote(target)}"
        if request.headers.get("hx-request") == "true":
            # An HTMX refresh must send the whole page to the login, not swap the login
            # form into a table.
            return Response(status_code=204, headers={"HX-Redirect": login})
        return RedirectResponse(login, status_code=303)


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
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request, rt)
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
        account = auth.account_key(session, username)
        wait = throttle.wait_needed(session, rt.settings, account=account, address=ip, now=now)
        user = None if wait else auth.check_password(session, username, password)
    if wait is not None:
        minutes = max(1, round(wait.total_seconds() / 60))
        error = f"Too many failed sign-ins; try again in {minutes} minute(s)."
        resp = _login_page(request, rt, next, error, 429)
        resp.headers["Retry-After"] = str(ceil(wait.total_seconds()))
        return resp
    with rt.db.transaction() as session:
        started = (
            None if user is None else auth.start_session(session, user.id, now=now, ttl=ttl, ip=ip)
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
        secure=_secure(request, rt),
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
        auth.logout(session, request.cookies.get(SESSION_COOKIE, ""))
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
        if not auth.redeem_setup_link(session, token, now):
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


AREAS = {
    "changes": "Deployments, change requests, approval gates and freeze windows.",
    "slos": "SLOs, error budgets and burn-rate alerts.",
    "cost": "Cost per service and team from FOCUS billing exports.",
    "compliance": "SOC 2 and ISO 27001 operations controls with evidence from the records.",
    "reports": "The weekly operations review and the executive briefing.",
}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, pu: SignedIn) -> Response:
    counts = {
        "services": pu.session.scalar(select(func.count()).select_from(Service)),
        "teams": pu.session.scalar(select(func.count()).select_from(Team)),
        "people": pu.session.scalar(select(func.count()).select_from(User)),
    }
    return render(request, "home.html", pu, counts=counts)


def _area_page(area: str, blurb: str) -> None:
    @router.get(f"/{area}", response_class=HTMLResponse, name=f"area_{area}")
    def page(request: Request, pu: SignedIn) -> Response:
        return render(request, "area.html", pu, area=area, blurb=blurb)


for _area, _blurb in AREAS.items():
    _area_page(_area, _blurb)
