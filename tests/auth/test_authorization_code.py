"""Authorization code + PKCE for people with local accounts: the login page, the code, the
token exchange (authlib as the client), refresh rotation, revocation and logout."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from fastapi import FastAPI

from server.auth import clients, users
from server.auth.tokens import Principal, Verifier, issue

from .conftest import BASE, REDIRECT, TOKEN_URL, pkce

pytestmark = pytest.mark.anyio

AUTHORIZE = f"{BASE}/auth/authorize"
PASSWORD = "correct horse battery"
APP_SCOPE = "patient/*.rs user/*.cruds user/AuditEvent.rs openid fhirUser launch/patient offline_access"


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""  # type: ignore[index]
            if a.get("type") == "hidden":
                self.hidden[a["name"]] = a.get("value") or ""  # type: ignore[index]


def inputs(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


async def setup(app: FastAPI, role: str = "doctor", *, scope: str = APP_SCOPE, fhir_user: str | None = "Practitioner/123") -> None:
    store = app.state.repo.store
    await clients.add_public(store, "app1", [REDIRECT, "http://127.0.0.1:8765/cb"], scope)
    await users.add_user(store, "bs.an", role, PASSWORD, fhir_user)


async def make_patient(app: FastAPI, http: httpx.AsyncClient) -> str:
    token, _ = await issue(app.state.repo.store, app.state.settings, Principal(scope="system/*.cruds", client_id="setup"))
    r = await http.post("/fhir/Patient", json={"resourceType": "Patient", "name": [{"family": "Nguyễn"}]}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def authorize_url(challenge: str, **params: str) -> str:
    query = {"response_type": "code", "client_id": "app1", "redirect_uri": REDIRECT, "scope": "user/*.rs", "state": "s",
             "code_challenge": challenge, "code_challenge_method": "S256", **params}
    return "/auth/authorize?" + str(httpx.QueryParams(query))


def public_client(app: FastAPI, scope: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        "app1", redirect_uri=REDIRECT, scope=scope, code_challenge_method="S256", token_endpoint_auth_method="none",
        transport=httpx.ASGITransport(app=app), base_url=BASE,
    )


async def sign_in(http: httpx.AsyncClient, url: str, *, password: str = PASSWORD, patient: str | None = None, action: str = "login") -> httpx.Response:
    """Load the login page, then post it as a browser would."""
    page = await http.get(url)
    assert page.status_code == 200, page.text
    form = inputs(page.text)
    data = {**form.hidden, "username": "bs.an", "password": password, "action": action}
    if patient is not None:
        data["patient"] = patient
    return await http.post("/auth/authorize", data=data)


def redirected(r: httpx.Response) -> dict[str, str]:
    assert r.status_code in (302, 303), r.text
    location = r.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def test_code_flow_end_to_end(app: FastAPI, http: httpx.AsyncClient, audit_log) -> None:  # type: ignore[no-untyped-def]
    await setup(app)
    patient = await make_patient(app, http)
    verifier, _ = pkce()
    async with public_client(app, "patient/*.read user/Patient.rs user/AuditEvent.rs openid fhirUser launch/patient offline_access") as client:
        url, state = client.create_authorization_url(AUTHORIZE, code_verifier=verifier, aud=f"{BASE}/fhir", nonce="n-123")

        page = await http.get(url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        # the form may be sent to this server only, and its answer redirect to the app's origin only
        assert page.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https://app.example; frame-ancestors 'none'"
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["cache-control"] == "no-store"
        form = inputs(page.text)
        assert {"username", "password", "patient", "csrf", "state", "code_challenge"} <= set(form.fields)
        assert "Đăng nhập" in page.text and "Sign in" in page.text and "Patient id" in page.text

        r = await http.post("/auth/authorize", data={**form.hidden, "username": "bs.an", "password": PASSWORD, "patient": patient, "action": "login"})
        params = redirected(r)
        assert params["state"] == state and params["code"]
        token = await client.fetch_token(TOKEN_URL, authorization_response=r.headers["location"], code_verifier=verifier)

        # a doctor never gets the audit trail, whatever the app asks for
        assert token["scope"] == "patient/*.rs user/Patient.rs openid fhirUser launch/patient offline_access"
        assert token["patient"] == patient
        access = await Verifier(app.state.settings, app.state.repo.store).verify(token["access_token"])
        assert (access.user, access.role, access.patient, access.client_id, access.fhir_user) == ("bs.an", "doctor", patient, "app1", "Practitioner/123")
        assert not access.can("AuditEvent", "r")

        keys = (await http.get("/auth/jwks")).json()["keys"]
        claims = jwt.decode(token["id_token"], jwt.PyJWK(keys[0]).key, algorithms=["ES256"], audience="app1", issuer=BASE)
        assert claims["fhirUser"] == f"{BASE}/fhir/Practitioner/123"
        assert claims["sub"] == "bs.an" and claims["nonce"] == "n-123"

        # the code is one-time
        with pytest.raises(OAuthError) as err:
            await client.fetch_token(TOKEN_URL, authorization_response=r.headers["location"], code_verifier=verifier)
        assert err.value.error == "invalid_grant"

        # refresh rotation: the old refresh token is spent
        first = token["refresh_token"]
        renewed = await client.refresh_token(TOKEN_URL, refresh_token=first)
        assert renewed["refresh_token"] != first and renewed["patient"] == patient
        with pytest.raises(OAuthError) as err:
            await client.refresh_token(TOKEN_URL, refresh_token=first)
        assert err.value.error == "invalid_grant"

    # the token reads the patient's data and nothing else's
    bearer = {"Authorization": f"Bearer {renewed['access_token']}"}
    assert (await http.get(f"/fhir/Patient/{patient}", headers=bearer)).status_code == 200

    # logout revokes the refresh token and shows a page (no redirect URI given)
    out = await http.get("/auth/logout", params={"token": renewed["refresh_token"], "client_id": "app1"})
    assert out.status_code == 200 and "Signed out" in out.text
    assert out.headers["content-security-policy"].startswith("default-src 'none'")
    r = await http.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"], "client_id": "app1"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"

    assert audit_log.actions() == [("login", True), ("token", True), ("token", False), ("token", True), ("token", False), ("logout", True), ("token", False)]
    assert audit_log.events[0]["user"] == "bs.an" and audit_log.events[0]["client_id"] == "app1"


async def test_admin_gets_the_audit_trail_and_no_refresh_without_offline_access(app: FastAPI, http: httpx.AsyncClient) -> None:
    await setup(app, "admin", fhir_user=None)
    verifier, challenge = pkce()
    r = await sign_in(http, authorize_url(challenge, scope="user/*.rs user/AuditEvent.rs openid fhirUser"))
    code = redirected(r)["code"]
    r = await http.post("/auth/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "app1", "code_verifier": verifier})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "user/*.rs user/AuditEvent.rs openid fhirUser"
    assert "refresh_token" not in body and "patient" not in body
    assert r.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert "fhirUser" not in claims  # the account has none
    access = await Verifier(app.state.settings, app.state.repo.store).verify(body["access_token"])
    assert access.role == "admin" and access.can("AuditEvent", "r") and access.can("AuditEvent", "s")


async def test_pkce_verifier_and_redirect_uri_must_match(app: FastAPI, http: httpx.AsyncClient) -> None:
    await setup(app)
    verifier, challenge = pkce()
    code = redirected(await sign_in(http, authorize_url(challenge)))["code"]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "app1"}
    r = await http.post("/auth/token", data={**exchange, "code_verifier": pkce()[0]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant" and "code_verifier" in r.json()["error_description"]
    r = await http.post("/auth/token", data={**exchange, "code_verifier": verifier})  # the failed try spent the code
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await http.post("/auth/token", data={**exchange, "client_id": "nobody", "code_verifier": verifier})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await http.post("/auth/token", data={"grant_type": "authorization_code", "client_id": "app1"})
    assert r.json()["error"] == "invalid_request"


async def test_bad_requests_are_shown_not_redirected(app: FastAPI, http: httpx.AsyncClient) -> None:
    await clients.add_public(app.state.repo.store, "app1", [REDIRECT], "user/*.rs")
    _, challenge = pkce()
    good = {"response_type": "code", "client_id": "app1", "redirect_uri": REDIRECT, "scope": "user/*.rs", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}
    for bad in ({"client_id": "nobody"}, {"redirect_uri": "https://evil.example/cb"}, {"redirect_uri": REDIRECT + "/x"}):
        r = await http.get("/auth/authorize", params={**good, **bad})
        assert r.status_code == 400 and "location" not in r.headers
        assert r.headers["content-type"].startswith("text/html") and "Cannot sign in" in r.text
        assert "evil.example" not in r.text and "Traceback" not in r.text
    # with a trusted redirect URI, the client hears about the rest
    for bad, error in (({"code_challenge_method": "plain"}, "invalid_request"), ({"code_challenge": ""}, "invalid_request"),
                       ({"response_type": "token"}, "unsupported_response_type"), ({"scope": "user/Patient.frob"}, "invalid_scope"),
                       ({"scope": "system/*.rs"}, "invalid_scope"), ({"aud": "https://other.example/fhir"}, "invalid_request")):
        params = redirected(await http.get("/auth/authorize", params={**good, **bad}))
        assert params["error"] == error and params["state"] == "s"
    r = await http.get("/auth/authorize?" + str(httpx.QueryParams(good)) + "&state=again")
    assert r.status_code == 400 and "more than once" in r.text


async def test_csrf_token_and_cookie_are_required(app: FastAPI, http: httpx.AsyncClient) -> None:
    await clients.add_public(app.state.repo.store, "app1", [REDIRECT], "user/*.rs")
    _, challenge = pkce()
    query = {"response_type": "code", "client_id": "app1", "redirect_uri": REDIRECT, "scope": "user/*.rs", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}
    page = await http.get("/auth/authorize", params=query)
    hidden = inputs(page.text).hidden
    data = {**hidden, "username": "bs.an", "password": PASSWORD, "action": "login"}
    r = await http.post("/auth/authorize", data={**data, "csrf": "forged"})
    assert r.status_code == 400 and "expired" in r.text
    http.cookies.clear()  # another browser posting a token it fetched for itself (login CSRF)
    r = await http.post("/auth/authorize", data=data)
    assert r.status_code == 400 and "location" not in r.headers


async def test_cancel_and_wrong_password(app: FastAPI, http: httpx.AsyncClient, audit_log) -> None:  # type: ignore[no-untyped-def]
    await setup(app)
    _, challenge = pkce()
    url = authorize_url(challenge, state="s9")
    params = redirected(await sign_in(http, url, action="cancel"))
    assert params == {"error": "access_denied", "error_description": "the user cancelled the sign-in", "state": "s9"}
    r = await sign_in(http, url, password="wrong password!")
    assert r.status_code == 401 and "Wrong username or password" in r.text and "location" not in r.headers
    assert re.search(r'name="username" value="bs.an"', r.text)
    assert audit_log.actions() == [("login", False), ("login", False)]
    assert audit_log.events[1]["user"] == "bs.an" and "wrong" in audit_log.events[1]["detail"]


async def test_launch_patient_needs_an_existing_patient(app: FastAPI, http: httpx.AsyncClient) -> None:
    await setup(app)
    _, challenge = pkce()
    url = authorize_url(challenge, scope="patient/*.rs launch/patient")
    r = await sign_in(http, url, patient="no-such-patient")
    assert r.status_code == 400 and "No patient has this id" in r.text
    r = await sign_in(http, url, patient="<script>")
    assert r.status_code == 400 and "<script>" not in r.text


async def test_revocation_endpoint(app: FastAPI, http: httpx.AsyncClient, audit_log) -> None:  # type: ignore[no-untyped-def]
    await setup(app)
    verifier, challenge = pkce()
    url = authorize_url(challenge, scope="user/*.rs offline_access")
    code = redirected(await sign_in(http, url))["code"]
    body = (await http.post("/auth/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "app1", "code_verifier": verifier})).json()
    refresh = body["refresh_token"]
    # another client cannot revoke it, and is not told whether it exists
    assert (await http.post("/auth/revoke", data={"token": refresh, "client_id": "other"})).status_code == 200
    r = await http.post("/auth/revoke", data={"token": body["access_token"], "client_id": "app1"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_token_type"
    assert (await http.post("/auth/revoke", data={"token": refresh, "client_id": "app1"})).status_code == 200
    r = await http.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "app1"})
    assert r.json()["error"] == "invalid_grant"
    assert (await http.post("/auth/revoke", data={})).json()["error"] == "invalid_request"
    revokes = [(a, s) for a, s in audit_log.actions() if a == "revoke"]
    assert revokes == [("revoke", False), ("revoke", False), ("revoke", True)]


async def test_logout_redirects_only_to_a_registered_uri(app: FastAPI, http: httpx.AsyncClient) -> None:
    await clients.add_public(app.state.repo.store, "app1", [REDIRECT], "user/*.rs")
    r = await http.get("/auth/logout", params={"client_id": "app1", "post_logout_redirect_uri": REDIRECT, "state": "bye"})
    assert r.status_code in (302, 303) and r.headers["location"] == f"{REDIRECT}?state=bye"
    r = await http.post("/auth/logout", data={"client_id": "app1", "post_logout_redirect_uri": "https://evil.example/"})
    assert r.status_code == 200 and "location" not in r.headers and "Signed out" in r.text
