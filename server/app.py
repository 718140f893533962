"""The ASGI application: settings + store → FastAPI app with the FHIR routes under ``/fhir``."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from .audit.trail import AuditTrail
from .auth.tokens import Verifier
from .config import Settings
from .fhir.repository import Repository
from .http.auditing import finisher
from .http.errors import install_error_handlers
from .http.security import SecurityMiddleware
from .http.routers import auth as auth_routes
from .http.routers import conformance, history, metadata, operations, resources, search, system, terminology, validation
from .storage.base import Store
from .storage.factory import make_store

__version__ = "0.1.0"


def create_app(settings: Settings | None = None, store: Store | None = None, *, examples: Path | None = None) -> FastAPI:
    """Build the app. The store is opened on start-up and closed on shutdown."""
    settings = settings or Settings.from_env()
    store = store or make_store(settings.store_url)
    repo = Repository(store, settings)
    audit = AuditTrail(store, repo.prepare, enabled=settings.audit)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.open()
        if examples is not None:
            from .examples import load_examples

            await load_examples(repo, examples)
        try:
            yield
        finally:
            await audit.stop()
            await store.close()

    app = FastAPI(title="Liên Thông FHIR server", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.repo = repo
    app.state.settings = settings
    app.state.audit = audit
    app.state.verifier = Verifier(settings, store)
    install_error_handlers(app)
    app.add_middleware(SecurityMiddleware, settings=settings, verifier=app.state.verifier, finish=finisher(app))
    if settings.cors_origins:  # outermost: a preflight carries no token
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"],
            allow_headers=["Authorization", "Content-Type", "Accept", "If-Match", "If-None-Match", "If-None-Exist", "Prefer"],
            expose_headers=["Location", "Content-Location", "ETag", "Last-Modified", "WWW-Authenticate"],
        )
    # Order matters: literal segments (metadata, _history, _search) before {id}.
    # $validate, $lookup, $validate-code before the read-only conformance types' {id} routes,
    # all before the stored types' routes.
    app.include_router(auth_routes.well_known)  # /fhir/.well-known/smart-configuration, before /fhir/{type}/{id}
    app.include_router(auth_routes.router)  # /auth/*: the authorization server
    for module in (metadata, system, history, operations, validation, terminology, conformance, search, resources):
        app.include_router(module.router, prefix="/fhir")
    return app
