"""``/app/login``, ``/app/callback``, ``/app/logout``: signing in to the workspace and out of it.

``/app/login`` starts the authorization-code flow with the one provider there is (this server's
local accounts) or offers the choice when an external identity provider is configured;
``/app/callback`` completes it and starts a session; ``/app/logout`` (a form with the session's
CSRF token) ends it and revokes its refresh token. Each step is audited as the authorization
server's own steps are.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ...auth.clients import WORKSPACE_ID
from ...http.routers.auth import audit_auth
from .. import sessions, signin
from ..forms import read_form
from ..context import frame_of, html, providers_of, root_of, settings_of, store_of, with_lang
from ..layout import h, message, page

router = APIRouter()


def _cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/app/login")
async def login(request: Request) -> Response:
    frame = frame_of(request)
    providers = providers_of(request)
    chosen = request.query_params.get("provider")
    next_path = request.query_params.get("next")
    notice = ""
    if request.query_params.get("expired"):
        notice = f'<p class="notice" role="status">{frame.t("expired")}</p>'
    elif request.query_params.get("bye"):
        notice = f'<p class="notice" role="status">{frame.t("signed_out")}</p>'
    if chosen not in providers and (len(providers) > 1 or notice):
        # a choice to make, or something to say first: a page with one link per provider
        links = "".join(
            f'<li><a class="button" href="/app/login?{h(_query(name, next_path))}">{frame.t("signin_with")} {h(p.label)}</a></li>'
            for name, p in providers.items()
        )
        body = f'<section class="signin"><h1>{frame.t("signin")}</h1>{notice}<ul class="plain">{links}</ul></section>'
        return with_lang(request, html(page(frame, frame.word("signin"), body)))
    provider = providers[chosen] if chosen in providers else next(iter(providers.values()))
    try:
        url, state = await signin.begin(store_of(request), provider, root_of(request), next_path)
    except signin.SignInError as err:
        return _failed(request, err, 502)
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(signin.COOKIE, state, max_age=signin.TTL, path="/app", httponly=True, samesite="lax", secure=_cookie_secure(request))
    return with_lang(request, response)


def _query(provider: str, next_path: str | None) -> str:
    from urllib.parse import urlencode

    return urlencode({"provider": provider, **({"next": next_path} if next_path else {})})


def _failed(request: Request, err: signin.SignInError, status: int = 400) -> Response:
    frame = frame_of(request)
    text = f"{h(err.vi)} <span class=\"en\">{h(err.en)}</span>"
    return html(message(frame, frame.word("signin_failed"), text, link=("/app/login", frame.word("start_again")), error=True), status)


@router.get("/app/callback")
async def callback(request: Request) -> Response:
    params = request.query_params
    store = store_of(request)
    if params.get("error"):
        await audit_auth(request, "login", False, client_id=WORKSPACE_ID, detail=f"workspace sign-in ended: {params.get('error')}")
        err = signin.SignInError("Đăng nhập không thành công hoặc đã bị hủy.", f"The sign-in did not complete ({params.get('error')}).")
        return _failed(request, err)
    try:
        provider, tokens, next_path = await signin.finish(store, providers_of(request), root_of(request), params.get("state", ""),
                                                         request.cookies.get(signin.COOKIE), params.get("code", ""))
    except signin.SignInError as err:
        await audit_auth(request, "login", False, client_id=WORKSPACE_ID, detail=f"workspace sign-in refused: {err.en}")
        return _failed(request, err)
    cookie, session = await sessions.start(store, user=tokens.user, provider=provider.name, access_token=tokens.access_token,
                                           expires_in=tokens.expires_in, refresh_token=tokens.refresh_token)
    await audit_auth(request, "login", True, client_id=WORKSPACE_ID, user=tokens.user, detail=f"workspace session started ({provider.name})")
    response = RedirectResponse(next_path, status_code=303, headers={"Cache-Control": "no-store"})
    response.delete_cookie(signin.COOKIE, path="/app")
    max_age = settings_of(request).refresh_token_ttl
    response.set_cookie(sessions.COOKIE, cookie, max_age=max_age, path=sessions.COOKIE_PATH, httponly=True, samesite="lax", secure=_cookie_secure(request))
    return response


@router.post("/app/logout")
async def logout(request: Request) -> Response:
    store = store_of(request)
    cookie = request.cookies.get(sessions.COOKIE)
    form = await read_form(request)  # not a form: a 400 page
    live = await sessions.end(store, cookie) if cookie else None
    if live is not None and not live.csrf_ok(form.get("csrf")):
        await store.put_record(sessions.KIND, live.key, live.body())  # not the person's own form: the session stays
        await audit_auth(request, "logout", False, client_id=WORKSPACE_ID, user=live.user, detail="refused: the sign-out form's CSRF token does not match")
        frame = frame_of(request)
        return html(message(frame, frame.word("forbidden"), frame.t("csrf_refused"), link=("/app/", frame.word("back_to_search")), error=True), 403)
    if live is not None:
        provider = providers_of(request).get(live.provider)
        if provider is not None:
            await provider.revoke(live)
        await audit_auth(request, "logout", True, client_id=WORKSPACE_ID, user=live.user, detail="workspace session ended; refresh token revoked")
    response = RedirectResponse("/app/login?bye=1", status_code=303, headers={"Cache-Control": "no-store"})
    response.delete_cookie(sessions.COOKIE, path=sessions.COOKIE_PATH)
    return response
