"""Workspace sessions: sign-out only with the session's own form, idle expiry, transparent renewal
of the access token, login CSRF, no open redirect, the cookie's attributes, and the audit trail."""

from __future__ import annotations

import json
import time
from typing import Any, AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.auth import oauth, users
from server.auth.clients import WORKSPACE_ID
from server.auth.oauth import OAuthError, secret_key
from server.auth.tokens import Principal, issue
from server.config import Settings
from server.examples import load_examples
from server.workspace import sessions

from .conftest import BASE, CCCD, EXAMPLES, PASSWORD, add_doctor, browser, form_fields, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
async def short_app(store) -> AsyncIterator[FastAPI]:  # type: ignore[no-untyped-def]
    """An app whose access tokens live less than the renewal margin: every page renews its token."""
    app = create_app(Settings(access_token_ttl=sessions.RENEW_MARGIN - 10), store)
    await load_examples(app.state.repo, EXAMPLES)
    yield app
    await app.state.audit.stop()


async def record_of(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any] | None:
    cookie = client.cookies.get(sessions.COOKIE)
    assert cookie
    return await app.state.repo.store.get_record(sessions.KIND, secret_key(cookie))


async def csrf_of(client: httpx.AsyncClient) -> str:
    r = await client.get("/app/")
    assert r.status_code == 200
    return form_fields(r.text)["csrf"]


async def to_callback(client: httpx.AsyncClient, login: str) -> str:
    """Through ``login`` and the authorization server's form: the callback URL it sends back to."""
    r = await client.get(login)
    assert r.status_code == 303, r.text
    r = await client.get(r.headers["location"])
    assert r.status_code == 200, r.text
    fields = {**form_fields(r.text), "username": "bs.lan", "password": PASSWORD, "action": "login"}
    r = await client.post("/auth/authorize", data=fields)
    assert r.status_code == 303 and r.headers["location"].startswith(f"{BASE}/app/callback?"), r.text
    return r.headers["location"].removeprefix(BASE)


async def test_sign_out_needs_the_session_s_csrf_token(examples: FastAPI, doctor: httpx.AsyncClient) -> None:
    for data in ({"lang": "vi"}, {"csrf": "not-the-token"}, {"csrf": ""}):
        r = await doctor.post("/app/logout", data=data)
        assert r.status_code == 403 and "không phải của phiên làm việc hiện tại" in r.text  # says why, in words
        assert (await doctor.get("/app/")).status_code == 200  # the session stays
    r = await doctor.post("/app/logout", content=b"csrf=x", headers={"Content-Type": "text/plain"})  # not a form at all
    assert r.status_code == 400 and (await doctor.get("/app/")).status_code == 200
    refresh_token = (await record_of(examples, doctor) or {})["refresh_token"]
    r = await doctor.post("/app/logout", data={"csrf": await csrf_of(doctor)})
    assert r.status_code == 303 and r.headers["location"] == "/app/login?bye=1"
    assert await examples.state.repo.store.get_record(sessions.KIND, secret_key(doctor.cookies.get(sessions.COOKIE) or "x")) is None
    r = await doctor.get("/app/patient/x1")
    assert r.status_code == 303 and r.headers["location"].startswith("/app/login?next=")
    with pytest.raises(OAuthError):  # the refresh token was revoked
        await oauth.refresh(examples.state.repo.store, examples.state.settings, {"refresh_token": refresh_token, "client_id": WORKSPACE_ID}, BASE)


async def test_an_idle_session_ends_and_says_so(examples: FastAPI, doctor: httpx.AsyncClient) -> None:
    body = await record_of(examples, doctor)
    assert body is not None
    body["seen"] = time.time() - examples.state.settings.app_idle_ttl - 5
    await examples.state.repo.store.put_record(sessions.KIND, secret_key(doctor.cookies.get(sessions.COOKIE) or ""), body)
    r = await doctor.get("/app/")
    assert r.status_code == 303 and r.headers["location"] == "/app/login?next=%2Fapp%2F&expired=1"
    page = await doctor.get(r.headers["location"])
    assert page.status_code == 200 and "Phiên làm việc đã hết hạn" in page.text
    assert await record_of(examples, doctor) is None


async def test_an_active_session_still_ends_when_a_sign_in_may_last_no_longer(examples: FastAPI, doctor: httpx.AsyncClient) -> None:
    """Renewal rotates the refresh token, which alone would let a busy session live on."""
    body = await record_of(examples, doctor)
    assert body is not None
    body["created"] = time.time() - examples.state.settings.refresh_token_ttl - 5
    body["seen"] = time.time()  # in use a moment ago
    await examples.state.repo.store.put_record(sessions.KIND, secret_key(doctor.cookies.get(sessions.COOKIE) or ""), body)
    r = await doctor.get("/app/")
    assert r.status_code == 303 and r.headers["location"].endswith("&expired=1")
    assert await record_of(examples, doctor) is None


async def test_the_access_token_is_renewed_without_the_person_noticing(short_app: FastAPI) -> None:
    await add_doctor(short_app)
    async with browser(short_app) as client:
        assert (await sign_in(client, "bs.lan")).status_code == 303
        first = (await record_of(short_app, client) or {})["access_token"]
        r = await client.get("/app/", params={"q": CCCD})
        assert r.status_code == 200 and "/app/patient/" in r.text
        second = await record_of(short_app, client) or {}
        assert second["access_token"] != first and second["refresh_token"]

        await users.remove_user(short_app.state.repo.store, "bs.lan")  # the account is removed: no more renewals
        r = await client.get("/app/")
        assert r.status_code == 303 and "expired=1" in r.headers["location"]
        assert await record_of(short_app, client) is None


async def test_a_callback_needs_this_browser_s_state(examples: FastAPI) -> None:
    await add_doctor(examples)
    async with browser(examples) as client:
        callback = await to_callback(client, "/app/login")
        client.cookies.delete("lt_app_login", domain="testserver.local", path="/app")
        r = await client.get(callback)  # a code carried into a browser that did not start the sign-in
        assert r.status_code == 400 and "not started in this browser" in r.text
        assert sessions.COOKIE not in r.headers.get("set-cookie", "")

        callback = await to_callback(client, "/app/login")
        r = await client.get(callback.replace("state=", "state=x"))
        assert r.status_code == 400 and sessions.COOKIE not in r.headers.get("set-cookie", "")
        assert (await client.get("/app/")).status_code == 303  # still signed out


@pytest.mark.parametrize("target", ["https://evil.example/app/", "//evil.example/app/", "/\\evil.example", "/fhir/Patient"])
async def test_next_never_leaves_the_workspace(examples: FastAPI, target: str) -> None:
    await add_doctor(examples)
    async with browser(examples) as client:
        callback = await to_callback(client, "/app/login?" + httpx.QueryParams({"next": target}).__str__())
        r = await client.get(callback)
        assert r.status_code == 303 and r.headers["location"] == "/app/"


async def test_the_session_cookie_and_record(examples: FastAPI) -> None:
    await add_doctor(examples)
    async with browser(examples) as client:
        r = await sign_in(client, "bs.lan", start="/app/patient/x1")
        assert r.headers["location"] == "/app/patient/x1"  # back where the person was going
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(f"{sessions.COOKIE}="))
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/app"} <= attributes
        value = client.cookies.get(sessions.COOKIE) or ""
        body = await record_of(examples, client)
        assert body is not None and body["user"] == "bs.lan"
        assert value not in json.dumps(body, default=str)
        assert await examples.state.repo.store.get_record(sessions.KIND, value) is None  # stored under its hash only


async def audit_events(app: FastAPI) -> list[dict[str, Any]]:
    await app.state.audit.flush()
    token, _ = await issue(app.state.repo.store, app.state.settings, Principal(scope="system/AuditEvent.rs", client_id="auditor"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"{BASE}/fhir/", headers={"Authorization": f"Bearer {token}"}) as c:
        r = await c.get("AuditEvent", params={"_count": "200"})
    assert r.status_code == 200, r.text
    return [e["resource"] for e in r.json().get("entry", []) if e["search"]["mode"] == "match"]


def by(events: list[dict[str, Any]], user: str) -> list[str]:
    """The subtype codes of the events ``user`` is an agent of."""
    return sorted(e["subtype"][0]["code"] for e in events
                  if any(a.get("who", {}).get("identifier", {}).get("value") == user for a in e.get("agent", [])))


async def test_sign_in_sign_out_and_pages_are_audited(examples: FastAPI, doctor: httpx.AsyncClient) -> None:
    assert (await doctor.get("/app/", params={"q": CCCD})).status_code == 200
    assert (await doctor.post("/app/logout", data={"csrf": await csrf_of(doctor)})).status_code == 303
    codes = by(await audit_events(examples), "bs.lan")
    assert "110122" in codes  # the sign-in
    assert "110123" in codes  # the sign-out
    assert "search-type" in codes  # the search page, as the FHIR search it stands for
