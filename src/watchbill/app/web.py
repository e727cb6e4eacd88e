"""create_app(): the web application assembled from every slice's declaration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from watchbill import __version__
from watchbill.adapters.clock import system_clock
from watchbill.adapters.db.engine import Database
from watchbill.adapters.serverkey import server_key
from watchbill.app import assembly
from watchbill.app.slices import SLICES
from watchbill.app.worker import make_worker, start_recurring
from watchbill.audit.chain import session_info
from watchbill.auth import service as identity
from watchbill.core.clock import Clock
from watchbill.resources.api import resource_router
from watchbill.settings import Settings, get_settings
from watchbill.web import health, layout, problems
from watchbill.web.deps import Runtime
from watchbill.web.headers import SecurityHeaders
from watchbill.web.metrics import HttpMetrics, JobQueueCollector

STATIC = Path(__file__).parent.parent / "web" / "static"


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
    rt = Runtime(
        db=db,
        settings=settings,
        clock=clock,
        identity=identity,
        migrations=assembly.migrations(),
        extensions=assembly.extensions(),
    )
    embedded = settings.embedded_worker if run_worker is None else run_worker
    hooks = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if embedded:
            worker = make_worker(db, clock, settings)
            start_recurring(db, clock)
            worker.start_thread()
            rt.wake_worker = worker.wake.set
        app.state.worker = worker
        with ExitStack() as running:
            for hook in hooks:
                running.enter_context(hook())
            try:
                yield
            finally:
                running.close()
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
    for piece in SLICES:
        for target in piece.installs:
            hook = assembly.load(target)(app, rt)
            if hook is not None:
                hooks.append(hook)
    registry = CollectorRegistry(auto_describe=True)
    registry.register(JobQueueCollector(rt))
    app.state.metrics = registry
    app.add_middleware(HttpMetrics, registry=registry)
    app.add_middleware(
        SecurityHeaders, https_site=settings.https_site, hsts_seconds=settings.hsts_seconds
    )
    problems.install(app)
    layout.install(app)
    layout.configure(assembly.template_dirs(), assembly.nav())

    app.router.routes.insert(0, health.liveness)  # first: probes skip all other matching
    app.include_router(health.router)
    for piece in SLICES:
        for target in piece.routers:
            app.include_router(assembly.load(target))
    for res in assembly.kinds():
        app.include_router(resource_router(res))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
