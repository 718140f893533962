"""An OpenAPI 3.0 description of the FHIR API, generated from the CapabilityStatement.

Why from the CapabilityStatement: it is itself generated from the registries (types, search
parameters, interactions, operations), so the description lists exactly what works and cannot
drift from ``/fhir/metadata``. This module only translates: a CapabilityStatement interaction
or operation becomes paths; how each operation is called (level, method, parameters) is the
table :data:`OPERATION_CALLS`, which a test keeps complete.
"""

from __future__ import annotations

from typing import Any

from ..auth.oauth import endpoints

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"
FORM = "application/x-www-form-urlencoded"

#: the result parameters every search takes besides the type's own (see search/parse.py)
SEARCH_CONTROLS: dict[str, tuple[str, str]] = {
    "_count": ("integer", "page size (at most the server's maximum)"),
    "_sort": ("string", "comma-separated parameters, '-' for descending"),
    "_total": ("string", "none | estimate | accurate"),
    "_include": ("string", "Type:param[:target], or *"),
    "_revinclude": ("string", "Type:param[:target], or *"),
    "_summary": ("string", "true | text | data | count | false"),
    "_elements": ("string", "comma-separated element names"),
}
HISTORY_PARAMS: dict[str, tuple[str, str]] = {
    "_since": ("string", "instant: versions after it"),
    "_at": ("string", "date: versions current at that time"),
    "_count": ("integer", "page size"),
}
_ENUMS = {"_total": ["none", "estimate", "accurate"], "_summary": ["true", "text", "data", "count", "false"]}


class Call:
    """How one operation is called: its levels (system, type, instance), methods and query parameters."""

    def __init__(self, levels: tuple[str, ...], methods: tuple[str, ...], query: dict[str, tuple[Any, ...]] | None = None,
                 body: tuple[str, ...] = (), body_schema: dict[str, Any] | None = None, answer: str = FHIR_JSON) -> None:
        self.levels, self.methods, self.query = levels, methods, query or {}
        self.body, self.body_schema, self.answer = body, body_schema, answer


_PARAMETERS_BODY = {"$ref": "#/components/schemas/Parameters"}
#: each operation the CapabilityStatement names → how the router serves it
OPERATION_CALLS: dict[str, Call] = {
    "everything": Call(("type", "instance"), ("get",), {"_since": ("string", "instant"), "_type": ("string", "comma-separated types"), "_count": ("integer", "page size")}),
    "meta": Call(("system", "type", "instance"), ("get", "post")),
    "meta-add": Call(("instance",), ("post",), body=(FHIR_JSON,), body_schema=_PARAMETERS_BODY),
    "meta-delete": Call(("instance",), ("post",), body=(FHIR_JSON,), body_schema=_PARAMETERS_BODY),
    "transfer54": Call(("instance",), ("get",), {"_format": ("string", "the record's form", ["json", "xml", "application/json", "application/xml"])}, answer="application/json"),
    "bhyt-xml": Call(("instance",), ("get",), {"standard": ("string", "the insurance standard (default: the one it came in)", ["130", "3176", "4210"])}, answer="application/xml"),
    "validate": Call(("type", "instance"), ("post",), {"mode": ("string", "create | update | delete"), "profile": ("string", "canonical URL")},
                     body=(FHIR_JSON,), body_schema={"type": "object", "required": ["resourceType"]}),
    "lookup": Call(("type",), ("get", "post"), {k: ("string", "") for k in ("system", "code", "version", "displayLanguage")}, body=(FHIR_JSON,), body_schema=_PARAMETERS_BODY),
    "validate-code": Call(("type", "instance"), ("get", "post"), {k: ("string", "") for k in ("url", "code", "system", "display", "valueSetVersion")},
                          body=(FHIR_JSON,), body_schema=_PARAMETERS_BODY),
    "import-transfer54": Call(("system",), ("post",), body=("application/json", "application/xml"), body_schema={"type": "object"}),
    "import-bhyt": Call(("system",), ("post",), {"strict": ("boolean", "reject the whole envelope on the first error")}, body=("application/xml",), body_schema={"type": "string"}),
}

_ERRORS = {
    "400": "the request is malformed or names an unknown parameter (OperationOutcome)",
    "401": "no valid bearer token",
    "403": "the token's scope does not allow this",
    "404": "no such resource or type",
    "405": "method not allowed here",
    "406": "the asked-for format is not served",
    "409": "a conflict (version or referential integrity)",
    "410": "the resource was deleted",
    "412": "If-Match does not hold, or a conditional matched more than one",
    "413": "body too large",
    "415": "Content-Type not supported",
    "422": "the resource is not valid",
}
_WRITE_ERRORS = ("400", "401", "403", "404", "409", "412", "413", "415", "422")
_READ_ERRORS = ("400", "401", "403", "404", "406")


def _param(name: str, kind: str, where: str = "query", description: str = "", required: bool = False, enum: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": 0} if kind == "integer" else {"type": "boolean"} if kind == "boolean" else {"type": "string"}
    if enum:
        schema["enum"] = enum
    out: dict[str, Any] = {"name": name, "in": where, "required": required or where == "path", "schema": schema}
    if description:
        out["description"] = description
    return out


_ID = {"name": "id", "in": "path", "required": True, "description": "logical id", "schema": {"type": "string", "pattern": "^[A-Za-z0-9.-]{1,64}$"}}
_VID = {"name": "vid", "in": "path", "required": True, "description": "version id", "schema": {"type": "string", "pattern": "^[0-9]+$"}}


def _responses(ok: str, ok_schema: dict[str, Any] | None, errors: tuple[str, ...], media: str = FHIR_JSON) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code in ok.split(","):
        out[code] = {"description": "success", "content": {media: {"schema": ok_schema or {}}}}
    for code in errors:
        out[code] = {"$ref": f"#/components/responses/E{code}"}
    return out


def _body(schema: dict[str, Any], *media: str) -> dict[str, Any]:
    return {"required": True, "content": {m: {"schema": schema} for m in (media or (FHIR_JSON,))}}


def _op(summary: str, tag: str, params: list[dict[str, Any]], responses: dict[str, Any], body: dict[str, Any] | None = None, op_id: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"summary": summary, "tags": [tag], "operationId": op_id or summary, "parameters": params, "responses": responses}
    if body is not None:
        out["requestBody"] = body
    return out


def _type_paths(res: dict[str, Any], paths: dict[str, dict[str, Any]]) -> None:
    t = res["type"]
    ref = {"$ref": f"#/components/schemas/{t}"}
    bundle = {"$ref": "#/components/schemas/Bundle"}
    codes = {i["code"] for i in res.get("interaction", [])}
    search = [_param(p["name"], "string", description=f"{p['type']} search parameter") for p in res.get("searchParam", [])]
    search += [_param(n, k, description=d, enum=_ENUMS.get(n)) for n, (k, d) in SEARCH_CONTROLS.items() if n not in {p["name"] for p in res.get("searchParam", [])}]
    history = [_param(n, k, description=d) for n, (k, d) in HISTORY_PARAMS.items()]
    type_path, inst_path = paths.setdefault(f"/{t}", {}), paths.setdefault(f"/{t}/{{id}}", {"parameters": [_ID]})
    if "search-type" in codes:
        type_path["get"] = _op(f"search {t}", t, search, _responses("200", bundle, _READ_ERRORS), op_id=f"search-{t}")
        form = {"type": "object", "properties": {p["name"]: {"type": "string"} for p in search}}
        paths[f"/{t}/_search"] = {"post": _op(f"search {t} (POST)", t, [], _responses("200", bundle, ("400", "401", "403", "415")), _body(form, FORM), op_id=f"search-post-{t}")}
    if "create" in codes:
        type_path["post"] = _op(f"create {t}", t, [{"name": "If-None-Exist", "in": "header", "required": False, "schema": {"type": "string"}, "description": "conditional create: search criteria"}],
                                _responses("200,201", ref, _WRITE_ERRORS), _body(ref), op_id=f"create-{t}")
    if "read" in codes:
        inst_path["get"] = _op(f"read {t}", t, [], _responses("200", ref, _READ_ERRORS + ("410",)), op_id=f"read-{t}")
    if "update" in codes:
        inst_path["put"] = _op(f"update {t}", t, [{"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"}, "description": 'W/"version"'}],
                               _responses("200,201", ref, _WRITE_ERRORS), _body(ref), op_id=f"update-{t}")
    if "patch" in codes:
        patch_doc = {"type": "array", "items": {"type": "object", "required": ["op", "path"], "properties": {"op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]}, "path": {"type": "string"}, "value": {}}}}
        inst_path["patch"] = _op(f"patch {t}", t, [], _responses("200", ref, _WRITE_ERRORS), {"required": True, "content": {JSON_PATCH: {"schema": patch_doc}, FHIR_JSON: {"schema": _PARAMETERS_BODY}}}, op_id=f"patch-{t}")
    if "delete" in codes:
        inst_path["delete"] = _op(f"delete {t}", t, [], _responses("200,204", {"$ref": "#/components/schemas/OperationOutcome"}, ("400", "401", "403", "404", "409", "412")), op_id=f"delete-{t}")
    if "vread" in codes:
        paths[f"/{t}/{{id}}/_history/{{vid}}"] = {"get": _op(f"vread {t}", t, [_ID, _VID], _responses("200", ref, _READ_ERRORS + ("410",)), op_id=f"vread-{t}")}
    if "history-instance" in codes:
        paths[f"/{t}/{{id}}/_history"] = {"get": _op(f"history of a {t}", t, [_ID, *history], _responses("200", bundle, _READ_ERRORS), op_id=f"history-instance-{t}")}
    if "history-type" in codes:
        paths[f"/{t}/_history"] = {"get": _op(f"history of {t}", t, history, _responses("200", bundle, _READ_ERRORS), op_id=f"history-type-{t}")}
    for op in res.get("operation", []):
        _operation_paths(op["name"], t, paths)
    if not type_path:
        del paths[f"/{t}"]
    if list(inst_path) == ["parameters"]:
        del paths[f"/{t}/{{id}}"]


def _operation_paths(name: str, type_: str | None, paths: dict[str, dict[str, Any]]) -> None:
    call = OPERATION_CALLS[name]
    for level in call.levels:
        if (level == "system") != (type_ is None):
            continue
        path = {"system": f"/${name}", "type": f"/{type_}/${name}", "instance": f"/{type_}/{{id}}/${name}"}[level]
        tag = type_ or "system"
        item = paths.setdefault(path, {})
        for method in call.methods:
            params = [_ID] if level == "instance" else []
            params += [_param(n, spec[0], description=spec[1], enum=spec[2] if len(spec) > 2 else None) for n, spec in call.query.items()]
            body = _body(call.body_schema or {}, *call.body) if method == "post" and call.body else None
            errors = _WRITE_ERRORS if method == "post" else _READ_ERRORS
            item[method] = _op(f"${name} on {tag}" + (" (instance)" if level == "instance" else ""), tag, params,
                               _responses("200", {}, errors, call.answer), body, op_id=f"{method}-{level}-{tag}-{name}")


def _components(cs: dict[str, Any], root: str) -> dict[str, Any]:
    types = [r["type"] for r in cs["rest"][0]["resource"]]
    schemas: dict[str, Any] = {
        t: {"type": "object", "required": ["resourceType"], "properties": {"resourceType": {"type": "string", "enum": [t]}, "id": {"type": "string"}}, "additionalProperties": True}
        for t in types
    }
    for t in ("OperationOutcome", "Bundle", "Parameters", "CapabilityStatement"):
        schemas.setdefault(t, {"type": "object", "required": ["resourceType"], "properties": {"resourceType": {"type": "string", "enum": [t]}}, "additionalProperties": True})
    schemas["OperationOutcome"]["properties"]["issue"] = {"type": "array", "items": {"type": "object", "required": ["severity", "code"], "properties": {
        "severity": {"type": "string"}, "code": {"type": "string"}, "diagnostics": {"type": "string"}, "expression": {"type": "array", "items": {"type": "string"}}}}}
    outcome = {"content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}}}
    urls = endpoints(root)
    return {
        "schemas": schemas,
        "responses": {f"E{code}": {"description": text, **outcome} for code, text in _ERRORS.items()},
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": f"An access token from {urls['token']} (SMART on FHIR scopes, e.g. system/*.rs); see {urls['fhir']}/.well-known/smart-configuration"},
            "smart": {"type": "oauth2", "flows": {
                "clientCredentials": {"tokenUrl": urls["token"], "scopes": {}},
                "authorizationCode": {"authorizationUrl": urls["authorize"], "tokenUrl": urls["token"], "scopes": {}},
            }},
        },
    }


def openapi_document(cs: dict[str, Any], base: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the FHIR API at ``base`` (the ``/fhir`` URL), from its CapabilityStatement."""
    rest = cs["rest"][0]
    paths: dict[str, dict[str, Any]] = {}
    public: list[dict[str, Any]] = []
    paths["/metadata"] = {"get": {**_op("the CapabilityStatement", "system", [], _responses("200", {"$ref": "#/components/schemas/CapabilityStatement"}, ("406",)), op_id="metadata"), "security": public}}
    paths["/openapi.json"] = {"get": {**_op("this description", "system", [], {"200": {"description": "OpenAPI 3.0", "content": {"application/json": {"schema": {"type": "object"}}}}}, op_id="openapi"), "security": public}}
    system = {i["code"] for i in rest.get("interaction", [])}
    bundle = {"$ref": "#/components/schemas/Bundle"}
    if system & {"transaction", "batch"}:
        paths["/"] = {"post": _op("transaction or batch", "system", [], _responses("200", bundle, _WRITE_ERRORS), _body(bundle), op_id="transaction")}
    if "search-system" in system:
        params = [_param("_type", "string", description="comma-separated types to search (required)", required=True)]
        params += [_param(n, k, description=d, enum=_ENUMS.get(n)) for n, (k, d) in SEARCH_CONTROLS.items()]
        paths.setdefault("/", {})["get"] = _op("search across types", "system", params, _responses("200", bundle, _READ_ERRORS), op_id="search-system")
    if "history-system" in system:
        paths["/_history"] = {"get": _op("history of everything", "system", [_param(n, k, description=d) for n, (k, d) in HISTORY_PARAMS.items()], _responses("200", bundle, _READ_ERRORS), op_id="history-system")}
    for op in rest.get("operation", []):
        _operation_paths(op["name"], None, paths)
    for res in rest["resource"]:
        _type_paths(res, paths)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{cs['software']['name']} FHIR R4 API",
            "version": cs["software"]["version"],
            "description": "Generated from the CapabilityStatement (/metadata): every path here is served. "
                           "Bodies are FHIR R4 JSON (application/fhir+json; XML too where the server says so); errors are OperationOutcomes.",
        },
        "servers": [{"url": base}],
        "security": [{"bearer": []}, {"smart": []}],
        "tags": [{"name": "system"}, *({"name": r["type"]} for r in rest["resource"])],
        "paths": paths,
        "components": _components(cs, base.removesuffix("/fhir")),
    }
