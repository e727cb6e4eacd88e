"""How the intake joins the web application: its fast path in front of the router, the
writer thread that group-commits events, and the per-key rate limiter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from fastapi import FastAPI

from watchbill.core.ratelimit import RateLimiter
from watchbill.intake.api import IntakeFastPath, router
from watchbill.intake.writer import IntakeWriter
from watchbill.web.deps import Runtime


@contextmanager
def _running(writer: IntakeWriter) -> Iterator[None]:
    writer.start()
    try:
        yield
    finally:
        writer.stop()


def install(app: FastAPI, rt: Runtime) -> Callable[[], AbstractContextManager[None]]:
    settings = rt.settings
    writer = IntakeWriter(
        rt.db, rt.clock, max_queue=settings.intake_queue, wake_worker=lambda: rt.wake_worker()
    )
    app.state.intake = writer
    app.state.intake_limiter = (
        RateLimiter(settings.intake_rate_per_key, settings.intake_burst_per_key)
        if settings.intake_rate_per_key
        else None
    )
    app.add_middleware(IntakeFastPath, routes=router.routes)
    return lambda: _running(writer)
