"""The authorization server's HTTP side: ``/auth/*`` and the SMART configuration.

``router`` holds ``/auth/authorize``, ``/auth/token``, ``/auth/revoke``, ``/auth/logout`` and
``/auth/jwks``; ``well_known`` holds ``/fhir/.well-known/smart-configuration`` and
``/.well-known/openid-configuration``. Both are mounted without a prefix and need no token.
Forms are parsed here with ``parse_qsl`` (no multipart). URLs are built from the request's
base URL, so they are right behind whatever host name the client used.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ...auth import clients, oauth, users
from ...auth.keys import server_key
from ...auth.oauth import OAuthError, PageError, RedirectError
from ...auth.ratelimit import FailureLimiter
from ...auth.templates import login_page, message_page
from ...storage.base import Store

log = logging.getLogger("lienthong")

router = APIRouter()
well_known = APIRouter()

#: largest form body accepted on /auth (a sign-in form or a token request is far smaller)
MAX_FORM_BYTES = 32 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
#: the cookie that binds a sign-in form to the browser that loaded it (login CSRF)
FORM_COOKIE = "lt_login"
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
JSON_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class FormError(Exception):
    """A request body that is not a usable form."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


# ----------------------------------------------------------------------------- helpers


def _store(request: Request) -> Store:
    return request.app.state.repo.store


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limiter_of(request: Request) -> FailureLimiter:
    """The app's failure counter (one per app, in memory: see :mod:`server.auth.ratelimit`)."""
    limiter = getattr(request.app.state, "auth_limiter", None)
    if limiter is None:
        limiter = request.app.state.auth_limiter = FailureLimiter()
    return limiter


async def audit_auth(request: Request, action: str, success: bool, *, client_id: str | None = None, user: str | None = None, detail: str = "") -> None:
    """One AuditEvent per sign-in, token, revocation and logout, successful or not."""
    audit = getattr(request.app.state, "audit", None)
    if audit is None:
        return
    try:
        from ...audit.events import auth_event

        await audit.record(auth_event(action=action, success=success, source_ip=_ip(request), client_id=client_id, user=user, detail=detail))
    except Exception:  # as for every request: the audit trail never turns an answer into an error
        log.exception("audit of %s failed", action)


def _html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(text, status, headers={**HTML_HEADERS, **(headers or {})})


def _page_error(err: PageError) -> HTMLResponse:
    return _html(message_page("Không thể đăng nhập", "Cannot sign in", f"{err.vi} {err.en}", error=True), err.status)


def _oauth_error(err: OAuthError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(err.body(), err.status, headers={**JSON_HEADERS, **(headers or {})})


def _with_params(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` added to its query (a registered redirect URI may have one)."""
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _redirect(uri: str, params: dict[str, str]) -> RedirectResponse:
    return RedirectResponse(_with_params(uri, params), status_code=303, headers={"Cache-Control": "no-store"})


def _single(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """OAuth parameters must not repeat (RFC 6749 §3.1)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise FormError(f"the parameter {name} is given more than once")
        out[name] = value
    return out


async def read_form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != FORM_TYPE:
        raise FormError(f"the body must be {FORM_TYPE}")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_FORM_BYTES:
            raise FormError("the form is too large", 413)
    try:
        text = data.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        raise FormError("the form is not UTF-8 name=value pairs") from None
    return _single(pairs)


def _audiences(request: Request) -> tuple[str, ...]:
    """Values of ``aud`` that name this FHIR server."""
    return (f"{_root(request)}/fhir", request.app.state.settings.audience.rstrip("/"))


# ----------------------------------------------------------------------------- discovery


@well_known.get("/fhir/.well-known/smart-configuration")
async def smart_configuration(request: Request) -> JSONResponse:
    return JSONResponse(oauth.smart_configuration(_root(request)), headers={"Cache-Control": "public, max-age=300"})


@well_known.get("/.well-known/openid-configuration")
async def openid_configuration(request: Request) -> JSONResponse:
    return JSONResponse(oauth.openid_configuration(_root(request)), headers={"Cache-Control": "public, max-age=300"})


@router.get("/auth/jwks")
async def jwks(request: Request) -> JSONResponse:
    key = await server_key(_store(request))
    return JSONResponse({"keys": [key.jwk()]}, headers={"Cache-Control": "public, max-age=300"})


# ----------------------------------------------------------------------------- sign in


async def _login_form(request: Request, req: oauth.AuthorizeRequest, token: str, *, status: int = 200, error: str | None = None,
                      username: str = "", patient: str = "", headers: dict[str, str] | None = None) -> HTMLResponse:
    text = login_page(
        action="/auth/authorize", client="Liên Thông — không gian làm việc / workspace" if req.client.id == clients.WORKSPACE_ID else req.client.id, scope=req.scope, fields={**req.fields(), "csrf": token},
        username=username, error=error, ask_patient=req.wants_patient, patient=patient,
    )
    # The form's answer is a redirect to the app: browsers apply form-action to that redirect too,
    # so the app's own origin is allowed beside 'self' (and nothing else).
    target = urlsplit(req.redirect_uri)
    origin = f"{target.scheme}://{target.netloc}" if target.netloc else f"{target.scheme}:"
    csp = HTML_HEADERS["Content-Security-Policy"].replace("form-action 'self'", f"form-action 'self' {origin}")
    response = _html(text, status, {**(headers or {}), "Content-Security-Policy": csp})
    response.set_cookie(FORM_COOKIE, token, max_age=oauth.LOGIN_TTL, path="/auth", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@router.get("/auth/authorize")
async def authorize_page(request: Request) -> Response:
    store = _store(request)
    try:
        params = _single(list(request.query_params.multi_items()))
        req = await oauth.check_authorize(store, params, _audiences(request), _root(request))
    except FormError as err:
        return _page_error(PageError("Yêu cầu không hợp lệ.", err.description.capitalize() + "."))
    except PageError as err:
        return _page_error(err)
    except RedirectError as err:
        return _redirect(params["redirect_uri"], {"error": err.error, "error_description": err.description, **_state(params)})
    return await _login_form(request, req, await oauth.new_form_token(store, req.client.id))


def _state(params: dict[str, str]) -> dict[str, str]:
    return {"state": params["state"]} if params.get("state") else {}


@router.post("/auth/authorize")
async def authorize_submit(request: Request) -> Response:
    store = _store(request)
    settings = request.app.state.settings
    try:
        form = await read_form(request)
        req = await oauth.check_authorize(store, form, _audiences(request), _root(request))
    except FormError as err:
        return _page_error(PageError("Yêu cầu không hợp lệ.", err.description.capitalize() + ".", err.status))
    except PageError as err:
        return _page_error(err)
    except RedirectError as err:
        return _redirect(form["redirect_uri"], {"error": err.error, "error_description": err.description, **_state(form)})
    token = form.get("csrf", "")
    cookie = request.cookies.get(FORM_COOKIE, "")
    if not (token and cookie and oauth.same(token, cookie) and await oauth.form_token_valid(store, token, req.client.id)):
        await audit_auth(request, "login", False, client_id=req.client.id, user=form.get("username") or None,
                     detail="refused: the sign-in form expired or was not loaded by this browser (CSRF check)")
        return _page_error(PageError("Phiên đăng nhập đã hết hạn.", "This sign-in form has expired or was not opened in this browser; start again from the application."))
    state = {"state": req.state}
    username = form.get("username", "").strip()
    if form.get("action") == "cancel":
        await oauth.use_form_token(store, token)
        await audit_auth(request, "login", False, client_id=req.client.id, user=username or None, detail="cancelled by the user")
        return _redirect(req.redirect_uri, {"error": "access_denied", "error_description": "the user cancelled the sign-in", **state})

    patient = form.get("patient", "").strip()
    again = {"username": username, "patient": patient}
    if not username or not form.get("password"):
        return await _login_form(request, req, token, status=400, error="Hãy nhập tên đăng nhập và mật khẩu. / Enter the username and password.", **again)
    key = ("login", _ip(request), username.lower())
    limiter = limiter_of(request)
    wait = limiter.retry_after(key)
    if wait is not None:
        await audit_auth(request, "login", False, client_id=req.client.id, user=username, detail=f"refused: too many failed sign-ins, locked for {wait} s")
        error = f"Quá nhiều lần đăng nhập sai; hãy thử lại sau {wait} giây. / Too many failed sign-ins; try again in {wait} seconds."
        return await _login_form(request, req, token, status=429, error=error, headers={"Retry-After": str(wait)}, **again)
    user = await users.check_password(store, username, form["password"])
    if user is None:
        limiter.failed(key)
        await audit_auth(request, "login", False, client_id=req.client.id, user=username, detail="wrong username or password")
        return await _login_form(request, req, token, status=401, error="Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.", **again)
    limiter.succeeded(key)
    if req.wants_patient:
        problem = oauth.check_patient_id(patient)
        if problem is None:
            found = await store.current("Patient", patient)
            problem = None if found is not None and not found.deleted else "Không có bệnh nhân với mã này. / No patient has this id."
        if problem is not None:
            return await _login_form(request, req, token, status=400, error=problem, **again)
    await audit_auth(request, "login", True, client_id=req.client.id, user=user.name, detail=f"signed in for scope {req.scope}" + (f"; patient {patient}" if req.wants_patient else ""))
    await oauth.use_form_token(store, token)
    try:
        code = await oauth.new_code(store, settings, req, user, patient if req.wants_patient else None)
    except OAuthError as err:
        return _redirect(req.redirect_uri, {"error": err.error, "error_description": err.description, **state})
    response = _redirect(req.redirect_uri, {"code": code, **state})
    response.delete_cookie(FORM_COOKIE, path="/auth")
    return response


# ----------------------------------------------------------------------------- tokens


@router.post("/auth/token")
async def token(request: Request) -> Response:
    store = _store(request)
    settings = request.app.state.settings
    grant_type = client_id = None
    limit_key = None
    try:
        form = await read_form(request)
        grant_type = form.get("grant_type")
        client_id = form.get("client_id")
        if grant_type == "client_credentials":
            client_id = clients.assertion_issuer(form.get("client_assertion", "")) or client_id
            limit_key = ("client", _ip(request), client_id or "")
            wait = limiter_of(request).retry_after(limit_key)
            if wait is not None:
                err = OAuthError("invalid_client", f"too many failed authentications; try again in {wait} seconds", 429)
                await audit_auth(request, "token", False, client_id=client_id, detail=f"refused ({grant_type}): too many failed authentications")
                return _oauth_error(err, {"Retry-After": str(wait)})
            audiences = list(dict.fromkeys([f"{_root(request)}/auth/token", str(request.url).split("?")[0]]))
            issued = await oauth.client_credentials(store, settings, form, audiences)
        elif grant_type == "authorization_code":
            issued = await oauth.exchange_code(store, settings, form, _root(request))
        elif grant_type == "refresh_token":
            issued = await oauth.refresh(store, settings, form, _root(request))
        elif not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported (use one of {', '.join(oauth.GRANT_TYPES)})")
    except FormError as err:
        await audit_auth(request, "token", False, client_id=client_id, detail=f"refused: {err.description}")
        return _oauth_error(OAuthError("invalid_request", err.description, err.status))
    except OAuthError as err:
        if err.error == "invalid_client" and limit_key is not None:
            limiter_of(request).failed(limit_key)
        await audit_auth(request, "token", False, client_id=client_id, detail=f"refused ({grant_type or 'no grant_type'}): {err.error}: {err.description}")
        return _oauth_error(err)
    if limit_key is not None:
        limiter_of(request).succeeded(limit_key)
    detail = f"issued ({grant_type}): scope {issued.scope}" + ("; refresh token" if "refresh_token" in issued.body else "")
    await audit_auth(request, "token", True, client_id=issued.client_id, user=issued.user, detail=detail)
    return JSONResponse(issued.body, headers=JSON_HEADERS)


@router.post("/auth/revoke")
async def revoke(request: Request) -> Response:
    """RFC 7009: 200 whether or not the token was known; access tokens expire on their own."""
    store = _store(request)
    try:
        form = await read_form(request)
        token_value = form.get("token")
        if not token_value:
            raise OAuthError("invalid_request", "token is required")
    except FormError as err:
        return _oauth_error(OAuthError("invalid_request", err.description, err.status))
    except OAuthError as err:
        return _oauth_error(err)
    client_id = form.get("client_id") or None
    if token_value.count(".") == 2 and form.get("token_type_hint") != "refresh_token":
        ttl = request.app.state.settings.access_token_ttl
        err = OAuthError("unsupported_token_type", f"access tokens cannot be revoked; they expire within {ttl} seconds. Revoke the refresh token.")
        await audit_auth(request, "revoke", False, client_id=client_id, detail="refused: an access token")
        return _oauth_error(err)
    record = await oauth.revoke(store, token_value, client_id)
    if record is None:
        await audit_auth(request, "revoke", False, client_id=client_id, detail="no such refresh token (or another client's); nothing revoked")
    else:
        await audit_auth(request, "revoke", True, client_id=record["client_id"], user=record.get("user"), detail="refresh token revoked")
    return Response(status_code=200, headers=JSON_HEADERS)


@router.api_route("/auth/logout", methods=["GET", "POST"])
async def logout(request: Request) -> Response:
    """Revokes the given refresh token; then back to the client (a registered redirect URI
    only) or a short page."""
    store = _store(request)
    try:
        params = await read_form(request) if request.method == "POST" else _single(list(request.query_params.multi_items()))
    except FormError as err:
        return _page_error(PageError("Yêu cầu không hợp lệ.", err.description.capitalize() + ".", err.status))
    client_id = params.get("client_id") or None
    record = await oauth.revoke(store, params["token"], client_id) if params.get("token") else None
    client_id = client_id or (record or {}).get("client_id")
    user = (record or {}).get("user")
    await audit_auth(request, "logout", True, client_id=client_id, user=user, detail="signed out; refresh token revoked" if record else "signed out; no refresh token revoked")
    target = params.get("post_logout_redirect_uri")
    client = await clients.get_client(store, client_id) if client_id else None
    if target and client is not None and any(oauth.same(target, uri) for uri in client.redirect_uris):
        response: Response = _redirect(target, _state(params))
    else:
        response = _html(message_page("Đã đăng xuất", "Signed out", "Bạn đã đăng xuất; có thể đóng cửa sổ này. You are signed out; you may close this window."))
    response.delete_cookie(FORM_COOKIE, path="/auth")
    return response
