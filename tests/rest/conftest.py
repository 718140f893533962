"""A FHIR client on the ASGI app, over whichever store the ``store`` fixture gives."""

from __future__ import annotations

from typing import AsyncIterator

import httpx
import pytest

from server.app import create_app
from server.config import Settings

SMALL_LIMITS = Settings(max_request_bytes=200_000, max_json_depth=40, default_count=5, max_count=50, max_bundle_entries=300)


@pytest.fixture
async def client(store) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    app = create_app(SMALL_LIMITS, store)  # the store fixture has opened the store already
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver/fhir/") as c:
        yield c
