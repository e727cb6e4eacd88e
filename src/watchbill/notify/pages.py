"""The pages behind one-click links: GET confirms, POST acts as the linked user.

A GET never changes anything, because mail security scanners and chat unfurlers fetch
every link they see; the action needs the button press on the confirmation page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from watchbill.access import Principal, Role
from watchbill.adapters.serverkey import server_key
from watchbill.core.lifecycle import Status
from watchbill.errors import Conflict, Forbidden, NotFound, WatchbillError
from watchbill.incidents import service as incidents
from watchbill.incidents.models import Incident
from watchbill.notify.links import ActionClaim, LinkAction, verify
from watchbill.users.models import User
from watchbill.web.deps import Runtime, client_ip, runtime
from watchbill.web.layout import render

router = APIRouter(include_in_schema=False)
Rt = Annotated[Runtime, Depends(runtime)]
Token = Annotated[str, Path(max_length=1024)]
_DONE = {LinkAction.ACKNOWLEDGE: "acknowledged", LinkAction.RESOLVE: "resolved"}


def _claim(rt: Runtime, token: str) -> ActionClaim:
    return verify(server_key(rt.settings), token, rt.clock.now())


def _already(inc: Incident, action: LinkAction) -> str:
    """What makes the action moot, in words; empty when it still applies."""
    if inc.status == Status.RESOLVED:
        return f"Incident #{inc.id} is already resolved."
    if action == LinkAction.ACKNOWLEDGE and inc.status == Status.ACKNOWLEDGED:
        return f"Incident #{inc.id} is already acknowledged."
    return ""


def _page(request: Request, status: int = 200, **context: object) -> HTMLResponse:
    return render(request, "notify/act.html", None, status=status, **context)


def _problem(request: Request, exc: WatchbillError) -> HTMLResponse:
    return _page(request, exc.status, problem=str(exc))


@router.get("/act/{token}", response_class=HTMLResponse)
def confirm(request: Request, rt: Rt, token: Token) -> Response:
    try:
        claim = _claim(rt, token)
        with rt.db.read() as session:
            inc = session.get(Incident, claim.incident_id)
            if inc is None:
                raise NotFound(f"incident {claim.incident_id} no longer exists")
            return _page(
                request,
                claim=claim,
                inc=inc,
                token=token,
                already=_already(inc, claim.action),
                base_url=rt.settings.base_url,
            )
    except WatchbillError as exc:
        return _problem(request, exc)


@router.post("/act/{token}", response_class=HTMLResponse)
def act(request: Request, rt: Rt, token: Token) -> Response:
    """Acknowledge or resolve as the link's user: audited as `user:<name>` with the
    source recorded as `link <address>`."""
    try:
        claim = _claim(rt, token)
        with rt.db.read() as session:
            user = session.scalar(select(User).where(User.name == claim.user))
            if user is None or not user.active:
                raise Forbidden(f"user {claim.user!r} no longer exists or is deactivated")
            principal = Principal(
                kind="user",
                name=user.name,
                role=Role(user.role),
                user_id=user.id,
                source_ip=f"link {client_ip(request)}"[:64],
            )
        action = (
            incidents.acknowledge if claim.action == LinkAction.ACKNOWLEDGE else incidents.resolve
        )
        try:
            with rt.write(principal) as ctx:
                change = action(ctx, incident_id=claim.incident_id)
                inc = change.incident
                done = f"Incident #{inc.id} {_DONE[claim.action]} as {user.name}."
                outcome = done if change.changed else _already(inc, claim.action)
        except Conflict:
            with rt.db.read() as session:
                current = session.get(Incident, claim.incident_id)
                if current is None:
                    raise
                outcome = _already(current, claim.action)
            inc = current
        return _page(request, claim=claim, inc=inc, outcome=outcome, base_url=rt.settings.base_url)
    except WatchbillError as exc:
        return _problem(request, exc)
