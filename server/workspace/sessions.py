"""Browser sessions of the workspace: a cookie naming a server-side record that holds the tokens.

The browser holds only a random session id (``lt_session``: HttpOnly, SameSite=Lax, Secure on
https, path ``/app``); the store keeps the record under the SHA-256 of that id, so a copy of
the store gives nobody a usable session. The record holds the access token the sign-in got
(the workspace sees exactly what that token may see: every page goes through the same guard
and audit trail as the FHIR API), the refresh token that renews it, and the session's CSRF
token, which every form of the workspace sends back.

A session ends when it is idle for ``settings.app_idle_ttl`` seconds, ``refresh_token_ttl``
seconds after sign-in whatever its activity (renewal rotates the refresh token, which alone
would let an active session live on), when its tokens can no longer be renewed (a removed
account, a narrower role), or on sign-out.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from ..auth.oauth import same, secret_key
from ..auth.tokens import AuthError, Verifier
from ..auth.access import Access
from ..config import Settings
from ..storage.base import Store

KIND = "app-session"
COOKIE = "lt_session"
COOKIE_PATH = "/app"
#: the last-seen time is written back at most this often (not on every page)
TOUCH_EVERY = 60
#: an access token is renewed when it has less than this many seconds left
RENEW_MARGIN = 30


@dataclass
class Session:
    """One signed-in browser: who, with which tokens, and its CSRF token."""

    key: str
    user: str
    provider: str
    access_token: str
    access_until: float
    refresh_token: str | None
    csrf: str
    created: float
    seen: float
    access: Access | None = None

    def body(self) -> dict[str, Any]:
        return {
            "user": self.user, "provider": self.provider, "access_token": self.access_token, "access_until": self.access_until,
            "refresh_token": self.refresh_token, "csrf": self.csrf, "created": self.created, "seen": self.seen,
        }

    @classmethod
    def of(cls, key: str, body: dict[str, Any]) -> "Session":
        return cls(key=key, user=body["user"], provider=body["provider"], access_token=body["access_token"],
                   access_until=float(body["access_until"]), refresh_token=body.get("refresh_token"), csrf=body["csrf"],
                   created=float(body["created"]), seen=float(body["seen"]))  # records keep JSON numbers as decimals

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and same(token or "", self.csrf)


async def start(store: Store, *, user: str, provider: str, access_token: str, expires_in: int, refresh_token: str | None) -> tuple[str, Session]:
    """A new session; returns the cookie value (the only copy of the session id) and the session."""
    cookie = secrets.token_urlsafe(32)
    now = time.time()
    session = Session(secret_key(cookie), user, provider, access_token, now + expires_in, refresh_token, secrets.token_urlsafe(24), now, now)
    await store.put_record(KIND, session.key, session.body())
    return cookie, session


async def end(store: Store, cookie: str | None) -> Session | None:
    """Forget the session of ``cookie``; the record it had, if any."""
    if not cookie:
        return None
    body = await store.take_record(KIND, secret_key(cookie))
    return Session.of(secret_key(cookie), body) if body is not None else None


Renew = Any  # async (session) -> (access_token, expires_in, refresh_token) or None


async def resume(store: Store, settings: Settings, verifier: Verifier, cookie: str | None, renew: Renew) -> Session | None:
    """The live session of ``cookie`` with its :class:`Access`, or ``None`` (no session, idle
    too long, or its tokens can no longer be renewed: the record is then removed)."""
    if not cookie:
        return None
    key = secret_key(cookie)
    body = await store.get_record(KIND, key)
    if body is None:
        return None
    session = Session.of(key, body)
    now = time.time()
    if now - session.seen > settings.app_idle_ttl or now - session.created > settings.refresh_token_ttl:
        await store.take_record(KIND, key)  # idle too long, or older than a sign-in may last
        return None
    changed = now - session.seen >= TOUCH_EVERY
    if session.access_until - RENEW_MARGIN < now:
        renewed = await renew(session) if session.refresh_token else None
        if renewed is None:
            await store.take_record(KIND, key)
            return None
        session.access_token, expires_in, session.refresh_token = renewed
        session.access_until = now + expires_in
        changed = True
    try:
        session.access = await verifier.verify(session.access_token)
    except AuthError:
        await store.take_record(KIND, key)
        return None
    if changed:
        session.seen = now
        await store.put_record(KIND, key, session.body())
    return session
