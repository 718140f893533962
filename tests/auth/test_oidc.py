"""Tokens of an external OpenID Connect issuer, served by a real HTTP server on 127.0.0.1:
discovery, the JWKS, and a key rotation picked up without a restart."""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from server.auth import oidc
from tests.support.http_stub import StubHandler, start
from server.auth.tokens import AuthError, Verifier
from server.config import Settings

pytestmark = pytest.mark.anyio


class FakeIssuer:
    """An identity provider: discovery document and JWKS; ``serve`` picks the keys published."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.published: list[str] = []
        self.jwks_fetches = 0
        self.redirect_to: str | None = None
        outer = self

        class Handler(StubHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/.well-known/openid-configuration":
                    if outer.redirect_to:
                        self.send_response(302)
                        self.send_header("Location", outer.redirect_to)
                        self.end_headers()
                        return
                    self.reply_json(200, {"issuer": outer.url, "jwks_uri": f"{outer.url}/keys", "id_token_signing_alg_values_supported": ["RS256"]})
                elif self.path == "/keys":
                    outer.jwks_fetches += 1
                    self.reply_json(200, {"keys": [outer.public_jwk(kid) for kid in outer.published]})
                else:
                    self.send_error(404)



        self.server, self.url = start(Handler)

    def new_key(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def public_jwk(self, kid: str) -> dict[str, Any]:
        return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.keys[kid].public_key())), "kid": kid, "alg": "RS256", "use": "sig"}

    def token(self, kid: str, *, aud: str = "lienthong", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": aud, "sub": "u-1", "preferred_username": "bs.hoa", "iat": now, "exp": now + 300, "scope": "user/*.rs", **claims}
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    fake = FakeIssuer()
    fake.new_key("k1")
    fake.new_key("k2")
    fake.published = ["k1"]
    yield fake
    fake.close()


def verifier_for(issuer: FakeIssuer, store: Any) -> Verifier:
    return Verifier(Settings(oidc_issuer=issuer.url, oidc_audience="lienthong"), store)


async def test_rotated_key_is_picked_up(issuer: FakeIssuer, store, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(oidc, "REFRESH_COOLDOWN", 0.0)  # a rotation right after the first fetch, as in this test
    verifier = verifier_for(issuer, store)
    access = await verifier.verify(issuer.token("k1"))
    assert access.user == "bs.hoa" and access.notes["issuer"] == issuer.url and access.can("Patient", "r")
    assert issuer.jwks_fetches == 1
    await verifier.verify(issuer.token("k1", sub="u-2"))
    assert issuer.jwks_fetches == 1  # the key set is cached

    issuer.published = ["k2"]  # the provider rotates its key
    access = await verifier.verify(issuer.token("k2", preferred_username="bs.lan"))
    assert access.user == "bs.lan"
    assert issuer.jwks_fetches == 2

    with pytest.raises(AuthError, match="no key of issuer"):
        await verifier.verify(issuer.token("k1", sub="u-3"))  # k1 is withdrawn, and the set was just fetched again
    with pytest.raises(AuthError, match="not meant for this server"):
        await verifier.verify(issuer.token("k2", aud="someone-else"))


async def test_unknown_kids_do_not_hammer_the_issuer(issuer: FakeIssuer, store) -> None:  # type: ignore[no-untyped-def]
    verifier = verifier_for(issuer, store)
    await verifier.verify(issuer.token("k1"))
    issuer.new_key("made-up")
    for n in range(3):
        with pytest.raises(AuthError):
            await verifier.verify(issuer.token("made-up", sub=f"x{n}"))
    assert issuer.jwks_fetches == 1  # within the cooldown, no refetch


async def test_discovery_problems_are_auth_errors(issuer: FakeIssuer) -> None:
    issuer.redirect_to = "http://localhost:1/.well-known/openid-configuration"
    with pytest.raises(AuthError, match="another host"):
        await oidc.jwks_client(issuer.url)
    issuer.redirect_to = None
    with pytest.raises(AuthError, match="names issuer"):
        await oidc.jwks_client(issuer.url + "/")  # the document names the issuer without the slash
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(AuthError, match="cannot be reached"):
        await oidc.jwks_client(closed)
    client = await oidc.jwks_client(issuer.url)
    assert client.uri == f"{issuer.url}/keys"
