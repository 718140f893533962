"""The OAuth 2.0 / SMART on FHIR grants, apart from HTTP: what is granted, to whom, for how long.

- ``client_credentials`` (SMART Backend Services): a backend client proves itself with a
  signed assertion; it gets the part of the asked scope its registration allows, and its
  facilities go into the token.
- ``authorization_code`` + PKCE (S256 only): a person signs in on the login page; the
  scope is what was asked ∩ what the client is registered for ∩ what the person's role
  allows. Codes are one-time (``take_record``) and live ``settings.code_ttl`` seconds.
- ``refresh_token``: issued only when ``offline_access`` or ``online_access`` is granted
  (SMART's rule; both behave alike here: ``settings.refresh_token_ttl`` seconds). Each use
  consumes it and hands out a new one (rotation); the account is looked up again, so a
  removed account or a narrower role ends the session at the next refresh.

Codes, refresh tokens and sign-in forms are records keyed by the SHA-256 of the secret, so
the store never holds a usable secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings
from ..storage.base import Store
from . import clients, users
from .clients import Client, ClientAuthError
from .keys import server_key
from .scopes import Grant, ScopeError, narrow, parse_scopes
from .tokens import Principal, issue

CODE_KIND = "auth-code"
REFRESH_KIND = "refresh-token"
LOGIN_KIND = "login-form"
#: seconds a sign-in form may stay open
LOGIN_TTL = 900

GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")
#: scopes other than resource scopes that a person's token may carry
USER_SCOPES = ("openid", "fhirUser", "profile", "launch/patient", "offline_access", "online_access")
REFRESH_SCOPES = ("offline_access", "online_access")
SMART_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_PATIENT_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_MAX_PARAM = 4096


class OAuthError(Exception):
    """An OAuth error answer (RFC 6749 §5.2): ``error`` code, a description the client may see."""

    def __init__(self, error: str, description: str, status: int | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status or (401 if error == "invalid_client" else 400)

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class PageError(Exception):
    """An authorization request that cannot be sent back to the client (unknown client, wrong
    redirect URI): shown on the page, never redirected (RFC 6749 §4.1.2.1)."""

    def __init__(self, vi: str, en: str, status: int = 400) -> None:
        super().__init__(en)
        self.vi = vi
        self.en = en
        self.status = status


class RedirectError(Exception):
    """An authorization request error the client hears about at its redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def secret_key(secret: str) -> str:
    """A record key for a secret (code, refresh token, form token): its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# ----------------------------------------------------------------------------- discovery


def endpoints(root: str) -> dict[str, str]:
    """The authorization server's URLs under ``root`` (the request's base URL, no slash at the end)."""
    return {
        "issuer": root,
        "fhir": f"{root}/fhir",
        "authorize": f"{root}/auth/authorize",
        "token": f"{root}/auth/token",
        "revoke": f"{root}/auth/revoke",
        "logout": f"{root}/auth/logout",
        "jwks": f"{root}/auth/jwks",
    }


def smart_configuration(root: str) -> dict[str, Any]:
    """``/fhir/.well-known/smart-configuration`` (SMART App Launch 2.x)."""
    urls = endpoints(root)
    return {
        "issuer": urls["issuer"],
        "jwks_uri": urls["jwks"],
        "authorization_endpoint": urls["authorize"],
        "token_endpoint": urls["token"],
        "revocation_endpoint": urls["revoke"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(clients.ALGORITHMS),
        "grant_types_supported": list(GRANT_TYPES),
        "scopes_supported": [
            *USER_SCOPES, "patient/*.cruds", "patient/*.rs", "patient/*.read", "patient/*.write",
            "user/*.cruds", "user/*.rs", "user/*.read", "user/*.write", "user/AuditEvent.rs",
            "system/*.cruds", "system/*.rs", "system/*.read", "system/*.write",
        ],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": [
            "launch-standalone", "client-public", "client-confidential-asymmetric", "context-standalone-patient",
            "permission-patient", "permission-user", "permission-v1", "permission-v2", "permission-offline",
            "permission-online", "sso-openid-connect",
        ],
    }


def openid_configuration(root: str) -> dict[str, Any]:
    """``/.well-known/openid-configuration``: where a client finds the key of our id_tokens."""
    urls = endpoints(root)
    return {
        "issuer": urls["issuer"],
        "authorization_endpoint": urls["authorize"],
        "token_endpoint": urls["token"],
        "revocation_endpoint": urls["revoke"],
        "end_session_endpoint": urls["logout"],
        "jwks_uri": urls["jwks"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(USER_SCOPES),
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser"],
    }


def security_element(root: str, cors: bool) -> dict[str, Any]:
    """The CapabilityStatement's ``rest[0].security``: SMART on FHIR, and where to get tokens."""
    urls = endpoints(root)
    return {
        "cors": cors,
        "service": [{
            "coding": [{"system": SMART_SERVICE, "code": "SMART-on-FHIR", "display": "SMART-on-FHIR"}],
            "text": "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)",
        }],
        "extension": [{
            "url": OAUTH_URIS,
            "extension": [
                {"url": "token", "valueUri": urls["token"]},
                {"url": "authorize", "valueUri": urls["authorize"]},
            ],  # R4's oauth-uris defines token, authorize, register, manage; revocation is in .well-known/smart-configuration
        }],
        "description": f"Bearer tokens from {urls['token']}; see {urls['fhir']}/.well-known/smart-configuration",
    }


# ----------------------------------------------------------------------------- scopes


def _parse(scope: str | None) -> tuple[list[Grant], list[str]]:
    if not scope or not scope.strip():
        raise OAuthError("invalid_scope", "scope is required (e.g. system/*.rs)")
    if len(scope) > _MAX_PARAM:
        raise OAuthError("invalid_scope", "scope is too long")
    try:
        return parse_scopes(scope)
    except ScopeError as err:
        raise OAuthError("invalid_scope", str(err)) from None


def scope_text(grants: list[Grant], others: list[str]) -> str:
    return " ".join([g.text for g in grants] + others)


def backend_scope(requested: str | None, client: Client) -> list[Grant]:
    """The requested resource scopes, narrowed to the registration; none left is ``invalid_scope``."""
    wanted, _ = _parse(requested)
    registered, _ = parse_scopes(client.scope)
    granted = narrow(wanted, registered)
    if not granted:
        raise OAuthError("invalid_scope", f"none of the requested scopes is allowed to client {client.id!r} (registered: {client.scope})")
    return granted


def user_scope(requested: str | None, client: Client, role: str) -> tuple[list[Grant], list[str]]:
    """The requested scopes ∩ the client's registration ∩ the role's allowance."""
    wanted, other = _parse(requested)
    registered, registered_other = parse_scopes(client.scope)
    granted = users.within_role(role, narrow(narrow(wanted, registered), users.allowed_grants(role)))
    if not granted:
        raise OAuthError("invalid_scope", f"none of the requested scopes is allowed to this application and role {role!r}")
    others = [s for s in dict.fromkeys(other) if s in USER_SCOPES and s in registered_other]
    return granted, others


# ----------------------------------------------------------------------------- authorization request


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    client: Client
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str
    nonce: str | None = None
    aud: str | None = None

    @property
    def wants_patient(self) -> bool:
        """``launch/patient`` asked for and allowed to the client: the form asks for a patient."""
        _, registered = parse_scopes(self.client.scope)
        return "launch/patient" in self.scope.split() and "launch/patient" in registered

    def fields(self) -> dict[str, str]:
        """The request, as the login form sends it back."""
        out = {
            "response_type": "code", "client_id": self.client.id, "redirect_uri": self.redirect_uri, "scope": self.scope,
            "state": self.state, "code_challenge": self.code_challenge, "code_challenge_method": "S256",
        }
        if self.nonce is not None:
            out["nonce"] = self.nonce
        if self.aud is not None:
            out["aud"] = self.aud
        return out


async def check_authorize(store: Store, params: dict[str, str], audiences: tuple[str, ...], root: str | None = None) -> AuthorizeRequest:
    """Validate an authorization request: :class:`PageError` while the redirect URI is not
    trusted yet, then :class:`RedirectError`. ``root``: the request's base URL (the built-in
    workspace client's redirect URI is on it)."""
    for name, value in params.items():
        if len(value) > _MAX_PARAM:
            raise PageError("Yêu cầu không hợp lệ.", f"The parameter {name} is too long.")
    client = await clients.get_client(store, params.get("client_id", ""), root)
    if client is None or client.kind != "public":
        raise PageError("Ứng dụng chưa được đăng ký.", "Unknown application: this client_id is not registered for sign-in.")
    redirect_uri = params.get("redirect_uri", "")
    if not any(same(redirect_uri, uri) for uri in client.redirect_uris):
        raise PageError("Địa chỉ chuyển hướng không hợp lệ.", "The redirect_uri is not one registered for this application.")
    if params.get("response_type") != "code":
        raise RedirectError("unsupported_response_type", "response_type must be code")
    state = params.get("state")
    if not state:
        raise RedirectError("invalid_request", "state is required")
    if params.get("code_challenge_method") != "S256" or not _VERIFIER.match(params.get("code_challenge", "")):
        raise RedirectError("invalid_request", "PKCE is required: code_challenge (43-128 characters) with code_challenge_method=S256")
    aud = params.get("aud")
    if aud is not None and aud.rstrip("/") not in audiences:
        raise RedirectError("invalid_request", f"aud {aud!r} is not a FHIR server this authorization server issues tokens for")
    scope = params.get("scope", "")
    try:
        wanted, _ = _parse(scope)
    except OAuthError as err:
        raise RedirectError(err.error, err.description) from None
    if not narrow(wanted, parse_scopes(client.scope)[0]):
        raise RedirectError("invalid_scope", "none of the requested resource scopes is allowed to this application")
    return AuthorizeRequest(client, redirect_uri, " ".join(scope.split()), state, params["code_challenge"], params.get("nonce"), aud)


def check_patient_id(patient: str) -> str | None:
    """A problem with a typed patient id, or ``None``."""
    if not patient:
        return "Hãy nhập mã bệnh nhân. / Enter the patient id."
    if not _PATIENT_ID.match(patient):
        return "Mã bệnh nhân không hợp lệ. / The patient id is not a FHIR id."
    return None


# ----------------------------------------------------------------------------- sign-in forms


async def new_form_token(store: Store, client_id: str) -> str:
    """The CSRF token of one sign-in form (kept until used or :data:`LOGIN_TTL`)."""
    token = secrets.token_urlsafe(32)
    await store.put_record(LOGIN_KIND, secret_key(token), {"client_id": client_id, "until": time.time() + LOGIN_TTL})
    await _sweep_now_and_then(store, LOGIN_KIND)
    return token


async def form_token_valid(store: Store, token: str, client_id: str) -> bool:
    body = await store.get_record(LOGIN_KIND, secret_key(token)) if token else None
    return body is not None and body.get("until", 0) >= time.time() and same(body.get("client_id", ""), client_id)


async def use_form_token(store: Store, token: str) -> None:
    await store.take_record(LOGIN_KIND, secret_key(token))


# ----------------------------------------------------------------------------- codes


async def new_code(store: Store, settings: Settings, req: AuthorizeRequest, user: users.User, patient: str | None) -> str:
    """A one-time authorization code for ``user``; the scope is decided here, at sign-in."""
    grants, others = user_scope(req.scope, req.client, user.role)
    if "launch/patient" in others and not patient:
        others.remove("launch/patient")
    code = secrets.token_urlsafe(32)
    await store.put_record(CODE_KIND, secret_key(code), {
        "client_id": req.client.id, "redirect_uri": req.redirect_uri, "challenge": req.code_challenge,
        "scope": scope_text(grants, others), "user": user.name, "patient": patient if "launch/patient" in others else None,
        "nonce": req.nonce, "auth_time": int(time.time()), "until": time.time() + settings.code_ttl,
    })
    await _sweep_now_and_then(store, CODE_KIND)
    return code


def pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return same(base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), challenge)


# ----------------------------------------------------------------------------- token endpoint


@dataclass
class Issued:
    """A token response, and who it went to (for the audit trail)."""

    body: dict[str, Any]
    client_id: str
    user: str | None = None
    scope: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _required(form: dict[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not form.get(n)]
    if missing:
        raise OAuthError("invalid_request", f"missing parameter{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    return [form[n] for n in names]


async def client_credentials(store: Store, settings: Settings, form: dict[str, str], audiences: list[str]) -> Issued:
    """SMART Backend Services: a signed assertion in, an access token out."""
    assertion_type, assertion = _required(form, "client_assertion_type", "client_assertion")
    if assertion_type != clients.ASSERTION_TYPE:
        raise OAuthError("invalid_client", f"client_assertion_type must be {clients.ASSERTION_TYPE}")
    client_id = clients.assertion_issuer(assertion)
    if client_id is None or (form.get("client_id") and form["client_id"] != client_id):
        raise OAuthError("invalid_client", "client_assertion is not a JWT whose iss is the client_id")
    client = await clients.get_client(store, client_id)
    if client is None:
        raise OAuthError("invalid_client", f"client {client_id!r} is not registered")
    try:
        await clients.authenticate(store, client, assertion, audiences)
    except ClientAuthError as err:
        raise OAuthError("invalid_client", str(err)) from None
    grants = backend_scope(form.get("scope"), client)
    principal = Principal(scope=scope_text(grants, []), client_id=client.id, facilities=client.facilities)
    token, claims = await issue(store, settings, principal)
    body = {"access_token": token, "token_type": "bearer", "expires_in": claims["exp"] - claims["iat"], "scope": principal.scope}
    return Issued(body, client.id, scope=principal.scope)


async def _public_client(store: Store, client_id: str) -> Client:
    client = await clients.get_client(store, client_id)
    if client is None or client.kind != "public":
        raise OAuthError("invalid_client", f"client {client_id!r} is not registered for the authorization code flow")
    return client


async def exchange_code(store: Store, settings: Settings, form: dict[str, str], issuer: str) -> Issued:
    """``authorization_code``: the code, the same redirect URI, the PKCE verifier."""
    code, redirect_uri, client_id, verifier = _required(form, "code", "redirect_uri", "client_id", "code_verifier")
    client = await _public_client(store, client_id)
    record = await store.take_record(CODE_KIND, secret_key(code))  # one use, even a failed one
    if record is None or record["until"] < time.time():
        raise OAuthError("invalid_grant", "the authorization code is unknown, used already or expired")
    if not same(record["client_id"], client.id) or not same(record["redirect_uri"], redirect_uri):
        raise OAuthError("invalid_grant", "the authorization code was issued to another client or redirect_uri")
    if not _VERIFIER.match(verifier) or not pkce_matches(verifier, record["challenge"]):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge (PKCE S256)")
    user = await users.get_user(store, record["user"])
    if user is None:
        raise OAuthError("invalid_grant", "the account that signed in no longer exists")
    grants, others = parse_scopes(record["scope"])
    grants = users.within_role(user.role, narrow(grants, users.allowed_grants(user.role)))  # the role may have changed since
    if not grants:
        raise OAuthError("invalid_grant", "the account's role no longer allows the scope signed in for")
    return await _tokens(store, settings, client, user, grants, others, record.get("patient"), issuer,
                         nonce=record.get("nonce"), auth_time=record.get("auth_time"))


async def refresh(store: Store, settings: Settings, form: dict[str, str], issuer: str) -> Issued:
    """``refresh_token``: consumed, and a new one issued (rotation)."""
    token, client_id = _required(form, "refresh_token", "client_id")
    client = await _public_client(store, client_id)
    record = await store.take_record(REFRESH_KIND, secret_key(token))
    if record is None or record["until"] < time.time():
        raise OAuthError("invalid_grant", "the refresh token is unknown, used already, revoked or expired")
    if not same(record["client_id"], client.id):
        raise OAuthError("invalid_grant", "the refresh token was issued to another client")
    user = await users.get_user(store, record["user"])
    if user is None:
        raise OAuthError("invalid_grant", "the account of this session no longer exists")
    grants, others = parse_scopes(record["scope"])
    if form.get("scope"):  # a refresh may ask for less, never more
        wanted, wanted_other = _parse(form["scope"])
        grants = narrow(wanted, grants)
        others = [s for s in others if s in wanted_other]
    grants = users.within_role(user.role, narrow(grants, users.allowed_grants(user.role)))
    if not grants:
        raise OAuthError("invalid_scope", "nothing of the session's scope is left for this account's role")
    return await _tokens(store, settings, client, user, grants, others, record.get("patient"), issuer, auth_time=record.get("auth_time"))


async def _tokens(store: Store, settings: Settings, client: Client, user: users.User, grants: list[Grant], others: list[str],
                  patient: str | None, issuer: str, *, nonce: str | None = None, auth_time: int | None = None) -> Issued:
    """Access token, and as the scopes say: ``patient``, a rotated refresh token, an ``id_token``."""
    patient = patient if "launch/patient" in others else None
    text = scope_text(grants, others)
    principal = Principal(scope=text, client_id=client.id, user=user.name, role=user.role, patient=patient, fhir_user=user.fhir_user)
    token, claims = await issue(store, settings, principal)
    body: dict[str, Any] = {"access_token": token, "token_type": "bearer", "expires_in": claims["exp"] - claims["iat"], "scope": text}
    if patient:
        body["patient"] = patient
    if any(s in others for s in REFRESH_SCOPES):
        refresh_token = secrets.token_urlsafe(32)
        await store.put_record(REFRESH_KIND, secret_key(refresh_token), {
            "client_id": client.id, "user": user.name, "scope": text, "patient": patient,
            "auth_time": auth_time, "until": time.time() + settings.refresh_token_ttl,
        })
        await _sweep_now_and_then(store, REFRESH_KIND)
        body["refresh_token"] = refresh_token
    if "openid" in others:
        body["id_token"] = await id_token(store, settings, issuer, client.id, user, "fhirUser" in others, nonce, auth_time)
    return Issued(body, client.id, user.name, text)


async def id_token(store: Store, settings: Settings, issuer: str, client_id: str, user: users.User, with_fhir_user: bool,
                   nonce: str | None, auth_time: int | None) -> str:
    """An OpenID Connect id_token signed with the server key (``fhirUser`` as an absolute URL)."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": issuer, "sub": user.name, "aud": client_id, "iat": now, "exp": now + settings.access_token_ttl}
    if auth_time:
        claims["auth_time"] = auth_time
    if nonce:
        claims["nonce"] = nonce
    if with_fhir_user and user.fhir_user:
        claims["fhirUser"] = f"{issuer}/fhir/{user.fhir_user}"
    return (await server_key(store)).sign(claims)


# ----------------------------------------------------------------------------- revocation


async def revoke(store: Store, token: str, client_id: str | None) -> dict[str, Any] | None:
    """Revoke a refresh token (RFC 7009); its record when one was revoked. A token of another
    client is left alone (and, as for an unknown token, the answer does not tell)."""
    key = secret_key(token)
    record = await store.get_record(REFRESH_KIND, key)
    if record is None or (client_id and not same(record.get("client_id", ""), client_id)):
        return None
    return await store.take_record(REFRESH_KIND, key)


# ----------------------------------------------------------------------------- housekeeping

_writes: dict[str, int] = {}


async def _sweep_now_and_then(store: Store, kind: str, every: int = 200) -> None:
    """Every ``every`` writes of ``kind`` in this process, drop its expired records."""
    _writes[kind] = _writes.get(kind, 0) + 1
    if _writes[kind] % every == 0:
        await clients.sweep(store, kind)
