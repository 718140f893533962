"""The sign-in page in a real browser (headless Chromium): a doctor signs in, the app gets its code.

Runs against `lienthong serve` over TCP; the app's redirect URI is a small HTTP server on
loopback that keeps the query it was sent. Screenshots (desktop and 360 px) are written to
``$LIENTHONG_SCREENSHOTS`` when set, to be looked at. Chromium is Debian's (``.ci/run``
installs it); without it this test fails rather than being skipped.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import secrets
import shutil
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.support.live_server import cli, free_port, live_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class _Callback(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).seen.append(self.path)
        body = b"<!doctype html><title>app</title><p>signed in</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_callback():  # type: ignore[no-untyped-def]
    _Callback.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback", _Callback.seen
    server.shutdown()


def test_a_doctor_signs_in_with_a_browser(tmp_path: Path, app_callback) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    redirect, seen = app_callback
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    assert cli("clients", "add", "workspace", "--redirect-uri", redirect, "--scope", "user/*.rs openid fhirUser launch/patient", "--store", url).returncode == 0
    added = cli("users", "add", "bs.lan", "--role", "doctor", "--fhir-user", "Practitioner/bs-lan", "--password-stdin", "--store", url, stdin="mat-khau-dai-1\n")
    assert added.returncode == 0, added.stderr
    shots = Path(os.environ.get("LIENTHONG_SCREENSHOTS") or tmp_path)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with live_server(url) as root:
        token = cli("token", "--scope", "system/*.cruds", "--store", url).stdout.strip()
        httpx.put(f"{root}/fhir/Patient/bn-1", json={"resourceType": "Patient", "id": "bn-1"}, headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        query = urlencode({"response_type": "code", "client_id": "workspace", "redirect_uri": redirect, "state": "s-42",
                           "scope": "user/*.rs openid fhirUser launch/patient", "code_challenge": challenge, "code_challenge_method": "S256"})
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"])
            try:
                for width, name in ((360, "login-360.png"), (1280, "login-desktop.png")):
                    page = browser.new_page(viewport={"width": width, "height": 800})
                    page.goto(f"{root}/auth/authorize?{query}")
                    assert "Đăng nhập" in page.title()
                    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
                    page.screenshot(path=str(shots / name), full_page=True)
                    page.close()
                page = browser.new_page()
                page.goto(f"{root}/auth/authorize?{query}")
                page.fill("#username", "bs.lan")
                page.fill("#password", "sai-mat-khau-1")
                page.fill("#patient", "bn-1")
                page.click("button[value=login]")
                assert page.locator("[role=alert]").count() == 1  # a wrong password is said on the page
                page.screenshot(path=str(shots / "login-error.png"), full_page=True)
                page.fill("#password", "mat-khau-dai-1")
                page.fill("#patient", "bn-1")
                page.click("button[value=login]")
                page.wait_for_url(f"{redirect}*")
            finally:
                browser.close()
        arrived = [path for path in seen if path.startswith("/callback")]  # the browser also asks for /favicon.ico
        assert len(arrived) == 1
        got = parse_qs(urlsplit(arrived[0]).query)
        assert got["state"] == ["s-42"]
        answer = httpx.post(f"{root}/auth/token", data={"grant_type": "authorization_code", "code": got["code"][0], "redirect_uri": redirect,
                                                      "client_id": "workspace", "code_verifier": verifier})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["patient"] == "bn-1" and "id_token" in body
        read = httpx.get(f"{root}/fhir/Patient/bn-1", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert read.status_code == 200
