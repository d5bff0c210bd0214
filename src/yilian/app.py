"""create_app(): the one FastAPI application behind the pages, the REST API and (later) FHIR."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from yilian import __version__
from yilian.admissions import api as admissions_api
from yilian.admissions import jobs as admissions_jobs
from yilian.admissions import pages as admissions_pages
from yilian.admissions.queries import discharges as admission_discharges
from yilian.analytics import api as analytics_api
from yilian.analytics import pages as analytics_pages
from yilian.auth import api as auth_api
from yilian.auth import pages as auth_pages
from yilian.auth.rules import LoginPolicy
from yilian.auth.throttle import Throttle
from yilian.auth.tokens import TokenCache
from yilian.channels import api as channels_api
from yilian.config import Settings
from yilian.core.clock import Clock, system_clock
from yilian.core.db import Database
from yilian.core.jobs import Job, run_forever
from yilian.core.logs import install_record_masking
from yilian.directory import api as directory_api
from yilian.directory import pages as directory_pages
from yilian.directory.api import imports as directory_imports_api
from yilian.directory.pages import imports as directory_imports_pages
from yilian.notices import api as notices_api
from yilian.notices import pages as notices_pages
from yilian.referrals import api as referrals_api
from yilian.referrals import jobs as referrals_jobs
from yilian.referrals import pages as referrals_pages
from yilian.scheduling import api as scheduling_api
from yilian.scheduling import jobs as scheduling_jobs
from yilian.scheduling import pages as scheduling_pages
from yilian.scheduling.api.short_circuit import SoldOutShortCircuit
from yilian.web import docs, errors, health, openapi
from yilian.web.deps import AppState, csrf_guard, refuse_nul, reject_unknown_query
from yilian.web.middleware import DoorMiddleware, MetricsMiddleware, WebMiddleware

STATIC_DIR = Path(__file__).parent / "web" / "static"


# Every domain's periodic jobs, in the order they run (generation before release, say).
JOBS: tuple[Job, ...] = (*scheduling_jobs.JOBS, *referrals_jobs.JOBS, *admissions_jobs.JOBS)


# Every package's doors, in the order their paths are matched.
ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    docs.router,
    auth_api.router,
    directory_api.router,
    directory_imports_api.router,
    scheduling_api.router,
    notices_api.router,
    referrals_api.router,
    admissions_api.router,
    analytics_api.router,
    channels_api.router,
    auth_pages.router,
    directory_pages.router,
    directory_imports_pages.router,
    # before referrals' and admissions' pages: /referrals/stats is not /referrals/{referral_id}
    analytics_pages.router,
    notices_pages.router,
    scheduling_pages.router,
    referrals_pages.router,
    admissions_pages.router,
)


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    settings.resolved_secret_key()
    install_record_masking()
    db = Database(settings.database_url)
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = (
            asyncio.create_task(run_forever(db, JOBS, clock=clock, zone=settings.zone))
            if settings.run_scheduler
            else None
        )
        yield
        if scheduler is not None:
            scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler
        await db.dispose()

    app = FastAPI(
        title="Yilian 医联 API",
        version=__version__,
        description="The public API of a medical consortium (医联体). See docs/api.md.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(csrf_guard), Depends(reject_unknown_query), Depends(refuse_nul)],
    )
    app.state.yilian = AppState(
        settings=settings,
        db=db,
        clock=clock,
        login_policy=LoginPolicy(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
            token_lifetime=timedelta(minutes=settings.token_lifetime_minutes),
            zone=settings.zone,
        ),
        registry=registry,
        throttle=Throttle(
            account=settings.login_account_limits,
            address=settings.login_address_limits,
            api=settings.api_rate_limit,
            posts=settings.channel_post_limits,
            storage_uri=settings.rate_limit_storage,
        ),
        tokens=TokenCache(ttl=settings.token_cache_seconds),
    )
    # A down-referral that continues a discharge reads the admission through admissions (above
    # referrals in the package order): handed down here, not registered at import time.
    app.state.referral_discharges = admission_discharges.discharge_for_referral
    errors.install(app)
    openapi.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SoldOutShortCircuit)  # innermost: its answers get the headers and metrics
    app.add_middleware(DoorMiddleware, settings=settings)  # sizes, credentials, budgets: before reads
    app.add_middleware(WebMiddleware, secure_cookies=settings.cookie_secure)
    app.add_middleware(MetricsMiddleware, registry=registry)
    return app
