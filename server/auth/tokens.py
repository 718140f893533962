"""Access tokens: issued by the built-in authorization server, or by a configured OpenID issuer.

Our own tokens are JWTs signed with the store's :class:`~server.auth.keys.ServerKey`. The
claims carry what an :class:`~server.auth.access.Access` needs (scopes, patient, user, role,
facilities), so verifying a token needs no store lookup. A verified token is remembered
until it expires, so a client's repeated requests pay for the signature check once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from ..config import Settings
from ..storage.base import Store
from .access import Access
from .keys import ALGORITHM, ServerKey, server_key
from .scopes import ScopeError, parse_scopes

#: signature algorithms accepted from an external issuer
EXTERNAL_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384"]
_CACHE_SIZE = 10_000


class AuthError(Exception):
    """The request is not authenticated (401): ``reason`` is safe to show the client."""

    def __init__(self, reason: str, error: str = "invalid_token") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a token is issued to, and in which context."""

    scope: str
    client_id: str | None = None
    user: str | None = None
    role: str | None = None
    patient: str | None = None
    fhir_user: str | None = None
    facilities: tuple[str, ...] | None = None


def claims_for(settings: Settings, p: Principal, ttl: int | None = None) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.token_issuer,
        "aud": settings.audience,
        "sub": f"user:{p.user}" if p.user else f"client:{p.client_id or 'operator'}",
        "iat": now,
        "exp": now + (ttl if ttl is not None else settings.access_token_ttl),
        "jti": uuid.uuid4().hex,
        "scope": p.scope,
    }
    for name, value in (("client_id", p.client_id), ("lt_user", p.user), ("lt_role", p.role), ("patient", p.patient), ("fhirUser", p.fhir_user)):
        if value:
            claims[name] = value
    if p.facilities is not None:
        claims["lt_facilities"] = list(p.facilities)
    return claims


async def issue(store: Store, settings: Settings, principal: Principal, ttl: int | None = None) -> tuple[str, dict[str, Any]]:
    """A signed access token for ``principal`` and its claims."""
    key = await server_key(store)
    claims = claims_for(settings, principal, ttl)
    return key.sign(claims), claims


def access_of(claims: dict[str, Any], *, external: bool = False) -> Access:
    """The :class:`Access` a verified token's claims grant."""
    scope = claims.get("scope")
    if scope is None and isinstance(claims.get("scp"), list):
        scope = " ".join(str(s) for s in claims["scp"])
    scope = scope if isinstance(scope, str) else ""
    try:
        grants, _ = parse_scopes(scope)
    except ScopeError as err:
        raise AuthError(f"the token's scope is not understood: {err}") from None
    facilities = claims.get("lt_facilities")
    user = claims.get("lt_user") or (claims.get("preferred_username") or claims.get("sub") if external else None)
    role = claims.get("lt_role")
    if external and role is None:
        roles = claims.get("roles") or (claims.get("realm_access") or {}).get("roles") or []
        role = "admin" if "admin" in roles else ("doctor" if "doctor" in roles else None)
    notes = {"issuer": str(claims.get("iss"))}
    return Access(
        grants=tuple(grants),
        patient=claims.get("patient"),
        client_id=claims.get("client_id") or claims.get("azp"),
        user=user,
        role=role,
        fhir_user=claims.get("fhirUser"),
        facilities=frozenset(facilities) if isinstance(facilities, list) else None,
        token_id=claims.get("jti"),
        scope_text=scope,
        notes=notes,
    )


class Verifier:
    """Turns a bearer token into an :class:`Access`, or raises :class:`AuthError`."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._key: ServerKey | None = None
        self._cache: dict[str, tuple[Access, float]] = {}
        self._external: Any = None  # PyJWKClient of the configured issuer, made on first use

    async def key(self) -> ServerKey:
        if self._key is None:
            self._key = await server_key(self.store)
        return self._key

    async def verify(self, token: str) -> Access:
        hit = self._cache.get(token)
        if hit is not None:
            if hit[1] > time.time():
                return hit[0]
            del self._cache[token]
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("the bearer token is not a JWT") from None
        issuer = unverified.get("iss")
        if issuer == self.settings.token_issuer:
            claims = self._decode(token, (await self.key()).public, [ALGORITHM], self.settings.audience, issuer)
            access = access_of(claims)
        elif self.settings.oidc_issuer and issuer == self.settings.oidc_issuer:
            signing = await self._external_key(token)
            claims = self._decode(token, signing, EXTERNAL_ALGORITHMS, self.settings.oidc_audience or self.settings.audience, issuer)
            access = access_of(claims, external=True)
        else:
            raise AuthError(f"tokens from issuer {issuer!r} are not accepted here")
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[token] = (access, float(claims["exp"]))
        return access

    @staticmethod
    def _decode(token: str, key: Any, algorithms: list[str], audience: str, issuer: str) -> dict[str, Any]:
        try:
            return jwt.decode(token, key, algorithms=algorithms, audience=audience, issuer=issuer, options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise AuthError("the bearer token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(f"the bearer token is not meant for this server (audience must be {audience!r})") from None
        except jwt.InvalidSignatureError:
            raise AuthError("the bearer token's signature does not verify") from None
        except jwt.PyJWTError as err:
            raise AuthError(f"the bearer token is not valid: {err}") from None

    async def _external_key(self, token: str) -> Any:
        """The external issuer's key for this token, from its JWKS (cached; fetched again for an
        unknown ``kid``, which is how a rotated key is picked up)."""
        from .oidc import jwks_client

        if self._external is None:
            self._external = await jwks_client(self.settings.oidc_issuer or "")
        try:
            return (await asyncio.to_thread(self._external.get_signing_key_from_jwt, token)).key
        except jwt.PyJWKClientError as err:
            raise AuthError(f"no key of issuer {self.settings.oidc_issuer!r} verifies the token: {err}") from None
        except jwt.PyJWTError as err:
            raise AuthError(f"the bearer token is not valid: {err}") from None
