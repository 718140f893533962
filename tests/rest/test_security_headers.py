"""Safe defaults on every response: no caching of health data, no sniffing, a strict CSP, HSTS behind TLS, CORS off."""

from __future__ import annotations

import httpx
import pytest

from server.app import create_app
from server.config import Settings

from .conftest import token_for

pytestmark = pytest.mark.anyio


async def test_phi_responses_are_not_cached_nor_sniffed(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("Patient", json={"resourceType": "Patient"})
    read = await client.get(f"Patient/{r.json()['id']}")
    for resp in (r, read, await client.get("Patient"), await client.get("Patient/nope")):
        assert resp.headers["cache-control"] == "no-store"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in resp.headers["content-security-policy"]
        assert "strict-transport-security" not in resp.headers  # plain HTTP: HSTS means nothing there


async def test_hsts_behind_tls_and_cors_off_by_default(app) -> None:  # type: ignore[no-untyped-def]
    token = await token_for(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver/fhir/", headers={"Authorization": f"Bearer {token}"}) as c:
        r = await c.get("Patient", headers={"Origin": "https://evil.example"})
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert "access-control-allow-origin" not in r.headers
        pre = await c.options("Patient", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in pre.headers


async def test_cors_for_configured_origins_only(store) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(cors_origins=("https://his.example.vn",)), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver/fhir/") as c:
        ok = await c.options("Patient", headers={"Origin": "https://his.example.vn", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
        assert ok.headers["access-control-allow-origin"] == "https://his.example.vn"
        bad = await c.options("Patient", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in bad.headers
        assert (await c.get("Patient", headers={"Origin": "https://his.example.vn"})).status_code == 401  # CORS is not authorization
    await app.state.audit.stop()


async def test_server_errors_carry_no_trace_or_path(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret detail at /work/main/server/x.py line 3")

    monkeypatch.setattr(app.state.repo.store, "current", boom)
    token = await token_for(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver/fhir/", headers={"Authorization": f"Bearer {token}"}) as c:
        r = await c.get("Patient/x")
    assert r.status_code == 500
    assert "secret detail" not in r.text and "/work" not in r.text and "Traceback" not in r.text
