"""The app with the authorization server's routes, an HTTP client on it, keys and accounts.

Every test using ``app`` runs on both stores (through the ``store`` fixture). Argon2 hashes
cost tens of milliseconds, so accounts are made only by the tests that sign in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import warnings
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI

from server.app import create_app
from server.config import Settings

import authlib.deprecate  # noqa: E402,F401 - first: it installs its own "always" filter

with warnings.catch_warnings():  # authlib warns that it runs on httpx rather than httpx2: not our concern
    warnings.simplefilter("ignore")
    import authlib.integrations.httpx_client  # noqa: F401

BASE = "http://testserver"
TOKEN_URL = f"{BASE}/auth/token"
REDIRECT = "https://app.example/callback"


def build_app(store: Any, settings: Settings | None = None) -> FastAPI:
    return create_app(settings or Settings(), store)


@pytest.fixture
async def app(store) -> AsyncIterator[FastAPI]:  # type: ignore[no-untyped-def]
    application = build_app(store)
    yield application
    audit = getattr(application.state, "audit", None)
    if audit is not None and hasattr(audit, "stop"):
        await audit.stop()


def http_client(app: FastAPI, base: str = BASE) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=base)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as c:
        yield c


# ----------------------------------------------------------------------------- audit


@dataclass
class AuditLog:
    events: list[dict[str, Any]]

    def actions(self) -> list[tuple[str, bool]]:
        return [(e["action"], e["success"]) for e in self.events]


@pytest.fixture
def audit_log(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuditLog]:
    """Records the ``auth_event`` calls instead of writing AuditEvents."""
    log = AuditLog([])

    def auth_event(**kwargs: Any) -> dict[str, Any]:
        assert set(kwargs) == {"action", "success", "source_ip", "client_id", "user", "detail"}
        assert kwargs["action"] in ("login", "token", "logout", "revoke")
        return kwargs

    import server.audit.events as events

    monkeypatch.setattr(events, "auth_event", auth_event)

    class Recorder:
        enabled = False  # the FHIR requests' own AuditEvents are not what these tests look at

        async def record(self, event: dict[str, Any]) -> None:
            log.events.append(event)

    real = getattr(app.state, "audit", None)
    app.state.audit = Recorder()
    yield log
    if real is not None:
        app.state.audit = real


# ----------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class ClientKey:
    alg: str
    kid: str
    private_jwk: dict[str, Any]
    public_jwk: dict[str, Any]
    private: Any


def _make_key(alg: str) -> ClientKey:
    if alg == "RS384":
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        to_jwk = jwt.algorithms.RSAAlgorithm.to_jwk
    else:
        private = ec.generate_private_key(ec.SECP384R1())
        to_jwk = jwt.algorithms.ECAlgorithm.to_jwk
    kid = f"{alg.lower()}-{secrets.token_hex(4)}"
    public_jwk = {**json.loads(to_jwk(private.public_key())), "kid": kid, "alg": alg, "use": "sig"}
    private_jwk = {**json.loads(to_jwk(private)), "kid": kid, "alg": alg}
    return ClientKey(alg, kid, private_jwk, public_jwk, private)


_KEYS: dict[str, ClientKey] = {}


def client_key(alg: str, name: str = "a") -> ClientKey:
    """One key per (alg, name) for the whole run: making RSA keys is slow."""
    if (alg, name) not in _KEYS:
        _KEYS[(alg, name)] = _make_key(alg)  # type: ignore[index]
    return _KEYS[(alg, name)]  # type: ignore[index]


def assertion(key: ClientKey, client_id: str, *, aud: str = TOKEN_URL, lifetime: int = 240, jti: str | None = None, **claims: Any) -> str:
    """A client assertion as SMART Backend Services describes it."""
    import time

    now = int(time.time())
    body = {"iss": client_id, "sub": client_id, "aud": aud, "exp": now + lifetime, "iat": now, "jti": jti or secrets.token_hex(16), **claims}
    return jwt.encode(body, key.private, algorithm=key.alg, headers={"kid": key.kid})


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge
