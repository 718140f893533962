"""``CodeSystem/$lookup`` and ``ValueSet/$validate-code`` (type and instance level), GET or POST.

GET takes the query; POST a ``Parameters`` body (query parameters are added to it). The
answers come from ``server.fhir.terminology``; this module only reads and checks the request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.operations.validate import parameter_values
from ...fhir.outcome import bad_request
from ...fhir.profiling import catalog
from ..negotiation import check_accept, fhir_response, parse_fhir_body, wants_pretty
from ..requests import query_items, read_body
from ..responses import repo_of

router = APIRouter()

#: operation parameter → (keyword of the terminology function, kind: "str" or "object")
LOOKUP = {"system": ("system", "str"), "code": ("code", "str"), "version": ("version", "str"), "displayLanguage": ("display_language", "str"), "coding": ("coding", "object")}
VALIDATE_CODE = {
    "url": ("url", "str"), "code": ("code", "str"), "system": ("system", "str"), "display": ("display", "str"),
    "valueSetVersion": ("value_set_version", "str"), "coding": ("coding", "object"), "codeableConcept": ("codeable_concept", "object"),
}


async def _arguments(request: Request, spec: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Keyword arguments from the query and (POST) a Parameters body; unknown names ignored."""
    given: list[tuple[str, Any]] = list(query_items(request))
    if request.method == "POST":
        raw = await read_body(request, repo_of(request).settings)
        if raw.strip():
            body = parse_fhir_body(request, raw)
            if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
                raise bad_request("The body must be a Parameters resource", "Parameters", code="structure")
            given += parameter_values(body)
    out: dict[str, Any] = {}
    for name, value in given:
        if name not in spec:
            continue
        keyword, kind = spec[name]
        if kind == "object" and isinstance(value, str):
            raise bad_request(f"'{name}' must be given as a {name[0].upper() + name[1:]} in a Parameters body (POST)", name)
        if (kind == "str" and not isinstance(value, str)) or (kind == "object" and not isinstance(value, dict)):
            raise bad_request(f"'{name}' has the wrong type", name)
        if keyword in out and out[keyword] != value:
            raise bad_request(f"'{name}' is given more than once", name)
        out[keyword] = value
    return out


def _respond(request: Request, parameters: dict[str, Any]) -> Response:
    return fhir_response(parameters, pretty=wants_pretty(request))


@router.api_route("/CodeSystem/$lookup", methods=["GET", "POST"])
async def lookup_op(request: Request) -> Response:
    check_accept(request)
    from ...fhir.terminology import lookup

    args = await _arguments(request, LOOKUP)
    coding = args.pop("coding", None)
    if coding is not None:
        for key in ("system", "code", "version"):
            if isinstance(coding.get(key), str):
                if key in args and args[key] != coding[key]:
                    raise bad_request(f"'{key}' differs from coding.{key}", key)
                args[key] = coding[key]
    if not args.get("system") or not args.get("code"):
        raise bad_request("$lookup needs a system and a code (or a coding)", "code")
    return _respond(request, lookup(args.pop("system"), args.pop("code"), **args))


async def _validate_code(request: Request, url: str | None) -> Response:
    check_accept(request)
    from ...fhir.terminology import validate_code

    args = await _arguments(request, VALIDATE_CODE)
    if url is not None:
        if "url" in args and args["url"].split("|", 1)[0] != url:
            raise bad_request(f"url '{args['url']}' is not the URL of this ValueSet ({url})", "url")
        args["url"] = url
    if not any(k in args for k in ("code", "coding", "codeable_concept")):
        raise bad_request("$validate-code needs a code (with system), a coding or a codeableConcept", "code")
    return _respond(request, validate_code(args.pop("url", None), args.pop("system", None), args.pop("code", None), **args))


@router.api_route("/ValueSet/$validate-code", methods=["GET", "POST"])
async def validate_code_type(request: Request) -> Response:
    return await _validate_code(request, None)


@router.api_route("/ValueSet/{id_}/$validate-code", methods=["GET", "POST"])
async def validate_code_instance(request: Request, id_: str) -> Response:
    return await _validate_code(request, catalog.canonical(catalog.read("ValueSet", id_)))
