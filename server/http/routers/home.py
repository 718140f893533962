"""``GET /``: where things are (the FHIR API, its CapabilityStatement, the documentation, the
web workspace), as a page for a person or a small JSON for a program; ``GET /fhir`` with no
query sends a client to it or to the CapabilityStatement. Public and holding no patient data,
so neither guarded nor audited (as the CapabilityStatement is not).
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ...auth.templates import page

router = APIRouter()

WORKSPACE = "/app/"


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "json" not in accept


def landing(request: Request) -> dict[str, Any]:
    """The addresses a newcomer needs, relative to this server."""
    return {
        "name": "Liên Thông FHIR server",
        "fhirVersion": "4.0.1",
        "version": request.app.version,
        "fhirBase": "/fhir",
        "capabilityStatement": "/fhir/metadata",
        "smartConfiguration": "/fhir/.well-known/smart-configuration",
        "documentation": "/fhir/docs",
        "openapi": "/fhir/openapi.json",
        "workspace": WORKSPACE,
    }


_ROWS = (
    ("API FHIR R4", "FHIR R4 API", "fhirBase", "cần access token (Authorization: Bearer) / needs an access token"),
    ("Bản mô tả năng lực", "CapabilityStatement", "capabilityStatement", "công khai / public"),
    ("Cấu hình SMART", "SMART configuration", "smartConfiguration", "cách lấy token / how to get a token"),
    ("Tài liệu API", "API documentation", "documentation", "mọi đường dẫn, tham số và thao tác / every path, parameter and operation"),
    ("Mô tả OpenAPI", "OpenAPI description", "openapi", "cho công cụ / for tools"),
)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """Browsers ask for it on every page: an empty answer, not a 404 in their console."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/")
async def home(request: Request) -> Response:
    info = landing(request)
    if not _wants_html(request):
        return JSONResponse(info)
    items = "".join(
        f'<li>{escape(vi)} <span class="en">/ {escape(en)}</span>: <a href="{escape(info[key])}"><code>{escape(info[key])}</code></a><br><small>{escape(note)}</small></li>'
        for vi, en, key, note in _ROWS
    )
    workspace = f'<a href="{WORKSPACE}"><code>{WORKSPACE}</code></a><br><small>tìm bệnh nhân, đọc hồ sơ, giấy chuyển tuyến / find a patient, read the record, the transfer paper</small>'
    body = (
        f'<h1>Liên Thông <span class="en">/ FHIR R4 server {escape(info["version"])}</span></h1>\n<ul>{items}'
        f'<li>Không gian làm việc <span class="en">/ Web workspace</span>: {workspace}</li>'
        '<li>Hướng dẫn <span class="en">/ Guides</span>: README.md và docs/ trong mã nguồn '
        '<span class="en">/ in the source</span></li></ul>'
    )
    return HTMLResponse(page("Liên Thông FHIR", body))


async def base_without_query(request: Request) -> Response:
    """``GET /fhir`` with no query (a person typing the base URL): the landing page for a
    browser, the CapabilityStatement for a program."""
    return RedirectResponse("/" if _wants_html(request) else "/fhir/metadata", status_code=303)
