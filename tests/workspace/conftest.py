"""The app with the workspace, and browsers (httpx clients with cookies) signed in to it.

``doctor`` signs in through the real flow: ``/app/`` → ``/app/login`` → the authorization
server's sign-in form → ``/app/callback``. ``session_for`` starts a session directly from an
access token of any scope (a patient-context token, say), for tests of what a page may show.
Every test here runs on both stores (the ``store`` fixture).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.auth import users
from server.auth.tokens import Principal, issue
from server.config import Settings
from server.examples import load_examples
from server.workspace import sessions

pytestmark = pytest.mark.anyio

BASE = "http://testserver"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSWORD = "mat-khau-dai-1"
#: the example transfer record 1's patient (examples/transfer54/record-1.json)
CCCD = "068532215795"


@pytest.fixture
async def app(store) -> AsyncIterator[FastAPI]:  # type: ignore[no-untyped-def]
    application = create_app(Settings(), store)
    yield application
    await application.state.audit.stop()


@pytest.fixture
async def examples(app: FastAPI) -> FastAPI:
    """The app with ``examples/`` loaded."""
    await load_examples(app.state.repo, EXAMPLES)
    return app


def browser(app: FastAPI) -> httpx.AsyncClient:
    """A client that keeps cookies and does not follow redirects (tests look at each step)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=BASE)


def form_fields(page: str) -> dict[str, str]:
    """The named inputs of the (first) form of an HTML page, as it would send them."""
    return {k: html.unescape(v) for k, v in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD, start: str = "/app/") -> httpx.Response:
    """The whole sign-in in this client; returns the answer of the callback (a redirect to ``start``)."""
    r = await client.get(start)
    assert r.status_code == 303, r.text
    r = await client.get(r.headers["location"])  # /app/login → the authorization server
    assert r.status_code == 303, r.text
    r = await client.get(r.headers["location"])  # the sign-in form
    assert r.status_code == 200, r.text
    fields = form_fields(r.text)
    fields.update(username=username, password=password, action="login")
    r = await client.post("/auth/authorize", data=fields)
    assert r.status_code == 303, r.text
    return await client.get(r.headers["location"])  # /app/callback


async def add_doctor(app: FastAPI, name: str = "bs.lan") -> str:
    await users.add_user(app.state.repo.store, name, "doctor", PASSWORD)
    return name


@pytest.fixture
async def doctor(examples: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as a doctor, on the app with the examples."""
    await add_doctor(examples)
    async with browser(examples) as client:
        r = await sign_in(client, "bs.lan")
        assert r.status_code == 303 and r.headers["location"] == "/app/", r.text
        yield client


async def session_for(app: FastAPI, client: httpx.AsyncClient, scope: str, **principal: Any) -> None:
    """Give ``client`` a workspace session holding a token of ``scope`` (no refresh token)."""
    token, claims = await issue(app.state.repo.store, app.state.settings, Principal(scope=scope, client_id="lienthong-workspace", **principal))
    cookie, _ = await sessions.start(app.state.repo.store, user=principal.get("user") or "tester", provider="local",
                                     access_token=token, expires_in=claims["exp"] - claims["iat"], refresh_token=None)
    client.cookies.set(sessions.COOKIE, cookie, domain="testserver.local", path="/app")
