"""No client input produces a 5xx: random methods, paths, headers and bodies."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import jsonio

pytestmark = pytest.mark.anyio

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20) | st.decimals(allow_nan=False, allow_infinity=False, places=3),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["resourceType", "id", "meta", "name", "gender", "entry", "type", "request", "resource", "identifier", "extension", "url", "value", "_gender", "status", "code", "x"]) | st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)
resource_like = st.fixed_dictionaries({"resourceType": st.sampled_from(["Patient", "Observation", "Bundle", "Encounter", "Nope", ""])}, optional={"id": st.text(max_size=70), "type": st.sampled_from(["transaction", "batch", "x"]), "entry": json_values, "gender": json_values, "meta": json_values, "identifier": json_values, "status": json_values})
paths = st.sampled_from(["", "Patient", "Patient/1", "Patient/1/_history", "Patient/1/_history/x", "_history", "Patient/_history", "metadata", "Patient/_search", "Nope/1", "Patient/a%20b"])
params = st.dictionaries(st.sampled_from(["_count", "_since", "_at", "identifier", "_id", "_lastUpdated", "_cursor", "_format", "gender", "_total", "x:not"]), st.text(max_size=15), max_size=3)
headers = st.dictionaries(st.sampled_from(["If-Match", "If-None-Exist", "If-None-Match", "Prefer", "Accept", "Content-Type"]), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30), max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), path=paths, query=params, hdrs=headers, body=st.one_of(json_values, resource_like))
async def test_no_5xx(client, method: str, path: str, query: dict, hdrs: dict, body: object) -> None:
    content = jsonio.dumps(body) if method in ("POST", "PUT") else None
    r = await client.request(method, path, params=query, headers=hdrs, content=content)
    assert r.status_code < 500, (r.status_code, r.text)


async def test_huge_numbers_are_kept_or_refused_cleanly(client) -> None:
    body = b'{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":123456789012345678901234567890}}'
    r = await client.post("Observation", content=body, headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 201 and b"123456789012345678901234567890" in r.content
    r = await client.post("Patient", content=b'{"resourceType":"Patient","multipleBirthInteger":99999999999999999999999}', headers={"Content-Type": "application/fhir+json"})
    assert r.status_code in (400, 422)


async def test_fuzzer_finds_are_client_errors(client) -> None:
    """What a bounded fuzzer found answering 500: a version id beyond 64 bits (404 as any
    unknown version), a _has inside a _has (400 naming it), non-ASCII digits in a number."""
    pid = (await client.post("Patient", json={"resourceType": "Patient"}, headers={"Content-Type": "application/fhir+json"})).json()["id"]
    for vid in ("99999999999999999999", "9223372036854775808", "²"):
        assert (await client.get(f"Patient/{pid}/_history/{vid}")).status_code == 404, vid
    for handling in ("strict", "lenient"):
        r = await client.get("Patient", params={"_has:Encounter:subject:_has:Observation:encounter:code": "x"}, headers={"Prefer": f"handling={handling}"})
        assert r.status_code == 400, r.text
        assert r.json()["issue"][0]["expression"] == ["_has:Encounter:subject:_has:Observation:encounter:code"]
    assert (await client.get("Patient", params={"_count": "²"})).status_code == 400


@pytest.mark.parametrize("path", ["Patient?_count=%C2%B2", "Patient/_history?_count=%D9%A3", "_history?_count=%C2%B2"])
async def test_count_in_non_ascii_digits_is_400(client, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["_count"]


async def test_if_match_in_non_ascii_digits_is_not_a_version(client) -> None:
    hdrs = {"Content-Type": "application/fhir+json", "If-Match": b'W/"\xb2"'}  # latin-1 '²'
    await client.put("Patient/e1", json={"resourceType": "Patient", "id": "e1"}, headers={"Content-Type": "application/fhir+json"})
    r = await client.put("Patient/e1", content=b'{"resourceType":"Patient","id":"e1","active":true}', headers=hdrs)
    assert r.status_code in (400, 412), r.text
