"""What every page shares: the templates and layout, the signed-in user, CSRF checks,
and errors rendered as pages. Slices render through `render`; the composition root
tells the layout where each slice's templates are and what the navigation holds."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy.orm import Session

from watchbill import __version__
from watchbill.access import Principal, Role
from watchbill.context import Ctx
from watchbill.errors import Forbidden, WatchbillError
from watchbill.slice import NavLink
from watchbill.web.deps import Runtime, client_ip, runtime
from watchbill.web.problems import domain_problem

SHARED_TEMPLATES = Path(__file__).parent / "templates"
TEMPLATES = Jinja2Templates(directory=SHARED_TEMPLATES)
TEMPLATES.env.globals.update(version=__version__, nav=[])
SESSION_COOKIE = "wb_session"


@dataclass(frozen=True, slots=True)
class NavSection:
    title: str
    links: list[NavLink]


def configure(template_dirs: Iterable[Path], nav: Iterable[NavLink]) -> None:
    """Called by the composition root: the slices' template folders (searched before the
    shared one) and the navigation, grouped by section in the order sections first appear."""
    TEMPLATES.env.loader = ChoiceLoader(
        [FileSystemLoader(str(d)) for d in template_dirs] + [FileSystemLoader(SHARED_TEMPLATES)]
    )
    sections: dict[str, list[NavLink]] = {}
    for link in nav:
        sections.setdefault(link.section, []).append(link)
    TEMPLATES.env.globals["nav"] = [NavSection(t, links) for t, links in sections.items()]


class LoginRequired(Exception):
    """Raised by the page guard; answered with a redirect to the login page."""


@dataclass
class PageUser:
    """The signed-in user of a page (the `users` row), and a read session for the page's
    queries."""

    user: Any
    csrf: str
    principal: Principal
    session: Session

    def ctx(self, rt: Runtime) -> Ctx:
        return Ctx(self.session, self.principal, rt.clock)


def secure_cookies(request: Request, rt: Runtime) -> bool:
    return request.url.scheme == "https" or rt.settings.base_url.startswith("https://")


def user_principal(user: Any, ip: str) -> Principal:
    return Principal(
        kind="user", name=user.name, role=Role(user.role), user_id=user.id, source_ip=ip
    )


def page_user(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Iterator[PageUser]:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise LoginRequired
    with rt.db.read() as session:
        web = rt.identity.session_for_cookie(session, secret, rt.clock.now())
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
