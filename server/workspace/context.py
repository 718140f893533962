"""Each workspace request's context: its session, language, and the repository as its token sees it.

:func:`signed_in` is the dependency of every page that shows data. It resumes the session
(renewing its access token when due), puts the token's :class:`~server.auth.access.Access` on
the request as the security middleware does for ``/fhir``, and marks the request for the audit
trail, so a page is guarded and audited exactly as the FHIR calls it stands for. Without a live
session it raises :class:`SignInNeeded`, which the pages answer with a redirect to sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..config import Settings
from ..fhir.repository import Repository
from ..http.responses import repo_of
from ..storage.base import Store
from . import sessions, signin
from .i18n import COOKIE as LANG_COOKIE, pick
from .layout import HEADERS, Frame
from .sessions import Session


class SignInNeeded(Exception):
    """No live session: the person is sent to sign in, and back to ``next`` afterwards."""

    def __init__(self, next_path: str, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


@dataclass
class Ctx:
    request: Request
    session: Session
    frame: Frame
    repo: Repository

    @property
    def lang(self) -> str:
        return self.frame.lang

    def t(self, key: str, **values: object) -> str:
        return self.frame.t(key, **values)

    def word(self, key: str, **values: object) -> str:
        return self.frame.word(key, **values)


def store_of(request: Request) -> Store:
    return request.app.state.repo.store


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def root_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def providers_of(request: Request) -> dict[str, signin.Provider]:
    app = request.app
    if getattr(app.state, "signin_providers", None) is None:
        app.state.signin_providers = signin.providers(store_of(request), settings_of(request), app.state.verifier)
    return app.state.signin_providers


def lang_of(request: Request) -> str:
    return pick(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))


def frame_of(request: Request, session: Session | None = None) -> Frame:
    return Frame(lang_of(request), request.url.path, list(request.query_params.multi_items()),
                 session.user if session else None, session.csrf if session else None)


async def signed_in(request: Request) -> Ctx:
    """The dependency of every page that shows data (see the module docstring)."""
    cookie = request.cookies.get(sessions.COOKIE)

    async def renew(session: Session) -> tuple[str, int, str | None] | None:
        provider = providers_of(request).get(session.provider)
        return await provider.renew(root_of(request), session) if provider is not None else None

    session = await sessions.resume(store_of(request), settings_of(request), request.app.state.verifier, cookie, renew)
    if session is None or session.access is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target, expired=bool(cookie))
    state = request.scope.setdefault("state", {})
    state["access"] = session.access
    state["workspace"] = True  # audited by the security middleware's finisher, as /fhir requests are
    return Ctx(request, session, frame_of(request, session), repo_of(request))


def html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(text, status, headers={**HEADERS, **(headers or {})})


def with_lang(request: Request, response: Response) -> Response:
    """Remember a language chosen with ``?lang=`` for the next pages."""
    chosen = request.query_params.get("lang")
    if chosen in ("vi", "en"):
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, path="/app", samesite="lax", secure=request.url.scheme == "https")
    return response


def to_sign_in(err: SignInNeeded) -> Response:
    query = f"?next={quote(err.next_path, safe='')}" + ("&expired=1" if err.expired else "")
    return RedirectResponse("/app/login" + query, status_code=303, headers={"Cache-Control": "no-store"})
