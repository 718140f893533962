"""Registered OAuth clients, and how a confidential client proves who it is.

Two kinds, kept as ``client`` records:

- **backend** (SMART Backend Services, an HIS vendor's system): no secret is shared; the
  client signs a short-lived JWT (``private_key_jwt``, RS384 or ES384) with a private key
  whose public half was registered as a JWKS. Facilities (MACSKCB codes) limit what it
  may write.
- **public** (a browser or mobile app, authorization code + PKCE): it holds no secret; the
  exact registered redirect URIs are what protects its codes.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import jwt

from ..storage.base import Store
from .scopes import ScopeError, parse_scopes

KIND = "client"
#: used assertion ids (``jti``), kept until the assertion expires
JTI_KIND = "client-jti"
#: signature algorithms SMART Backend Services requires servers to support
ALGORITHMS = ("RS384", "ES384")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: an assertion may live at most this long (SMART: exp no more than five minutes ahead)
MAX_ASSERTION_LIFETIME = 300
#: clock skew tolerated between the client and this server, in seconds
LEEWAY = 30

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
_FACILITY = re.compile(r"^[A-Za-z0-9\-]{1,32}$")
#: members of a JWK that only a private key has
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_CURVE = {"ES384": "P-384"}
_MIN_RSA_BITS = 2048
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob"})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class ClientError(ValueError):
    """A registration that cannot be accepted; the message says what to fix."""


class ClientAuthError(Exception):
    """A client assertion that does not authenticate the client (``invalid_client``)."""


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    kind: str  # "backend" or "public"
    scope: str
    jwks: dict[str, Any] | None = None
    facilities: tuple[str, ...] | None = None
    redirect_uris: tuple[str, ...] = ()
    created: str = ""

    @classmethod
    def of(cls, key: str, body: dict[str, Any]) -> "Client":
        facilities = body.get("facilities")
        return cls(
            id=key, kind=body["kind"], scope=body["scope"], jwks=body.get("jwks"),
            facilities=tuple(facilities) if isinstance(facilities, list) else None,
            redirect_uris=tuple(body.get("redirect_uris") or ()), created=body.get("created", ""),
        )

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "scope": self.scope, "created": self.created}
        if self.jwks is not None:
            out["jwks"] = self.jwks
        if self.facilities is not None:
            out["facilities"] = list(self.facilities)
        if self.redirect_uris:
            out["redirect_uris"] = list(self.redirect_uris)
        return out


# ----------------------------------------------------------------------------- registration


def check_id(client_id: str) -> str:
    if not _ID.match(client_id):
        raise ClientError(f"client id {client_id!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if client_id == WORKSPACE_ID:
        raise ClientError(f"client id {client_id!r} is the server's own web workspace; choose another")
    return client_id


def check_scope(scope: str) -> str:
    """The scope, normalised to single spaces; a registration needs at least one resource scope."""
    try:
        grants, _ = parse_scopes(scope)
    except ScopeError as err:
        raise ClientError(str(err)) from None
    if not grants:
        raise ClientError(f"scope {scope!r} has no resource scope (e.g. system/*.cruds, patient/*.rs)")
    return " ".join(scope.split())


def check_jwks(data: Any) -> dict[str, Any]:
    """A JWKS of public RS384/ES384 keys, each with a ``kid``; anything else is refused."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise ClientError('the JWKS must be a JSON object {"keys": [...]} with at least one key')
    seen: set[str] = set()
    keys = []
    for n, key in enumerate(data["keys"], 1):
        where = f"key {n}"
        if not isinstance(key, dict):
            raise ClientError(f"{where} is not a JSON object")
        kid = key.get("kid")
        where = f"key {n} (kid {kid!r})" if kid else where
        private = [m for m in _PRIVATE_MEMBERS if m in key]
        if private:
            raise ClientError(f"{where} is a PRIVATE key (it has {', '.join(private)}): register the public keys only, and keep the private key with the client")
        if not isinstance(kid, str) or not kid:
            raise ClientError(f"{where} has no 'kid': the client names its key in each assertion's header")
        if kid in seen:
            raise ClientError(f"{where}: the kid is used twice")
        seen.add(kid)
        alg = key.get("alg")
        if alg not in ALGORITHMS:
            raise ClientError(f"{where}: 'alg' is {alg!r}; only {' and '.join(ALGORITHMS)} keys are accepted (SMART Backend Services)")
        wrong_type = key.get("kty") != "RSA" if alg == "RS384" else (key.get("kty") != "EC" or key.get("crv") != _CURVE[alg])
        if wrong_type:
            raise ClientError(f"{where}: an {alg} key must be " + ("kty RSA" if alg == "RS384" else "kty EC with crv P-384"))
        if key.get("use") not in (None, "sig"):
            raise ClientError(f"{where}: 'use' is {key.get('use')!r}; a signing key has use 'sig'")
        try:
            parsed = jwt.PyJWK(key, algorithm=alg)
        except jwt.PyJWTError as err:
            raise ClientError(f"{where} is not a usable {alg} public key: {err}") from None
        if alg == "RS384" and parsed.key.key_size < _MIN_RSA_BITS:
            raise ClientError(f"{where}: RSA keys must have at least {_MIN_RSA_BITS} bits")
        keys.append(key)
    return {"keys": keys}


def check_redirect_uri(uri: str) -> str:
    """https; http on a loopback address only (a native app's local listener); or an app's own
    scheme (``vn.benhvien.app:/callback``). Never a fragment, never a script or data URL."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme or parts.fragment or (scheme in ("http", "https") and not parts.hostname):
        raise ClientError(f"redirect URI {uri!r} must be absolute (https://app.example/callback) and have no '#fragment'")
    if scheme in _UNSAFE_SCHEMES:
        raise ClientError(f"redirect URI {uri!r}: the scheme {scheme}: cannot receive a code")
    if scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ClientError(f"redirect URI {uri!r}: use https (plain http only for a loopback address such as http://127.0.0.1:PORT/callback)")
    return uri


def check_facility(code: str) -> str:
    if not _FACILITY.match(code):
        raise ClientError(f"facility {code!r} is not a facility code (MACSKCB: letters, digits, '-')")
    return code


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


async def add_backend(store: Store, client_id: str, jwks: Any, scope: str, facilities: list[str] | None = None) -> Client:
    """Register (or replace) a backend client."""
    client = Client(
        id=check_id(client_id), kind="backend", scope=check_scope(scope), jwks=check_jwks(jwks),
        facilities=tuple(check_facility(f) for f in facilities) if facilities else None, created=_now(),
    )
    await store.put_record(KIND, client.id, client.body())
    return client


async def add_public(store: Store, client_id: str, redirect_uris: list[str], scope: str) -> Client:
    """Register (or replace) a public client (authorization code + PKCE)."""
    if not redirect_uris:
        raise ClientError("a public client needs at least one --redirect-uri")
    client = Client(
        id=check_id(client_id), kind="public", scope=check_scope(scope),
        redirect_uris=tuple(dict.fromkeys(check_redirect_uri(u) for u in redirect_uris)), created=_now(),
    )
    await store.put_record(KIND, client.id, client.body())
    return client


#: the server's own web workspace (``/app/``): a public client every server has, whose one
#: redirect URI is ``/app/callback`` on the host the browser signs in on
WORKSPACE_ID = "lienthong-workspace"
WORKSPACE_SCOPE = "openid fhirUser online_access user/*.cruds"
WORKSPACE_CALLBACK = "/app/callback"


def workspace_client(root: str | None) -> Client:
    """The built-in workspace client; ``root`` is the base URL of the request it serves."""
    return Client(id=WORKSPACE_ID, kind="public", scope=WORKSPACE_SCOPE, redirect_uris=(root + WORKSPACE_CALLBACK,) if root else ())


async def get_client(store: Store, client_id: str, root: str | None = None) -> Client | None:
    """A registered client (or the built-in workspace, its redirect URI on ``root``)."""
    if client_id == WORKSPACE_ID:
        return workspace_client(root)
    if not client_id or not _ID.match(client_id):
        return None
    body = await store.get_record(KIND, client_id)
    return Client.of(client_id, body) if body is not None else None


async def list_clients(store: Store) -> list[Client]:
    return [Client.of(key, body) for key, body in await store.list_records(KIND)]


async def remove_client(store: Store, client_id: str) -> bool:
    return await store.take_record(KIND, client_id) is not None


# ----------------------------------------------------------------------------- authentication


def assertion_issuer(assertion: str) -> str | None:
    """The client an assertion claims to come from (unverified: only to find its keys)."""
    try:
        iss = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return iss if isinstance(iss, str) else None


def _keys_for(client: Client, alg: str, kid: str | None) -> list[Any]:
    out = []
    for key in (client.jwks or {}).get("keys", []):
        if key.get("alg") == alg and (kid is None or key.get("kid") == kid):
            out.append(jwt.PyJWK(key, algorithm=alg).key)
    return out


async def authenticate(store: Store, client: Client, assertion: str, audiences: list[str]) -> None:
    """Check a backend client's assertion (RFC 7523, SMART Backend Services); raises
    :class:`ClientAuthError` with a reason the client may see."""
    if client.kind != "backend" or not client.jwks:
        raise ClientAuthError(f"client {client.id!r} is not registered for private_key_jwt authentication")
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise ClientAuthError("client_assertion is not a JWT") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise ClientAuthError(f"client_assertion is signed with {alg!r}; use {' or '.join(ALGORITHMS)}")
    kid = header.get("kid")
    keys = _keys_for(client, alg, kid if isinstance(kid, str) else None)
    if not keys:
        raise ClientAuthError(f"no registered {alg} key of client {client.id!r} has kid {kid!r}")
    claims = None
    for key in keys:
        try:
            claims = jwt.decode(
                assertion, key, algorithms=[alg], audience=audiences, issuer=client.id, leeway=LEEWAY,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            raise ClientAuthError("client_assertion has expired") from None
        except jwt.InvalidAudienceError:
            raise ClientAuthError(f"client_assertion's aud must be the token endpoint URL {audiences[0]!r}") from None
        except jwt.InvalidIssuerError:
            raise ClientAuthError("client_assertion's iss must be the client_id") from None
        except jwt.PyJWTError as err:
            raise ClientAuthError(f"client_assertion is not valid: {err}") from None
    if claims is None:
        raise ClientAuthError(f"client_assertion's signature does not verify with the registered keys of client {client.id!r}")
    if claims["sub"] != client.id:
        raise ClientAuthError("client_assertion's sub must be the client_id")
    now = time.time()
    exp = int(claims["exp"])
    if exp - now > MAX_ASSERTION_LIFETIME + LEEWAY:
        raise ClientAuthError(f"client_assertion's exp is more than {MAX_ASSERTION_LIFETIME} seconds ahead")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise ClientAuthError("client_assertion's jti must be a string of at most 256 characters")
    await _use_jti(store, client.id, jti, exp + LEEWAY)


_uses = 0


async def _use_jti(store: Store, client_id: str, jti: str, until: int) -> None:
    """Remember ``jti`` until the assertion expires; a second use is a replay."""
    global _uses
    key = hashlib.sha256(f"{client_id}\n{jti}".encode()).hexdigest()
    if not await store.add_record(JTI_KIND, key, {"until": until}):
        old = await store.get_record(JTI_KIND, key)
        if old is None or old.get("until", 0) >= time.time():
            raise ClientAuthError("client_assertion's jti was used before (replay)")
        await store.put_record(JTI_KIND, key, {"until": until})
    _uses += 1
    if _uses % 200 == 0:  # now and then, forget ids whose assertions have expired
        await sweep(store, JTI_KIND)


async def sweep(store: Store, kind: str) -> int:
    """Forget the records of ``kind`` whose ``until`` has passed (assertion ids here; codes and
    refresh tokens in :mod:`oauth`); how many went."""
    now = time.time()
    gone = 0
    for key, body in await store.list_records(kind):
        if body.get("until", 0) < now and await store.take_record(kind, key) is not None:
            gone += 1
    return gone
