"""RFC 9457 problem details for every error the API returns, with field-level detail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from watchbill.errors import FieldError, WatchbillError

PROBLEM_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
}


def problem(
    status: int,
    detail: str,
    *,
    instance: str = "",
    title: str | None = None,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_TYPE)


def field_problem(loc: str, msg: str) -> dict[str, Any]:
    """One field error: a JSON pointer into the body, or the name of a parameter."""
    parts = loc.split(".")
    if parts[0] in ("query", "path", "header", "cookie"):
        return {"parameter": ".".join(parts[1:]) or parts[0], "in": parts[0], "detail": msg}
    if parts[0] == "body":
        parts = parts[1:]
    pointer = "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)
    return {"pointer": pointer, "detail": msg}


def _from_field_errors(errors: Sequence[FieldError]) -> list[dict[str, Any]]:
    return [field_problem(e.loc, e.msg) for e in errors]


def _validation_errors(exc: RequestValidationError) -> tuple[int, str, list[dict[str, Any]]]:
    errs = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errs):
        return 400, "the body is not valid JSON", []
    fields = []
    for e in errs:
        loc = ".".join(str(p) for p in e.get("loc", ()))
        fields.append(field_problem(loc, str(e.get("msg", "invalid"))))
    return 422, "validation failed", fields


async def domain_problem(request: Request, exc: WatchbillError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem(
        exc.status,
        exc.detail,
        title=exc.title,
        instance=request.url.path,
        errors=_from_field_errors(exc.errors),
        headers=headers,
    )


def install(app: FastAPI) -> None:
    """Route every error through problem+json; nothing leaks as an HTML or text error."""

    app.add_exception_handler(WatchbillError, domain_problem)  # type: ignore[arg-type]

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> Response:
        # A deadlock or lock timeout between concurrent writers: nothing was committed,
        # and the same request will go through when retried.
        return problem(
            503,
            "the database is busy; nothing was changed, retry shortly",
            title="Service unavailable",
            instance=request.url.path,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        # A race between two writers that validation could not see: the loser gets 409.
        return problem(
            409,
            "the change conflicts with existing data; reload and retry",
            instance=request.url.path,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> Response:
        # A value validation let through but the database cannot hold (an id beyond the
        # integer column, a NUL byte in text): bad input, so a 422 and never a 500.
        return problem(
            422,
            "a value the database cannot hold: out of range, or a NUL character",
            instance=request.url.path,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        status, detail, fields = _validation_errors(exc)
        return problem(status, detail, instance=request.url.path, errors=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return problem(
            exc.status_code,
            str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
        )
