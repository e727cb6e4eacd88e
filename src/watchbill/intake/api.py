"""Inbound endpoints: no user token, the integration key routes the event.

PagerDuty Events API v2 (`/v2/enqueue`, `/v2/change/enqueue`) answers exactly as
PagerDuty does; the Alertmanager, generic and heartbeat endpoints carry the key in the
URL. Every 2xx is sent after the commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from watchbill.core.ratelimit import RateLimiter
from watchbill.intake import alertmanager, generic, pagerduty
from watchbill.intake.events import EventError, may_need_scrub
from watchbill.intake.writer import IntakeWriter, Overloaded, Result, Submission
from watchbill.integrations.models import ALERTMANAGER, EVENTS_V2, GENERIC, HEARTBEAT

router = APIRouter(tags=["intake"])

JSON = "application/json"
INTAKE_TYPES_V2 = (EVENTS_V2,)


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status, media_type=JSON)


def _pd_invalid(errors: list[str], message: str = "Event object is invalid") -> Response:
    return _json(400, {"status": "invalid event", "message": message, "errors": errors})


def _writer(request: Request) -> IntakeWriter:
    writer: IntakeWriter = request.app.state.intake
    return writer


def _limiter(request: Request) -> RateLimiter | None:
    limiter: RateLimiter | None = request.app.state.intake_limiter
    return limiter


def _throttled(request: Request, key: str, cost: int) -> bool:
    limiter = _limiter(request)
    return limiter is not None and not limiter.allow(key, cost, time.monotonic())


async def _submit(request: Request, sub: Submission) -> Result | Response:
    """Hand to the writer and wait for the commit, or the answer that asks the sender to
    retry: 429 when the queue is full, 503 when the database could not take the batch
    (the writer logged why). Senders retry both, as PagerDuty's clients do."""
    try:
        future = _writer(request).submit(sub)
    except Overloaded:
        return _json(429, _BUSY)
    try:
        return await asyncio.wrap_future(future)
    except Exception:
        return _json(503, _UNAVAILABLE)


async def _parse(
    request: Request, limit: int, parse: Callable[[Any, bool], Any]
) -> tuple[Any, Response | None]:
    """Read, decode and parse; on failure, the PagerDuty-style 4xx to send instead."""
    try:
        body = await read_body(request, limit)
    except BodyTooLarge:
        return None, _json(
            413,
            {"status": "invalid event", "message": f"Request body is larger than {limit} bytes"},
        )
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return None, _pd_invalid([f"the body is not valid JSON: {exc}"], "Could not parse JSON")
    try:
        return parse(doc, may_need_scrub(body)), None
    except EventError as exc:
        return None, _pd_invalid(exc.errors, exc.message)


_THROTTLED = {
    "status": "throttle exceeded",
    "message": "Requests for this integration are arriving too quickly. Please retry later.",
}
_BUSY = {"status": "unavailable", "message": "Intake queue is full. Please retry later."}
_UNAVAILABLE = {
    "status": "unavailable",
    "message": "The event could not be stored. Nothing was accepted; please retry later.",
}


def _key_problem(result: Result) -> Response | None:
    if result.status == "unknown_key":
        return _pd_invalid(["'routing_key' is unknown or has been revoked"], "Invalid routing key")
    if result.status == "wrong_type":
        return _pd_invalid(
            [f"this key belongs to an integration of type {result.integration_type}"],
            "Wrong integration type for this endpoint",
        )
    return None


@router.post("/v2/enqueue", status_code=202, summary="PagerDuty Events API v2: alert event")
async def enqueue_event(request: Request) -> Response:
    def parse(doc: Any, dirty: bool) -> tuple[str, Any]:
        key = pagerduty.routing_key(doc)
        return key, pagerduty.parse_alert_event(doc, dirty)

    parsed, error = await _parse(request, pagerduty.MAX_BODY, parse)
    if error is not None:
        return error
    key, event = parsed
    if _throttled(request, key, 1):
        return _json(429, _THROTTLED)
    result = await _submit(request, Submission(key=key, types=INTAKE_TYPES_V2, events=[event]))
    if isinstance(result, Response):
        return result
    return _key_problem(result) or _json(
        202, {"status": "success", "message": "Event processed", "dedup_key": event.dedup_key}
    )


@router.post("/v2/change/enqueue", status_code=202, summary="PagerDuty Events API v2: change")
async def enqueue_change(request: Request) -> Response:
    def parse(doc: Any, dirty: bool) -> tuple[str, Any]:
        key = pagerduty.routing_key(doc)
        return key, pagerduty.parse_change_event(doc, dirty)

    parsed, error = await _parse(request, pagerduty.MAX_BODY, parse)
    if error is not None:
        return error
    key, change = parsed
    if _throttled(request, key, 1):
        return _json(429, _THROTTLED)
    result = await _submit(request, Submission(key=key, types=INTAKE_TYPES_V2, change=change))
    if isinstance(result, Response):
        return result
    return _key_problem(result) or _json(
        202, {"status": "success", "message": "Change event processed"}
    )


def _summary(result: Result) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for outcome in result.outcomes:
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    return {
        "status": "success",
        "service": result.service,
        "events": len(result.outcomes),
        "results": counts,
    }


async def _keyed(
    request: Request,
    key: str,
    types: tuple[str, ...],
    limit: int,
    parse: Callable[[Any, bool], Any],
) -> Response:
    events, error = await _parse(request, limit, parse)
    if error is not None:
        return error
    if _throttled(request, key, len(events)):
        return _json(429, _THROTTLED)
    result = await _submit(request, Submission(key=key, types=types, events=events))
    if isinstance(result, Response):
        return result
    return _key_problem(result) or _json(202, _summary(result))


@router.post(
    "/integrations/{key}/alertmanager",
    status_code=202,
    summary="Prometheus Alertmanager webhook (payload version 4)",
)
async def alertmanager_webhook(request: Request, key: str) -> Response:
    return await _keyed(
        request, key, (ALERTMANAGER,), alertmanager.MAX_BODY, alertmanager.parse_webhook
    )


@router.post(
    "/integrations/{key}/events",
    status_code=202,
    summary="Generic JSON events (one object or a list)",
)
async def generic_events(request: Request, key: str) -> Response:
    return await _keyed(request, key, (GENERIC,), pagerduty.MAX_BODY * 8, generic.parse_generic)


@router.post(
    "/integrations/{key}/heartbeat", status_code=202, summary="Heartbeat ping (dead man's switch)"
)
@router.get(
    "/integrations/{key}/heartbeat",
    status_code=202,
    summary="Heartbeat ping by GET, for cron jobs using curl or wget",
    operation_id="heartbeat_ping_get",
)
async def heartbeat_ping(request: Request, key: str) -> Response:
    if _throttled(request, key, 1):
        return _json(429, _THROTTLED)
    result = await _submit(request, Submission(key=key, types=(HEARTBEAT,), heartbeat=True))
    if isinstance(result, Response):
        return result
    return _key_problem(result) or _json(202, {"status": "success", "message": "Ping recorded"})


_KEYED = {
    "alertmanager": alertmanager_webhook,
    "events": generic_events,
    "heartbeat": heartbeat_ping,
}


class IntakeFastPath:
    """ASGI middleware that hands inbound events straight to their endpoint functions.

    Intake is the hottest path of the server and the simplest: a key in the path, a body,
    no token, no dependencies. FastAPI's router (matched route by route across every
    included router), exception and exit-stack middleware cost about a third of a small
    event's CPU time, so these paths skip them; every other request, and any intake path
    that does not fit, goes on to the application. The FastAPI routes above stay: they
    are what the OpenAPI document describes, and they serve the requests passed on.
    Installed inside HttpMetrics, which labels these requests by the same route templates.
    """

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        by_path = {getattr(r, "path", ""): r for r in routes}
        self.routes = {
            "/v2/enqueue": by_path["/v2/enqueue"],
            "/v2/change/enqueue": by_path["/v2/change/enqueue"],
            **{kind: by_path[f"/integrations/{{key}}/{kind}"] for kind in _KEYED},
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handled = await self._handle(scope, receive, send)
            if handled:
                return
        await self.app(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> bool:
        path, method = scope["path"], scope["method"]
        if method == "POST" and path == "/v2/enqueue":
            scope["route"] = self.routes[path]
            response = await enqueue_event(Request(scope, receive))
        elif method == "POST" and path == "/v2/change/enqueue":
            scope["route"] = self.routes[path]
            response = await enqueue_change(Request(scope, receive))
        else:
            parts = path.split("/")
            # "", "integrations", key, kind
            if len(parts) != 4 or parts[1] != "integrations" or not parts[2]:
                return False
            kind = parts[3]
            endpoint = _KEYED.get(kind)
            if endpoint is None or not (method == "POST" or (method, kind) == ("GET", "heartbeat")):
                return False
            scope["route"] = self.routes[kind]
            scope["path_params"] = {"key": parts[2]}
            response = await endpoint(Request(scope, receive), parts[2])
        await response(scope, receive, send)
        return True
