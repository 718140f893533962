"""An external OpenID Connect issuer's signing keys (a province's identity provider).

The issuer's discovery document names its JWKS; PyJWKClient then keeps the key set for
:data:`LIFESPAN` seconds and fetches it again when a token names a ``kid`` it does not
hold (at most once per :data:`REFRESH_COOLDOWN`), which is how a rotated key is picked up.
Single keys are not cached beyond the key set on purpose: a key the issuer withdraws
stops verifying once the cached set expires.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import jwt

from .tokens import AuthError

#: seconds the issuer's key set is kept
LIFESPAN = 300.0
#: least seconds between two fetches caused by unknown key ids (tokens with made-up kids
#: must not turn this server into a load generator against the issuer)
REFRESH_COOLDOWN = 10.0
TIMEOUT = 5.0
_MAX_REDIRECTS = 3


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


async def discovery(issuer: str, *, timeout: float = TIMEOUT) -> dict[str, Any]:
    """``{issuer}/.well-known/openid-configuration``, following redirects on the same host only."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    origin = _origin(url)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        for _ in range(_MAX_REDIRECTS + 1):
            response = await client.get(url, headers={"Accept": "application/json"})
            if not response.is_redirect:
                break
            url = urljoin(url, response.headers.get("location", ""))
            if _origin(url) != origin:
                raise AuthError(f"the OpenID issuer's discovery document redirects to another host ({_origin(url)[1]}); refused")
        else:
            raise AuthError("the OpenID issuer's discovery document redirects too often")
    if response.status_code != 200:
        raise AuthError(f"the OpenID issuer's discovery document answered HTTP {response.status_code}")
    try:
        doc = response.json()
    except ValueError:
        raise AuthError("the OpenID issuer's discovery document is not JSON") from None
    if not isinstance(doc, dict):
        raise AuthError("the OpenID issuer's discovery document is not a JSON object")
    if doc.get("issuer") != issuer:
        # OpenID Connect Discovery §4.3: a document naming another issuer is not this issuer's
        raise AuthError(f"the discovery document names issuer {doc.get('issuer')!r}, not {issuer!r}")
    return doc


async def jwks_client(issuer: str) -> jwt.PyJWKClient:
    """A key client on the issuer's ``jwks_uri`` (raises :class:`AuthError` if the issuer
    cannot be reached or describes itself wrongly, so the request gets a 401, not a 500)."""
    try:
        doc = await discovery(issuer)
    except httpx.HTTPError as err:
        raise AuthError(f"the OpenID issuer {issuer!r} cannot be reached ({type(err).__name__})") from None
    jwks_uri = doc.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise AuthError("the OpenID issuer's discovery document has no jwks_uri")
    scheme = urlsplit(jwks_uri).scheme
    if scheme not in ("http", "https") or (scheme == "http" and _origin(issuer)[0] == "https"):
        raise AuthError(f"the OpenID issuer's jwks_uri {jwks_uri!r} must be an https URL")
    return jwt.PyJWKClient(jwks_uri, cache_keys=False, cache_jwk_set=True, lifespan=LIFESPAN, timeout=TIMEOUT, cooldown_duration=REFRESH_COOLDOWN)
