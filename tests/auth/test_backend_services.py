"""SMART Backend Services: a vendor's system gets a token with a signed assertion, driven by
a real OAuth client library (authlib's httpx client with ``private_key_jwt``)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from fastapi import FastAPI
from joserfc.jwk import ECKey, RSAKey

from server.auth import clients
from server.auth.tokens import Verifier

from .conftest import BASE, TOKEN_URL, ClientKey, assertion, client_key

pytestmark = pytest.mark.anyio


class ShortLivedJWT(PrivateKeyJWT):
    """authlib's ``private_key_jwt`` with SMART's five-minute limit and a fresh jti per request
    (authlib's default assertion lives an hour)."""

    def sign(self, auth: Any, token_endpoint: str) -> str:
        return private_key_jwt_sign(
            auth.client_secret, client_id=auth.client_id, token_endpoint=token_endpoint,
            claims={"exp": int(time.time()) + 240}, header=dict(self.headers or {}), alg=self.alg,
        )


def oauth_client(app: FastAPI, client_id: str, key: ClientKey, scope: str, method: type[PrivateKeyJWT] = ShortLivedJWT) -> AsyncOAuth2Client:
    jwk = (RSAKey if key.alg == "RS384" else ECKey).import_key(key.private_jwk)
    return AsyncOAuth2Client(
        client_id, jwk, token_endpoint_auth_method=method(TOKEN_URL, alg=key.alg, headers={"kid": key.kid}),
        scope=scope, transport=httpx.ASGITransport(app=app), base_url=BASE,
    )


async def register(app: FastAPI, client_id: str, *keys: ClientKey, scope: str = "system/*.cruds", facilities: list[str] | None = None) -> None:
    await clients.add_backend(app.state.repo.store, client_id, {"keys": [k.public_jwk for k in keys]}, scope, facilities)


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
async def test_client_credentials_with_authlib(app: FastAPI, audit_log, alg: str) -> None:  # type: ignore[no-untyped-def]
    key = client_key(alg)
    await register(app, "his-a", key, facilities=["92001", "92002"])
    responses: list[httpx.Response] = []
    async with oauth_client(app, "his-a", key, "system/Patient.rs system/Observation.cruds") as client:
        client.register_compliance_hook("access_token_response", lambda r: responses.append(r) or r)
        token = await client.fetch_token(TOKEN_URL, grant_type="client_credentials")
        assert token["token_type"].lower() == "bearer"
        assert token["scope"] == "system/Patient.rs system/Observation.cruds"
        assert 0 < token["expires_in"] <= app.state.settings.access_token_ttl
        again = await client.fetch_token(TOKEN_URL, grant_type="client_credentials")  # a fresh jti each time
        assert again["access_token"] != token["access_token"]
    assert [r.headers["cache-control"] for r in responses] == ["no-store", "no-store"]
    access = await Verifier(app.state.settings, app.state.repo.store).verify(token["access_token"])
    assert access.client_id == "his-a"
    assert access.facilities == frozenset({"92001", "92002"})
    assert access.can("Observation", "c") and access.can("Patient", "r") and not access.can("Patient", "u")
    assert audit_log.actions() == [("token", True), ("token", True)]
    assert audit_log.events[0]["client_id"] == "his-a" and "system/Patient.rs" in audit_log.events[0]["detail"]


async def test_scope_is_narrowed_to_the_registration(app: FastAPI, http: httpx.AsyncClient) -> None:
    key = client_key("ES384")
    await register(app, "his-b", key, scope="system/Patient.rs system/Observation.rs")
    r = await http.post("/auth/token", data={
        "grant_type": "client_credentials", "scope": "system/*.cruds system/Encounter.rs",
        "client_assertion_type": clients.ASSERTION_TYPE, "client_assertion": assertion(key, "his-b"),
    })
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "system/Patient.rs system/Observation.rs"
    access = await Verifier(app.state.settings, app.state.repo.store).verify(r.json()["access_token"])
    assert access.facilities is None  # no facility registered: not limited

    r = await http.post("/auth/token", data={
        "grant_type": "client_credentials", "scope": "system/Encounter.rs",
        "client_assertion_type": clients.ASSERTION_TYPE, "client_assertion": assertion(key, "his-b"),
    })
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = await http.post("/auth/token", data={
        "grant_type": "client_credentials", "scope": "system/Patient.frobnicate",
        "client_assertion_type": clients.ASSERTION_TYPE, "client_assertion": assertion(key, "his-b"),
    })
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


async def test_bad_assertions_are_invalid_client(app: FastAPI, http: httpx.AsyncClient, audit_log) -> None:  # type: ignore[no-untyped-def]
    key = client_key("RS384")
    await register(app, "his-c", key)

    async def ask(a: str, **extra: str) -> httpx.Response:
        app.state.auth_limiter = None  # each case alone; the limit has its own test
        return await http.post("/auth/token", data={"grant_type": "client_credentials", "scope": "system/*.rs", "client_assertion_type": clients.ASSERTION_TYPE, "client_assertion": a, **extra})

    other = client_key("RS384", "other")
    cases = {
        "unregistered kid": assertion(other, "his-c"),
        "expired": assertion(key, "his-c", lifetime=-120),
        "too long-lived": assertion(key, "his-c", lifetime=3600),
        "wrong aud": assertion(key, "his-c", aud="https://elsewhere.example/auth/token"),
        "sub is not the client": assertion(key, "his-c", sub="someone-else"),
        "unknown client": assertion(key, "nobody"),
    }
    for why, a in cases.items():
        r = await ask(a)
        assert r.status_code == 401, (why, r.text)
        assert r.json()["error"] == "invalid_client", why
        assert r.headers["cache-control"] == "no-store"

    # the client's kid, but not its key
    import jwt as pyjwt

    forged = pyjwt.encode({"iss": "his-c", "sub": "his-c", "aud": TOKEN_URL, "exp": int(time.time()) + 60, "jti": "x1"}, other.private, algorithm="RS384", headers={"kid": key.kid})
    r = await ask(forged)
    assert r.status_code == 401 and "signature" in r.json()["error_description"]
    hs = pyjwt.encode({"iss": "his-c", "sub": "his-c", "aud": TOKEN_URL, "exp": int(time.time()) + 60, "jti": "x2"}, "secret-secret-secret-secret-secret", algorithm="HS256", headers={"kid": key.kid})
    r = await ask(hs)
    assert r.status_code == 401 and "RS384" in r.json()["error_description"]

    # replay: the same jti twice
    once = assertion(key, "his-c")
    assert (await ask(once)).status_code == 200
    r = await ask(once)
    assert r.status_code == 401 and "replay" in r.json()["error_description"]
    assert [s for a, s in audit_log.actions()].count(True) == 1
    assert all(a == "token" for a, _ in audit_log.actions())


async def test_authlib_default_assertion_lifetime_is_refused(app: FastAPI) -> None:
    """authlib signs assertions valid for an hour; SMART allows five minutes."""
    key = client_key("ES384")
    await register(app, "his-d", key)
    async with oauth_client(app, "his-d", key, "system/*.rs", method=PrivateKeyJWT) as client:
        with pytest.raises(OAuthError) as err:
            await client.fetch_token(TOKEN_URL, grant_type="client_credentials")
    assert err.value.error == "invalid_client" and "300 seconds" in (err.value.description or "")


async def test_token_endpoint_errors(app: FastAPI, http: httpx.AsyncClient) -> None:
    r = await http.post("/auth/token", data={"grant_type": "password", "username": "a", "password": "b"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = await http.post("/auth/token", data={})
    assert r.json()["error"] == "invalid_request"
    r = await http.post("/auth/token", json={"grant_type": "client_credentials"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = await http.post("/auth/token", content=b"grant_type=client_credentials&grant_type=refresh_token", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.json()["error"] == "invalid_request" and "more than once" in r.json()["error_description"]
    r = await http.post("/auth/token", data={"grant_type": "client_credentials", "client_assertion_type": "urn:other", "client_assertion": "x"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await http.post("/auth/token", data={"grant_type": "client_credentials", "client_assertion_type": clients.ASSERTION_TYPE, "client_assertion": "not a jwt"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await http.post("/auth/token", content=b"x" * 40_000, headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and r.json()["error"] == "invalid_request"
    assert "Traceback" not in r.text and "/work" not in r.text


async def test_token_works_on_the_fhir_api(app: FastAPI, http: httpx.AsyncClient) -> None:
    key = client_key("ES384")
    await register(app, "his-e", key, scope="system/Patient.cruds")
    r = await http.post("/auth/token", data={"grant_type": "client_credentials", "scope": "system/Patient.rs", "client_assertion_type": clients.ASSERTION_TYPE, "client_assertion": assertion(key, "his-e")})
    token = r.json()["access_token"]
    ok = await http.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.text
    denied = await http.post("/fhir/Patient", json={"resourceType": "Patient"}, headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403
