"""Every failure leaves the server as an OperationOutcome.

Client errors arrive as :class:`FhirError`; routing errors from Starlette (unknown path,
wrong method) are translated; anything else is a server bug, logged with its traceback
and answered with a 500 OperationOutcome that says so.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from ..fhir.outcome import FhirError, Issue, operation_outcome
from ..storage.base import StoreBusy
from .negotiation import fhir_response
from .routing import allowed_methods

log = logging.getLogger("lienthong")

_HTTP_CODES = {404: "not-found", 405: "not-supported", 413: "too-costly"}


def _page(request: Request, status: int, text: str) -> Response | None:
    """The web workspace's own error page for its paths (``app.state.page_error``), else ``None``."""
    render = getattr(request.app.state, "page_error", None)
    if render is not None and request.url.path.startswith("/app/"):
        return render(request, status, text)
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FhirError)
    async def _fhir(request: Request, exc: FhirError) -> Response:
        page = _page(request, exc.status, str(exc))
        if page is not None:
            return page
        headers = exc.headers
        if exc.status == 405:
            headers = {**(headers or {}), "Allow": _allow(request)}
        return fhir_response(exc.outcome(), exc.status, headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        text = "No such endpoint: " + request.url.path if exc.status_code == 404 else str(exc.detail)
        if exc.status_code == 405:
            text = f"{request.method} is not allowed on {request.url.path}"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allow(request)
            text += f"; this path allows {headers['Allow']}"
        page = _page(request, exc.status_code, text)
        if page is not None:
            page.headers.update(headers)
            return page
        issue = Issue(_HTTP_CODES.get(exc.status_code, "processing"), text)
        return fhir_response(operation_outcome([issue]), exc.status_code, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        issues = [Issue("invalid", str(e.get("msg")), (".".join(str(p) for p in e.get("loc", ())),)) for e in exc.errors()]
        return fhir_response(operation_outcome(issues), 400)

    @app.exception_handler(StoreBusy)
    async def _busy(request: Request, exc: StoreBusy) -> Response:
        issue = Issue("transient", f"The server is busy: {exc}; nothing was written, try again", severity="error")
        return fhir_response(operation_outcome([issue]), 503, {"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        page = _page(request, 500, f"Internal server error ({type(exc).__name__})")
        if page is not None:
            return page
        issue = Issue("exception", f"Internal server error ({type(exc).__name__}); this is a bug in the server, not in your request", severity="fatal")
        return fhir_response(operation_outcome([issue]), 500)


def _allow(request: Request) -> str:
    """The ``Allow`` of a 405: every method this path is served with, not only the first route's."""
    return ", ".join(allowed_methods(request.app.state.routers, request.url.path))
