"""The ASGI application: settings + store → FastAPI app with the FHIR routes under ``/fhir``.

:func:`app_from_env` is the factory ``lienthong serve`` hands to uvicorn, which calls it in
each worker process (settings come from the ``LIENTHONG_*`` environment the command set).
"""

from __future__ import annotations

import gc
import logging
import socket
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .audit.trail import AuditTrail
from .auth.tokens import Verifier
from .config import Settings
from .fhir.repository import Repository
from .http.auditing import finisher
from .http.errors import install_error_handlers
from .http.negotiation import FormatMiddleware
from .http.security import SecurityMiddleware
from .http.routers import auth as auth_routes
from .http.routers import conformance, history, home, metadata, openapi, operations, resources, search, system, terminology, validation
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
            from .examples import load_examples_into_empty

            await load_examples_into_empty(repo, examples)
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
    app.add_middleware(FormatMiddleware)  # outside the security door: a 401 is XML too, for an XML client; gzip when asked
    if settings.cors_origins:  # outermost: a preflight carries no token
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"],
            allow_headers=["Authorization", "Content-Type", "Accept", "If-Match", "If-None-Match", "If-None-Exist", "Prefer"],
            expose_headers=["Location", "Content-Location", "ETag", "Last-Modified", "WWW-Authenticate"],
        )
    # Order matters: literal segments (metadata, _history, _search) before {id}.
    # $validate, $lookup, $validate-code before the read-only conformance types' {id} routes,
    # all before the stored types' routes.
    app.state.routers = [("", home.router), ("", auth_routes.well_known), ("", auth_routes.router)]  # /.well-known/…, /auth/*: the authorization server
    app.state.routers += [("/fhir", m.router) for m in (metadata, openapi, system, history, operations, validation, terminology, conformance, search, resources)]
    for prefix, router in app.state.routers:  # kept: a 405's Allow asks them which methods a path has
        app.include_router(router, prefix=prefix)
    from .workspace.install import install as install_workspace

    install_workspace(app)  # /app/: the referral doctor's pages
    return app


async def load_examples_once(settings: Settings, folder: Path) -> None:
    """Load ``folder`` into an empty store before any worker starts (``serve --load-examples``),
    so N workers do not all load it."""
    from .examples import load_examples_into_empty

    store = make_store(settings.store_url)
    await store.open()
    try:
        await load_examples_into_empty(Repository(store, settings), folder)
    finally:
        await store.close()


def app_from_env() -> FastAPI:
    """The app of one ``serve`` worker: settings from the environment, start-up work
    (store check, examples, dev admin) already done once by the command."""
    if not logging.getLogger().handlers:  # a spawned worker: log as the command does
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(Settings.from_env())
    # The definitions, profiles and models loaded so far live as long as the process: moved
    # out of the collector's reach, a full collection no longer walks them (measured: pauses
    # of ~110 ms, every few seconds under load, down to ~40 ms).
    gc.collect()
    gc.freeze()
    return app


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with ``TCP_NODELAY`` set on every accepted connection.

    Why: without it a response written in two pieces waits for the client's delayed ACK
    (Nagle), about 40 ms per request. uvloop sets it itself, asyncio only on sockets whose
    ``proto`` is TCP, which a socket shared with worker processes may not say; so it is
    set here whatever the loop.
    """

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # the peer is gone already: the protocol finds out by itself
                pass
        super().connection_made(transport)
