"""What a client reads before asking for a token: the SMART configuration, the server's key,
the CapabilityStatement's security element. None of it needs a token."""

from __future__ import annotations

import httpx
import jwt
import pytest
from fastapi import FastAPI

from server.auth.keys import server_key
from server.auth.oauth import OAUTH_URIS, SMART_SERVICE
from server.config import Settings

from .conftest import build_app, http_client

pytestmark = pytest.mark.anyio


async def test_smart_configuration(http: httpx.AsyncClient) -> None:
    r = await http.get("/fhir/.well-known/smart-configuration")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["issuer"] == "http://testserver"
    assert doc["token_endpoint"] == "http://testserver/auth/token"
    assert doc["authorization_endpoint"] == "http://testserver/auth/authorize"
    assert doc["revocation_endpoint"] == "http://testserver/auth/revoke"
    assert doc["jwks_uri"] == "http://testserver/auth/jwks"
    assert doc["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert doc["code_challenge_methods_supported"] == ["S256"] and doc["response_types_supported"] == ["code"]
    assert set(doc["grant_types_supported"]) == {"authorization_code", "client_credentials", "refresh_token"}
    assert {"launch-standalone", "client-public", "client-confidential-asymmetric", "context-standalone-patient", "permission-patient",
            "permission-user", "permission-v1", "permission-v2", "sso-openid-connect", "permission-offline"} <= set(doc["capabilities"])
    assert {"openid", "fhirUser", "launch/patient", "offline_access", "system/*.cruds"} <= set(doc["scopes_supported"])


async def test_urls_follow_the_request_base(app: FastAPI) -> None:
    async with http_client(app, "https://fhir.so-y-te.example") as c:
        doc = (await c.get("/fhir/.well-known/smart-configuration")).json()
        assert doc["token_endpoint"] == "https://fhir.so-y-te.example/auth/token"
        oidc = (await c.get("/.well-known/openid-configuration")).json()
        assert oidc["issuer"] == doc["issuer"] and oidc["jwks_uri"] == doc["jwks_uri"]


async def test_jwks_publishes_the_public_key_only(app: FastAPI, http: httpx.AsyncClient) -> None:
    body = (await http.get("/auth/jwks")).json()
    assert len(body["keys"]) == 1
    jwk = body["keys"][0]
    assert "d" not in jwk and jwk["kid"] == (await server_key(app.state.repo.store)).kid
    token = (await server_key(app.state.repo.store)).sign({"hello": "world"})
    assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]])["hello"] == "world"


async def test_capability_statement_security(store) -> None:  # type: ignore[no-untyped-def]
    app = build_app(store, Settings(cors_origins=("https://his.example.vn",)))
    async with http_client(app) as c:
        r = await c.get("/fhir/metadata")
    await app.state.audit.stop()
    assert r.status_code == 200
    security = r.json()["rest"][0]["security"]
    assert security["cors"] is True
    assert security["service"][0]["coding"][0] == {"system": SMART_SERVICE, "code": "SMART-on-FHIR", "display": "SMART-on-FHIR"}
    uris = {e["url"]: e["valueUri"] for e in next(x for x in security["extension"] if x["url"] == OAUTH_URIS)["extension"]}
    assert uris == {"token": "http://testserver/auth/token", "authorize": "http://testserver/auth/authorize"}  # what R4's oauth-uris defines


async def test_capability_statement_is_valid_fhir(http: httpx.AsyncClient) -> None:
    from fhir.resources.capabilitystatement import CapabilityStatement

    body = (await http.get("/fhir/metadata")).json()
    assert body["rest"][0]["security"]["cors"] is False
    CapabilityStatement.model_validate(body)
