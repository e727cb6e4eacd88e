"""Prometheus metrics about Watchbill itself: HTTP traffic and the job queue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchbill.jobs.queue import depth
from watchbill.web.deps import Runtime

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpMetrics:
    """A plain ASGI middleware (no BaseHTTPMiddleware overhead) counting requests by route."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "watchbill_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "watchbill_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=BUCKETS,
            registry=registry,
        )
        # The labelled children by (method, route, status), looked up once: `labels()`
        # converts, validates and locks on every call (about 6 us each, twice a request).
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def _observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, str(status))
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(*key), self.latency.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self._observe(scope["method"], template, status[0], time.perf_counter() - start)


class JobQueueCollector(Collector):
    """Job queue depth, read from the database at scrape time (so every process agrees)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def describe(self) -> Iterator[Any]:
        yield self._family()

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily("watchbill_jobs", "Jobs by state", labels=["state"])

    def collect(self) -> Iterator[Any]:
        gauge = self._family()
        with self.rt.db.read() as session:
            for state, count in depth(session, self.rt.clock.now()).items():
                gauge.add_metric([state], count)
        yield gauge
