"""A FHIR client on the ASGI app, over whichever store the ``store`` fixture gives.

Authorization is on, as in production: the client carries an access token signed with the
store's key (``system/*.cruds``, a vendor's full scope). Tests of access control make their
own clients with narrower tokens through :func:`client_for`.
"""

from __future__ import annotations

from typing import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.auth.tokens import Principal, issue
from server.config import Settings

SMALL_LIMITS = Settings(max_request_bytes=200_000, max_json_depth=40, default_count=5, max_count=50, max_bundle_entries=300)
FULL_SCOPE = "system/*.cruds"


async def token_for(app: FastAPI, scope: str = FULL_SCOPE, **principal: object) -> str:
    """An access token of this app's server key."""
    token, _ = await issue(app.state.repo.store, app.state.settings, Principal(scope=scope, client_id=principal.pop("client_id", "test-client"), **principal))  # type: ignore[arg-type]
    return token


def client_for(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=transport, base_url="http://testserver/fhir/", headers=headers)


@pytest.fixture
async def app(store) -> AsyncIterator[FastAPI]:  # type: ignore[no-untyped-def]
    application = create_app(SMALL_LIMITS, store)  # the store fixture has opened the store already
    yield application
    await application.state.audit.stop()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, await token_for(app)) as c:
        yield c
