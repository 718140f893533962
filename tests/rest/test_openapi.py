"""``/fhir/openapi.json`` describes exactly what the CapabilityStatement claims; ``/fhir/docs`` reads it offline."""

from __future__ import annotations

import hashlib
import re
from base64 import b64encode

import pytest

from server.fhir.openapi import OPERATION_CALLS

from .conftest import client_for

pytestmark = pytest.mark.anyio


async def test_the_description_is_public_cached_and_openapi_3(app, client) -> None:
    async with client_for(app, None) as anonymous:
        r = await anonymous.get("openapi.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert "max-age" in r.headers["cache-control"] and "no-store" not in r.headers["cache-control"]
    doc = r.json()
    assert doc["openapi"].startswith("3.0") and doc["servers"] == [{"url": "http://testserver/fhir"}]
    assert (await client.get("openapi.json")).content == r.content  # built once, the same for everyone


async def test_every_type_and_interaction_of_the_capability_statement_has_its_paths(client) -> None:
    cs = (await client.get("metadata")).json()
    paths = (await client.get("openapi.json")).json()["paths"]
    where = {
        "read": ("/{t}/{{id}}", "get"), "vread": ("/{t}/{{id}}/_history/{{vid}}", "get"), "update": ("/{t}/{{id}}", "put"),
        "patch": ("/{t}/{{id}}", "patch"), "delete": ("/{t}/{{id}}", "delete"), "history-instance": ("/{t}/{{id}}/_history", "get"),
        "history-type": ("/{t}/_history", "get"), "create": ("/{t}", "post"), "search-type": ("/{t}", "get"),
    }
    for res in cs["rest"][0]["resource"]:
        t = res["type"]
        claimed = {where[i["code"]][0].format(t=t) + " " + where[i["code"]][1] for i in res["interaction"]}
        described = {f"{p} {m}" for p, item in paths.items() for m in item if m != "parameters" and (p == f"/{t}" or p.startswith(f"/{t}/")) and "$" not in p and "_search" not in p}
        assert described == claimed, t
        for op in res.get("operation", []):
            assert any(p.startswith(f"/{t}") and p.endswith(f"/${op['name']}") for p in paths), (t, op["name"])
        search = {p["name"]: p for p in paths[f"/{t}"]["get"]["parameters"]}
        for sp in res["searchParam"]:
            assert search[sp["name"]]["in"] == "query" and search[sp["name"]]["schema"] == {"type": "string"}
            assert sp["type"] in search[sp["name"]]["description"]
    assert "/$import-bhyt" in paths and "post" in paths["/"] and "/_history" in paths


async def test_bodies_name_their_type_and_answers_are_operation_outcomes(client) -> None:
    doc = (await client.get("openapi.json")).json()
    create = doc["paths"]["/Patient"]["post"]
    schema = create["requestBody"]["content"]["application/fhir+json"]["schema"]
    patient = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert patient["required"] == ["resourceType"] and patient["properties"]["resourceType"]["enum"] == ["Patient"]
    assert {"201", "400", "401", "403", "409", "412", "415", "422"} <= set(create["responses"])
    error = doc["components"]["responses"]["E404"]["content"]["application/fhir+json"]["schema"]
    assert error == {"$ref": "#/components/schemas/OperationOutcome"}
    assert set(doc["paths"]["/Patient/{id}/_history/{vid}"]["get"]["responses"]) >= {"200", "404"}


async def test_the_bearer_scheme_is_required_except_on_public_paths(client) -> None:
    doc = (await client.get("openapi.json")).json()
    bearer = doc["components"]["securitySchemes"]["bearer"]
    assert bearer["type"] == "http" and bearer["scheme"] == "bearer"
    assert doc["components"]["securitySchemes"]["smart"]["flows"]["clientCredentials"]["tokenUrl"] == "http://testserver/auth/token"
    assert {"bearer": []} in doc["security"]
    assert doc["paths"]["/metadata"]["get"]["security"] == [] and doc["paths"]["/openapi.json"]["get"]["security"] == []


async def test_every_operation_the_capability_statement_names_is_described(client) -> None:
    rest = (await client.get("metadata")).json()["rest"][0]
    names = {op["name"] for r in rest["resource"] for op in r.get("operation", [])} | {op["name"] for op in rest["operation"]}
    assert names <= set(OPERATION_CALLS)  # a new operation needs a line in OPERATION_CALLS


async def test_the_docs_page_needs_nothing_from_the_internet(app) -> None:
    async with client_for(app, None) as anonymous:
        r = await anonymous.get("docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "openapi.json" in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    csp = r.headers["content-security-policy"]
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)  # type: ignore[union-attr]
    assert f"'sha256-{b64encode(hashlib.sha256(script.encode()).digest()).decode()}'" in csp
    assert "connect-src 'self'" in csp and "default-src 'none'" in csp
