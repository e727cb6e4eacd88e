"""create_app(): mounts every domain's API routes and pages on one FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from watchbill import __version__
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.alerts import api as alerts_api
from watchbill.alerts import pages as alerts_pages
from watchbill.audit import api as audit_api
from watchbill.audit import pages as audit_pages
from watchbill.audit.chain import session_info
from watchbill.auth import api as auth_api
from watchbill.auth import pages as auth_pages
from watchbill.catalog import pages as catalog_pages
from watchbill.core.clock import Clock
from watchbill.core.ratelimit import RateLimiter
from watchbill.incidents import api as incidents_api
from watchbill.incidents import pages as incidents_pages
from watchbill.intake import api as intake_api
from watchbill.intake.writer import IntakeWriter
from watchbill.integrations import api as integrations_api
from watchbill.jobs.builtin import ensure_recurring
from watchbill.jobs.worker import Worker
from watchbill.kinds import KINDS
from watchbill.notify import api as notify_api
from watchbill.notify import pages as notify_pages
from watchbill.notify.secret import server_key
from watchbill.oncall_health import api as oncall_health_api
from watchbill.oncall_health import pages as oncall_health_pages
from watchbill.resources.api import resource_router
from watchbill.routing import api as routing_api
from watchbill.schedules import api as schedules_api
from watchbill.schedules import pages as schedules_pages
from watchbill.settings import Settings, get_settings
from watchbill.web import health, problems
from watchbill.web import pages as web_pages
from watchbill.web.deps import Runtime
from watchbill.web.headers import SecurityHeaders
from watchbill.web.metrics import HttpMetrics, JobQueueCollector

STATIC = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Clock = system_clock,
    run_worker: bool | None = None,
) -> FastAPI:
    """The whole application; tests pass their own database and clock."""
    settings = settings or get_settings()
    key = server_key(settings)  # made at first start, so every later process finds it
    db = db or Database(
        settings.resolved_database_url, pool_size=settings.db_pool_size, info=session_info(key)
    )
    rt = Runtime(db=db, settings=settings, clock=clock)
    embedded = settings.embedded_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if embedded:
            worker = Worker.from_settings(db, clock, settings)
            ensure_recurring(db, clock)
            worker.start_thread()
        app.state.worker = worker
        intake.wake_worker = worker.wake.set if worker is not None else None
        intake.start()
        try:
            yield
        finally:
            intake.stop()
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="Watchbill",
        version=__version__,
        description="The open-source technical-operations platform. "
        "Authenticate with `Authorization: Bearer <token>` (create one with "
        "`watchbill tokens create`). Errors are RFC 9457 problem+json.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url="/api/redoc",
    )
    app.state.runtime = rt
    intake = IntakeWriter(db, clock, max_queue=settings.intake_queue)
    app.state.intake = intake
    app.state.intake_limiter = (
        RateLimiter(settings.intake_rate_per_key, settings.intake_burst_per_key)
        if settings.intake_rate_per_key
        else None
    )
    registry = CollectorRegistry(auto_describe=True)
    registry.register(JobQueueCollector(rt))
    app.state.metrics = registry
    app.add_middleware(intake_api.IntakeFastPath, routes=intake_api.router.routes)
    app.add_middleware(HttpMetrics, registry=registry)
    app.add_middleware(
        SecurityHeaders, https_site=settings.https_site, hsts_seconds=settings.hsts_seconds
    )
    problems.install(app)
    web_pages.install(app)

    app.router.routes.insert(0, health.liveness)  # first: probes skip all other matching
    app.include_router(health.router)
    app.include_router(auth_api.router)
    app.include_router(routing_api.router)  # before the generic routes: ordered listing
    for res in KINDS:
        app.include_router(resource_router(res))
    app.include_router(audit_api.router)
    app.include_router(alerts_api.router)
    app.include_router(intake_api.router)
    app.include_router(incidents_api.router)
    app.include_router(integrations_api.router)
    app.include_router(notify_api.router)
    app.include_router(oncall_health_api.router)
    app.include_router(schedules_api.router)
    app.include_router(schedules_api.public)

    app.include_router(web_pages.router)
    app.include_router(auth_pages.router)
    app.include_router(catalog_pages.router)
    app.include_router(alerts_pages.router)
    app.include_router(incidents_pages.router)
    app.include_router(oncall_health_pages.router)
    app.include_router(schedules_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(notify_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
