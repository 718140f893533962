"""Mounting the workspace on the app: its pages, its error pages, its sign-in redirect."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from .context import SignInNeeded, frame_of, html, to_sign_in
from .layout import h, message
from .pages import router

_TITLES = {400: "error", 403: "forbidden", 404: "not_found", 405: "error", 410: "not_found"}


def page_error(request: Request, status: int, text: str) -> Response:
    """An error on a workspace path as a page (the FHIR API's errors are OperationOutcomes)."""
    frame = frame_of(request)
    title = frame.word(_TITLES.get(status, "error"))
    return html(message(frame, title, h(text), link=("/app/", frame.word("back_to_search")), error=True), status)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.state.routers.append(("", router))  # a 405's Allow lists the workspace's methods too
    app.state.page_error = page_error

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        return to_sign_in(exc)

    @app.get("/app", include_in_schema=False)
    async def _bare() -> Response:
        return RedirectResponse("/app/", status_code=308)
