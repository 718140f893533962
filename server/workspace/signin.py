"""How a person signs in to the workspace: the authorization-code flow with PKCE, against an identity provider.

The workspace is an OAuth client like any other. Two providers:

- ``local``: this server's own authorization server (``/auth/authorize``, local accounts, the
  built-in client :data:`~server.auth.clients.WORKSPACE_ID`). The code is exchanged and the
  tokens renewed in-process, through the same functions ``/auth/token`` uses.
- ``oidc``: the configured external OpenID Connect issuer (``settings.oidc_issuer``), when the
  workspace has a client id there (``settings.workspace_oidc_client``). Its endpoints come from
  its discovery document; its access tokens are the ones the FHIR API accepts from it.

A sign-in in progress is a record under the SHA-256 of its ``state``, holding the PKCE verifier
and where to go afterwards; the same ``state`` sits in a cookie of the browser that started it,
so a code cannot be injected into another browser's session (login CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from ..auth import oauth
from ..auth.clients import WORKSPACE_CALLBACK, WORKSPACE_ID, WORKSPACE_SCOPE
from ..auth.oauth import OAuthError, secret_key
from ..auth.tokens import AuthError, Verifier
from ..config import Settings
from ..storage.base import Store
from .sessions import Session

KIND = "app-login"
COOKIE = "lt_app_login"
#: seconds a started sign-in may take
TTL = 900
TIMEOUT = 10.0


class SignInError(Exception):
    """A sign-in that cannot be completed; ``vi``/``en`` are shown to the person."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi = vi
        self.en = en


@dataclass(frozen=True, slots=True)
class Tokens:
    user: str
    access_token: str
    expires_in: int
    refresh_token: str | None


class Provider(Protocol):
    name: str
    label: str

    async def authorize_url(self, root: str, state: str, challenge: str) -> str: ...

    async def exchange(self, root: str, code: str, verifier: str) -> Tokens: ...

    async def renew(self, root: str, session: Session) -> tuple[str, int, str | None] | None: ...

    async def revoke(self, session: Session) -> None: ...


def callback(root: str) -> str:
    return root + WORKSPACE_CALLBACK


class LocalProvider:
    """This server's authorization server and its local accounts."""

    name = "local"
    label = "Tài khoản Liên Thông / Liên Thông account"

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    async def authorize_url(self, root: str, state: str, challenge: str) -> str:
        return f"{root}/auth/authorize?" + urlencode({
            "response_type": "code", "client_id": WORKSPACE_ID, "redirect_uri": callback(root), "scope": WORKSPACE_SCOPE,
            "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
        })

    async def exchange(self, root: str, code: str, verifier: str) -> Tokens:
        form = {"code": code, "redirect_uri": callback(root), "client_id": WORKSPACE_ID, "code_verifier": verifier}
        try:
            issued = await oauth.exchange_code(self.store, self.settings, form, root)
        except OAuthError as err:
            raise SignInError("Không hoàn tất được đăng nhập.", f"The sign-in could not be completed: {err.description}.") from None
        body = issued.body
        return Tokens(issued.user or "", body["access_token"], int(body["expires_in"]), body.get("refresh_token"))

    async def renew(self, root: str, session: Session) -> tuple[str, int, str | None] | None:
        try:
            issued = await oauth.refresh(self.store, self.settings, {"refresh_token": session.refresh_token or "", "client_id": WORKSPACE_ID}, root)
        except OAuthError:
            return None
        return issued.body["access_token"], int(issued.body["expires_in"]), issued.body.get("refresh_token")

    async def revoke(self, session: Session) -> None:
        if session.refresh_token:
            await oauth.revoke(self.store, session.refresh_token, WORKSPACE_ID)


class OidcProvider:
    """The configured external OpenID Connect issuer (a province's identity provider)."""

    name = "oidc"

    def __init__(self, settings: Settings, verifier: Verifier) -> None:
        self.issuer = settings.oidc_issuer or ""
        self.client_id = settings.workspace_oidc_client or ""
        self.verifier = verifier
        self.label = f"Nhà cung cấp định danh / Identity provider ({self.issuer})"
        self._doc: dict[str, Any] | None = None

    async def _endpoints(self) -> dict[str, Any]:
        if self._doc is None:
            from ..auth.oidc import discovery

            try:
                self._doc = await discovery(self.issuer)
            except (AuthError, httpx.HTTPError) as err:
                raise SignInError("Không liên lạc được nhà cung cấp định danh.", f"The identity provider cannot be reached: {err}.") from None
        return self._doc

    async def authorize_url(self, root: str, state: str, challenge: str) -> str:
        doc = await self._endpoints()
        if not isinstance(doc.get("authorization_endpoint"), str):
            raise SignInError("Nhà cung cấp định danh không hỗ trợ đăng nhập này.", "The identity provider names no authorization_endpoint.")
        query = urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": callback(root), "scope": WORKSPACE_SCOPE,
            "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
        })
        return f"{doc['authorization_endpoint']}{'&' if '?' in doc['authorization_endpoint'] else '?'}{query}"

    async def _token(self, form: dict[str, str]) -> dict[str, Any]:
        doc = await self._endpoints()
        endpoint = doc.get("token_endpoint")
        if not isinstance(endpoint, str):
            raise SignInError("Nhà cung cấp định danh không có token endpoint.", "The identity provider names no token_endpoint.")
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
            response = await client.post(endpoint, data={**form, "client_id": self.client_id}, headers={"Accept": "application/json"})
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise SignInError("Nhà cung cấp định danh từ chối đăng nhập.", f"The identity provider refused the sign-in (HTTP {response.status_code}{': ' + str(reason) if reason else ''}).")
        return body

    async def exchange(self, root: str, code: str, verifier: str) -> Tokens:
        try:
            body = await self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": callback(root), "code_verifier": verifier})
            access = await self.verifier.verify(body["access_token"])
        except httpx.HTTPError as err:
            raise SignInError("Không liên lạc được nhà cung cấp định danh.", f"The identity provider cannot be reached: {type(err).__name__}.") from None
        except AuthError as err:
            raise SignInError("Token của nhà cung cấp định danh không dùng được ở đây.", f"The identity provider's token is not accepted here: {err.reason}.") from None
        return Tokens(access.user or "", body["access_token"], _seconds(body.get("expires_in")), _text(body.get("refresh_token")))

    async def renew(self, root: str, session: Session) -> tuple[str, int, str | None] | None:
        try:
            body = await self._token({"grant_type": "refresh_token", "refresh_token": session.refresh_token or ""})
        except (SignInError, httpx.HTTPError):
            return None
        return body["access_token"], _seconds(body.get("expires_in")), _text(body.get("refresh_token")) or session.refresh_token

    async def revoke(self, session: Session) -> None:
        doc = self._doc or {}
        endpoint = doc.get("revocation_endpoint")
        if session.refresh_token and isinstance(endpoint, str):
            try:
                async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                    await client.post(endpoint, data={"token": session.refresh_token, "token_type_hint": "refresh_token", "client_id": self.client_id})
            except httpx.HTTPError:
                pass  # the session is gone here whatever the provider says


def _seconds(value: Any, default: int = 300) -> int:
    """A token answer's ``expires_in``: a provider's odd value is its default, not an error page."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def providers(store: Store, settings: Settings, verifier: Verifier) -> dict[str, Provider]:
    """The providers this server offers, local first."""
    out: dict[str, Provider] = {"local": LocalProvider(store, settings)}
    if settings.oidc_issuer and settings.workspace_oidc_client:
        out["oidc"] = OidcProvider(settings, verifier)
    return out


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of the workspace only (no open redirect)."""
    if target and target.startswith("/app/") and not target.startswith("//") and "\\" not in target and "\n" not in target:
        return target
    return "/app/"


async def begin(store: Store, provider: Provider, root: str, next_path: str | None) -> tuple[str, str]:
    """Start a sign-in: the provider's authorization URL, and the ``state`` for the browser's cookie."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    url = await provider.authorize_url(root, state, _challenge(verifier))
    await store.put_record(KIND, secret_key(state), {"provider": provider.name, "verifier": verifier, "next": safe_next(next_path), "until": time.time() + TTL})
    return url, state


async def finish(store: Store, provider_of: dict[str, Provider], root: str, state: str, cookie_state: str | None, code: str) -> tuple[Provider, Tokens, str]:
    """Complete a sign-in: the provider, its tokens and where to go."""
    if not state or not cookie_state or not oauth.same(state, cookie_state):
        raise SignInError("Phiên đăng nhập không khớp với trình duyệt này.", "This sign-in was not started in this browser; start again.")
    record = await store.take_record(KIND, secret_key(state))
    if record is None or float(record["until"]) < time.time():
        raise SignInError("Phiên đăng nhập đã hết hạn.", "This sign-in has expired or was used already; start again.")
    provider = provider_of.get(record["provider"])
    if provider is None:
        raise SignInError("Nhà cung cấp định danh không còn được cấu hình.", "The identity provider of this sign-in is no longer configured.")
    tokens = await provider.exchange(root, code, record["verifier"])
    return provider, tokens, record["next"]
