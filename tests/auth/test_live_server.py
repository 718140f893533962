"""The whole Backend Services path against a real `lienthong serve` over TCP: a vendor registered
with the command line, authlib's OAuth client getting a token, the token used on FHIR routes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc.jwk import ECKey

from .conftest import client_key
from .test_backend_services import ShortLivedJWT

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'live.db'}"
    key = client_key("ES384")
    jwks = tmp_path / "his-a.jwks.json"
    jwks.write_text(json.dumps({"keys": [key.public_jwk]}))
    added = _cli("clients", "add", "his-a", "--jwks", str(jwks), "--scope", "system/*.cruds", "--facility", "92001", "--store", url)
    assert added.returncode == 0, added.stderr
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store", url, "--log-level", "warning"],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{root}/fhir/metadata", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.2)
        yield root, key
    finally:
        proc.terminate()
        proc.wait(timeout=20)


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
