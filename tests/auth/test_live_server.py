"""The whole Backend Services path against a real `lienthong serve` over TCP: a vendor registered
with the command line, authlib's OAuth client getting a token, the token used on FHIR routes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc.jwk import ECKey

from tests.support.live_server import cli, live_server

from .conftest import client_key
from .test_backend_services import ShortLivedJWT

@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'live.db'}"
    key = client_key("ES384")
    jwks = tmp_path / "his-a.jwks.json"
    jwks.write_text(json.dumps({"keys": [key.public_jwk]}))
    added = cli("clients", "add", "his-a", "--jwks", str(jwks), "--scope", "system/*.cruds", "--facility", "92001", "--store", url)
    assert added.returncode == 0, added.stderr
    with live_server(url) as root:
        yield root, key


def test_backend_services_over_tcp(server) -> None:  # type: ignore[no-untyped-def]
    root, key = server
    config = httpx.get(f"{root}/fhir/.well-known/smart-configuration").json()
    token_url = config["token_endpoint"]
    assert token_url == f"{root}/auth/token"
    method = ShortLivedJWT(token_url, alg="ES384", headers={"kid": key.kid})
    with OAuth2Client("his-a", ECKey.import_key(key.private_jwk), token_endpoint_auth_method=method, scope="system/*.cruds") as oauth:
        token = oauth.fetch_token(token_url, grant_type="client_credentials")
    assert token["scope"] == "system/*.cruds"
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    with httpx.Client(base_url=f"{root}/fhir/", headers=auth) as fhir:
        created = fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": "Võ"}]})
        assert created.status_code == 201
        assert fhir.get(f"Patient/{created.json()['id']}").status_code == 200
        assert fhir.get("AuditEvent").status_code == 403  # *.cruds does not reach the audit trail
        foreign = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
                   "identifier": [{"system": "https://lienthong.dev/fhir/sid/bhyt-episode", "value": "79024/LK1"}]}
        assert fhir.post("Encounter", json=foreign).status_code == 403  # registered for 92001 only
    assert httpx.get(f"{root}/fhir/Patient").status_code == 401
    stale = httpx.get(f"{root}/fhir/Patient", headers={"Authorization": "Bearer " + token["access_token"][:-4] + "AAAA"})
    assert stale.status_code == 401 and "signature" in stale.json()["issue"][0]["diagnostics"]
