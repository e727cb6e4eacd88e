"""FastAPI dependencies: the database, the caller, and the transaction a route runs in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from watchbill.access import Principal, Role
from watchbill.adapters.db.engine import Database
from watchbill.adapters.db.migrate import Migrations
from watchbill.context import Ctx
from watchbill.core.clock import Clock
from watchbill.errors import Forbidden, Unauthorized
from watchbill.settings import Settings


class SignedInUser(Protocol):
    """A page session's user and its form token, as the identity provider found them."""

    user: Any
    csrf_token: str


class Identity(Protocol):
    """How callers are recognised: API tokens and page-session cookies. The web floor only
    asks; the `auth` slice answers (the composition root plugs it in)."""

    def principal_for_token(
        self, session: Session, secret: str, now: datetime, ip: str
    ) -> Principal | None: ...

    def touch_token(self, session: Session, secret: str, now: datetime) -> None: ...

    def session_for_cookie(
        self, session: Session, secret: str, now: datetime
    ) -> SignedInUser | None: ...


def _no_worker() -> None:
    """The default wake-up call: no worker in this process; others poll the queue."""


@dataclass
class Runtime:
    """What the app was built with; kept on app.state so tests can build their own."""

    db: Database
    settings: Settings
    clock: Clock
    identity: Identity
    migrations: Migrations
    wake_worker: Callable[[], None] = field(default=_no_worker)
    extensions: dict[str, list[Any]] = field(default_factory=dict)
    """What slices contributed to each extension point (see `watchbill.slice.Extension`)."""

    @contextmanager
    def write(self, principal: Principal) -> Iterator[Ctx]:
        """A unit of work committed before the route returns, so a 2xx means durable.

        (Not a yield-dependency: FastAPI may run those after the response is sent.)
        """
        with self.db.transaction() as session:
            yield Ctx(session, principal, self.clock)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


_BEARER = HTTPBearer(auto_error=False, description="an API token: `watchbill tokens create`")


def bearer_principal(
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Principal:
    """The caller of an API route, from `Authorization: Bearer <token>`."""
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
    secret = credentials.credentials.strip()
    now = rt.clock.now()
    with rt.db.read() as session:
        principal = rt.identity.principal_for_token(session, secret, now, client_ip(request))
    if principal is None:
        raise Unauthorized("the token is unknown, revoked or expired")
    with rt.db.transaction() as session:
        rt.identity.touch_token(session, secret, now)
    return principal


def require(role: Role) -> Callable[..., Principal]:
    """A dependency that admits callers holding at least `role`."""

    def check(principal: Annotated[Principal, Depends(bearer_principal)]) -> Principal:
        if not principal.can(role):
            raise Forbidden(f"this needs the {role} role; the token has {principal.role}")
        return principal

    return check


def read_ctx(
    rt: Annotated[Runtime, Depends(runtime)],
    principal: Annotated[Principal, Depends(require(Role.VIEWER))],
) -> Iterator[Ctx]:
    with rt.db.read() as session:
        yield Ctx(session, principal, rt.clock)


ReadCtx = Annotated[Ctx, Depends(read_ctx)]
