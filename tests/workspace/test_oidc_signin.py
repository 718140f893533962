"""Signing in to the workspace at an external OpenID Connect provider, end to end.

The provider is a real HTTP server on 127.0.0.1 (its own small fake, in the manner of the one in
``tests/auth/test_oidc.py``): discovery, ``/authorize`` that signs the person in at once and sends
the browser back with a code, ``/token`` that checks the PKCE verifier (S256) and issues RS256
access tokens, refresh tokens, a revocation endpoint, and its JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any, AsyncIterator, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from server.app import create_app
from server.config import Settings
from server.examples import load_examples

from tests.support.http_stub import StubHandler, start

from .conftest import BASE, CCCD, EXAMPLES, browser

pytestmark = pytest.mark.anyio

CLIENT = "lienthong-workspace-at-idp"
AUDIENCE = "lienthong"


class FakeProvider:
    """An identity provider that signs ``username`` in without asking."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.username = "bs.hoa"
        self.audience = AUDIENCE
        self.ttl = 300
        self.codes: dict[str, dict[str, str]] = {}
        self.refresh: dict[str, str] = {}  # refresh token → username
        self.revoked: list[str] = []
        self.token_requests: list[dict[str, str]] = []
        outer = self

        class Handler(StubHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self.reply_json(200, {
                        "issuer": outer.url, "authorization_endpoint": f"{outer.url}/authorize", "token_endpoint": f"{outer.url}/token",
                        "jwks_uri": f"{outer.url}/keys", "revocation_endpoint": f"{outer.url}/revoke",
                        "code_challenge_methods_supported": ["S256"],
                    })
                elif url.path == "/keys":
                    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(outer.key.public_key())), "kid": "idp-1", "alg": "RS256", "use": "sig"}
                    self.reply_json(200, {"keys": [jwk]})
                elif url.path == "/authorize":
                    self._authorize({k: v[0] for k, v in parse_qs(url.query).items()})
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path == "/token":
                    outer.token_requests.append(form)
                    status, body = outer.token(form)
                    self.reply_json(status, body)
                elif self.path == "/revoke":
                    outer.revoked.append(form.get("token", ""))
                    self.reply_json(200, {})
                else:
                    self.send_error(404)

            def _authorize(self, query: dict[str, str]) -> None:
                if query.get("client_id") != CLIENT or query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                    self.reply_json(400, {"error": "invalid_request"})
                    return
                code = secrets.token_urlsafe(16)
                outer.codes[code] = query
                self.send_response(302)
                self.send_header("Location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")
                self.end_headers()



        self.server, self.url = start(Handler)

    def access_token(self, username: str) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.audience, "sub": f"idp-{username}", "preferred_username": username, "iat": now,
                  "exp": now + self.ttl, "scope": "openid user/*.rs", "roles": ["doctor"], "azp": CLIENT, "jti": secrets.token_hex(8)}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "idp-1"})

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != CLIENT:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "authorization_code":
            asked = self.codes.pop(form.get("code", ""), None)
            if asked is None or asked["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant"}
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != asked["code_challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
            username = self.username
        elif form.get("grant_type") == "refresh_token":
            username = self.refresh.pop(form.get("refresh_token", ""), "")
            if not username:
                return 400, {"error": "invalid_grant"}
        else:
            return 400, {"error": "unsupported_grant_type"}
        refresh = secrets.token_urlsafe(16)
        self.refresh[refresh] = username
        return 200, {"access_token": self.access_token(username), "token_type": "Bearer", "expires_in": self.ttl, "refresh_token": refresh}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def idp() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    yield fake
    fake.close()


@pytest.fixture
async def oidc_app(store, idp: FakeProvider) -> AsyncIterator[FastAPI]:  # type: ignore[no-untyped-def]
    app = create_app(Settings(oidc_issuer=idp.url, oidc_audience=AUDIENCE, workspace_oidc_client=CLIENT), store)
    await load_examples(app.state.repo, EXAMPLES)
    yield app
    await app.state.audit.stop()


async def at_idp(url: str) -> str:
    """The browser's visit to the provider: where it sends the browser back."""
    async with httpx.AsyncClient() as outside:
        r = await outside.get(url)
    assert r.status_code == 302, r.text
    return r.headers["location"]


async def sign_in_at_idp(client: httpx.AsyncClient, idp: FakeProvider, start: str = "/app/") -> httpx.Response:
    """The whole sign-in through the provider; the answer of ``/app/callback``."""
    r = await client.get(start)
    assert r.status_code == 303
    r = await client.get(r.headers["location"])  # /app/login: a choice of two
    assert r.status_code == 200
    assert "provider=local" in r.text and "provider=oidc" in r.text
    r = await client.get("/app/login", params={"provider": "oidc", "next": start})
    assert r.status_code == 303 and r.headers["location"].startswith(f"{idp.url}/authorize?"), r.text
    back = await at_idp(r.headers["location"])
    assert back.startswith(f"{BASE}/app/callback?")
    return await client.get(back.removeprefix(BASE))


async def test_sign_in_at_the_identity_provider_and_use_the_workspace(oidc_app: FastAPI, idp: FakeProvider) -> None:
    async with browser(oidc_app) as client:
        r = await sign_in_at_idp(client, idp)
        assert r.status_code == 303 and r.headers["location"] == "/app/", r.text
        page = await client.get("/app/", params={"q": CCCD})
        assert page.status_code == 200
        assert "bs.hoa" in page.text and "/app/patient/" in page.text  # the provider's user, reading with its token
        exchange = idp.token_requests[0]
        assert exchange["grant_type"] == "authorization_code" and exchange["code_verifier"]


async def test_the_provider_s_token_is_renewed_with_its_refresh_token(oidc_app: FastAPI, idp: FakeProvider) -> None:
    idp.ttl = 20  # less than the renewal margin: every page renews
    async with browser(oidc_app) as client:
        assert (await sign_in_at_idp(client, idp)).status_code == 303
        assert (await client.get("/app/")).status_code == 200
        assert [f["grant_type"] for f in idp.token_requests] == ["authorization_code", "refresh_token"]
        idp.refresh.clear()  # the provider forgets the session (the account was disabled there)
        r = await client.get("/app/")
        assert r.status_code == 303 and "expired=1" in r.headers["location"]


async def test_sign_out_revokes_at_the_provider(oidc_app: FastAPI, idp: FakeProvider) -> None:
    async with browser(oidc_app) as client:
        assert (await sign_in_at_idp(client, idp)).status_code == 303
        csrf = (await client.get("/app/")).text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = await client.post("/app/logout", data={"csrf": csrf})
        assert r.status_code == 303
        assert len(idp.revoked) == 1 and idp.revoked[0] in idp.refresh  # the session's refresh token, sent to be revoked
        assert (await client.get("/app/")).status_code == 303


async def test_a_token_for_another_audience_is_a_clear_sign_in_failure(oidc_app: FastAPI, idp: FakeProvider) -> None:
    idp.audience = "some-other-server"
    async with browser(oidc_app) as client:
        r = await sign_in_at_idp(client, idp)
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("text/html")
        assert "Không đăng nhập được" in r.text and "not meant for this server" in r.text
        assert "lt_session" not in r.headers.get("set-cookie", "")
        assert (await client.get("/app/")).status_code == 303  # no session


async def test_an_unreachable_provider_is_a_clear_failure(store) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(oidc_issuer="http://127.0.0.1:9", oidc_audience=AUDIENCE, workspace_oidc_client=CLIENT), store)
    try:
        async with browser(app) as client:
            r = await client.get("/app/login", params={"provider": "oidc"})
            assert r.status_code == 502 and "Không liên lạc được nhà cung cấp định danh" in r.text
    finally:
        await app.state.audit.stop()
