"""The door of the server: who is asking (bearer tokens), safe response headers, the audit record.

A pure ASGI middleware, so it costs one function call per request, not a task. For every
``/fhir`` path except the public ones (the CapabilityStatement, the SMART configuration, the
API's OpenAPI description and its documentation page) it turns the ``Authorization: Bearer`` token into an :class:`~server.auth.access.Access` on
``request.state.access``, or answers 401 with an OperationOutcome and ``WWW-Authenticate``.
With authorization off (local development only) every request gets :data:`FULL`.
After the response it hands what the request did to the audit trail (for ``/fhir``, and for the
pages of the web workspace that read data with a signed-in session's token).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from .. import jsonio
from ..auth.access import FULL
from ..auth.tokens import AuthError, Verifier
from ..config import Settings
from ..fhir.outcome import Issue, operation_outcome

log = logging.getLogger("lienthong")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

#: ``/fhir`` paths anyone may read: what a client needs to find out how to get a token
PUBLIC_PATHS = frozenset({"/fhir/metadata", "/fhir/.well-known/smart-configuration", "/fhir/openapi.json", "/fhir/docs"})

_BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
#: on every response that may carry health data: nothing kept by browsers or proxies
_NO_STORE = (b"cache-control", b"no-store")
_HTML_CSP = (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'")
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def is_protected(path: str, method: str = "GET", query: bytes = b"") -> bool:
    """Whether a request needs a token: every ``/fhir`` path but the public ones, and but the
    bare base URL read with no query (it only points to the landing page or the metadata)."""
    if path in ("/fhir", "/fhir/") and method in ("GET", "HEAD") and not query:
        return False
    return (path == "/fhir" or path.startswith("/fhir/")) and path not in PUBLIC_PATHS


class SecurityMiddleware:
    def __init__(self, app: Callable[..., Awaitable[None]], *, settings: Settings, verifier: Verifier, finish: Callable[[Scope, int], Awaitable[None]] | None = None) -> None:
        self.app = app
        self.settings = settings
        self.verifier = verifier
        self.finish = finish

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        tls = scope.get("scheme") == "https"

        async def send_secured(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [h for h in _BASE_HEADERS if h[0] not in names]
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if b"cache-control" not in names:
                    extra.append(_NO_STORE)
                if b"content-security-policy" not in names:
                    extra.append(_HTML_CSP if ctype.startswith(b"text/html") else _API_CSP)
                if tls:
                    extra.append(_HSTS)
                message = {**message, "headers": headers + extra}
            await send(message)

        path = scope["path"]
        protected = is_protected(path, scope["method"], scope.get("query_string", b""))
        if protected:
            state = scope.setdefault("state", {})
            if not self.settings.auth:
                state["access"] = FULL
            else:
                try:
                    state["access"] = await self.verifier.verify(_bearer(scope))
                except AuthError as err:
                    await _unauthorized(send_secured, err)
                    if self.finish is not None:
                        state["auth_failure"] = err.reason
                        await self.finish(scope, 401)
                    return
        try:
            await self.app(scope, receive, send_secured)
        finally:
            # a workspace page (/app/) that showed data marked itself: its session stood for a token
            if (protected or scope.get("state", {}).get("workspace")) and self.finish is not None:
                try:
                    await self.finish(scope, status)
                except Exception:  # the audit trail must never turn a served request into an error
                    log.exception("audit of %s %s failed", scope.get("method"), path)


def _bearer(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() != "bearer" or not token.strip():
                raise AuthError("the Authorization header must be 'Bearer <access token>'", "invalid_request")
            return token.strip()
    raise AuthError("this request needs an access token: send 'Authorization: Bearer <token>' (see /fhir/.well-known/smart-configuration)", "invalid_request")


async def _unauthorized(send: Send, err: AuthError) -> None:
    body = jsonio.dumps(operation_outcome([Issue("login", f"Not authenticated: {err.reason}")]))
    description = err.reason.replace('"', "'")
    challenge = f'Bearer realm="lienthong", error="{err.error}", error_description="{description}"'
    if err.error == "invalid_request" and "needs an access token" in err.reason:
        challenge = 'Bearer realm="lienthong"'  # RFC 6750 §3.1: no error code when no token was sent
    await send({
        "type": "http.response.start",
        "status": 401,
        "headers": [
            (b"content-type", b"application/fhir+json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", challenge.encode("latin-1", "replace")),
        ],
    })
    await send({"type": "http.response.body", "body": body})
