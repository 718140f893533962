"""Read-only conformance resources (StructureDefinition, CodeSystem, ValueSet, NamingSystem).

Served from ``profiles/``, not the store: read by id, search by ``url``, ``_id``, ``name``,
``status``, ``version`` (GET, or POST ``_search`` with a form); every write is 405 with an OperationOutcome.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.outcome import FhirError, operation_outcome
from ...fhir.profiling import catalog
from ..negotiation import check_accept, fhir_response, wants_pretty
from ..requests import Prefer, query_items
from ..responses import base_url
from ..routing import refuses

router = APIRouter()


def _read_only(type_: str):  # type: ignore[no-untyped-def]
    async def refuse(request: Request) -> Response:
        raise FhirError.of(405, "not-supported", f"{type_} is read-only on this server: it is served from the project's profiles, not stored; {request.method} is not allowed")

    return refuses(refuse)


def _reader(type_: str):  # type: ignore[no-untyped-def]
    async def read(request: Request, id_: str) -> Response:
        check_accept(request)
        return fhir_response(catalog.read(type_, id_), pretty=wants_pretty(request))

    return read


def _searcher(type_: str):  # type: ignore[no-untyped-def]
    async def search(request: Request) -> Response:
        check_accept(request)
        params = query_items(request)
        if request.method == "POST":  # _search: the form's parameters too
            ctype = request.headers.get("content-type", "")
            if ctype and not ctype.startswith("application/x-www-form-urlencoded"):
                raise FhirError.of(415, "not-supported", "POST _search takes application/x-www-form-urlencoded parameters")
            params += parse_qsl((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True)
        found, applied, notes = catalog.search(type_, params, strict=Prefer.of(request).strict)
        base = base_url(request)
        self_url = f"{base}/{type_}" + (f"?{urlencode(applied)}" if applied else "")
        entries = [{"fullUrl": f"{base}/{type_}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in found]
        if notes:
            entries.append({"resource": operation_outcome(notes), "search": {"mode": "outcome"}})
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(found), "link": [{"relation": "self", "url": self_url}], "entry": entries}
        return fhir_response(bundle, pretty=wants_pretty(request))

    return search


for _type in catalog.TYPES:
    router.add_api_route(f"/{_type}", _searcher(_type), methods=["GET"])
    router.add_api_route(f"/{_type}/_search", _searcher(_type), methods=["POST"])
    router.add_api_route(f"/{_type}", _read_only(_type), methods=["POST", "PUT", "DELETE", "PATCH"])
    router.add_api_route(f"/{_type}/{{id_}}", _reader(_type), methods=["GET"])
    router.add_api_route(f"/{_type}/{{id_}}", _read_only(_type), methods=["PUT", "DELETE", "PATCH", "POST"])
