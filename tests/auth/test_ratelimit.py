"""Five failures in five minutes per (IP, account): the sixth attempt is 429, even with the right secret."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from server.auth import clients, users
from server.auth.ratelimit import FailureLimiter

from .conftest import REDIRECT, assertion, client_key, pkce
from .test_authorization_code import PASSWORD, authorize_url, inputs

pytestmark = pytest.mark.anyio


def test_sliding_window() -> None:
    now = [1000.0]
    limiter = FailureLimiter(limit=5, window=300, clock=lambda: now[0])
    key = ("login", "10.0.0.1", "an")
    for _ in range(5):
        assert limiter.retry_after(key) is None
        limiter.failed(key)
        now[0] += 10
    assert limiter.retry_after(key) == 300 - 50
    assert limiter.retry_after(("login", "10.0.0.2", "an")) is None  # another address is not locked
    assert limiter.retry_after(("login", "10.0.0.1", "binh")) is None  # nor another account
    now[0] += 251
    assert limiter.retry_after(key) is None  # the first failure left the window
    limiter.failed(key)
    assert limiter.retry_after(key) is not None
    limiter.succeeded(key)
    assert limiter.retry_after(key) is None


async def test_sixth_login_attempt_is_refused_even_with_the_right_password(app: FastAPI, http: httpx.AsyncClient, audit_log) -> None:  # type: ignore[no-untyped-def]
    store = app.state.repo.store
    await clients.add_public(store, "app1", [REDIRECT], "user/*.rs")
    await users.add_user(store, "bs.an", "doctor", PASSWORD)
    url = authorize_url(pkce()[1])
    page = await http.get(url)
    form = {**inputs(page.text).hidden, "username": "bs.an", "action": "login"}
    for _ in range(5):
        r = await http.post("/auth/authorize", data={**form, "password": "not the password"})
        assert r.status_code == 401
    r = await http.post("/auth/authorize", data={**form, "password": PASSWORD})
    assert r.status_code == 429 and "location" not in r.headers
    assert 0 < int(r.headers["retry-after"]) <= 300
    assert "Too many failed sign-ins" in r.text
    assert audit_log.actions() == [("login", False)] * 6
    assert "locked" in audit_log.events[-1]["detail"]
    # the lock is per (address, account): another account from the same address may sign in
    await users.add_user(store, "bs.binh", "doctor", PASSWORD)
    r = await http.post("/auth/authorize", data={**form, "username": "bs.binh", "password": PASSWORD})
    assert r.status_code == 303


async def test_sixth_client_assertion_is_refused(app: FastAPI, http: httpx.AsyncClient) -> None:
    key = client_key("ES384")
    wrong = client_key("ES384", "wrong")
    await clients.add_backend(app.state.repo.store, "his-x", {"keys": [key.public_jwk]}, "system/*.rs")

    async def ask(signing_key, kid: str) -> httpx.Response:  # type: ignore[no-untyped-def]
        import jwt

        a = assertion(signing_key, "his-x")
        a = jwt.encode(jwt.decode(a, options={"verify_signature": False}), signing_key.private, algorithm="ES384", headers={"kid": kid})
        return await http.post("/auth/token", data={"grant_type": "client_credentials", "scope": "system/*.rs", "client_assertion_type": clients.ASSERTION_TYPE, "client_assertion": a})

    for _ in range(5):
        assert (await ask(wrong, key.kid)).status_code == 401
    r = await ask(key, key.kid)
    assert r.status_code == 429 and r.json()["error"] == "invalid_client" and int(r.headers["retry-after"]) > 0
    assert r.headers["cache-control"] == "no-store"
    # from another address the client is not locked out
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.9.9", 1234)), base_url="http://testserver") as elsewhere:
        a = assertion(key, "his-x")
        r = await elsewhere.post("/auth/token", data={"grant_type": "client_credentials", "scope": "system/*.rs", "client_assertion_type": clients.ASSERTION_TYPE, "client_assertion": a})
        assert r.status_code == 200, r.text
