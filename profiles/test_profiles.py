"""The generated conformance resources: valid, unique, current, packaged, documented, and the
profiles' invariants hold for what the transfer54 mapping produces (and fail where they should)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from fhirpathpy import compile as fp_compile
from fhirpathpy import evaluate
from fhirpathpy.models import models
from hypothesis import HealthCheck, given, settings

import profiles
from mappings.transfer54.fhir import to_fhir
from mappings.transfer54.fields import CODE_TABLES
from mappings.transfer54.generate import records
from mappings.transfer54.strategies import valid_records
from profiles import generate
from profiles.gen.common import BASE
from profiles.invariants import invariants
from profiles.vn_core import resources as vn_core_resources
from server.fhir.validation import validate_resource

R4 = models["r4"]
HERE = Path(__file__).parent
EXAMPLES = sorted((HERE.parent / "examples" / "transfer54").glob("record-*[0-9].json"))
RES = profiles.resources()
SDS = [r for r in RES.values() if r["resourceType"] == "StructureDefinition"]
PROFILES = [r for r in SDS if r["kind"] == "resource"]


def test_generator_output_is_current() -> None:
    assert generate.stale() == [], "profiles/ or docs/profiles.md is stale: run python -m profiles.generate"


def test_every_resource_is_valid_r4_and_named_by_type_and_id() -> None:
    assert len(RES) == len(list(HERE.glob("[A-Z]*.json")))
    for name, r in RES.items():
        assert validate_resource(r) == [], name
        assert name == f"{r['resourceType']}-{r['id']}.json"


def test_urls_are_unique_and_under_the_base() -> None:
    urls = list(profiles.urls().values())
    assert len(urls) == len(set(urls)) == len(RES)
    national = ("http://fhir.ehealth.gov.vn/core/sid/", "http://fhir.hl7.org.vn/core/sid/")  # a NamingSystem's preferred system
    assert all(u.startswith(BASE + "/") or (key.startswith("NamingSystem/") and u.startswith(national)) for key, u in profiles.urls().items())


def test_extensions_are_constraints_on_extension() -> None:
    exts = [r for r in SDS if r["type"] == "Extension"]
    assert {r["id"] for r in exts} == set(profiles.EXT)
    for r in exts:
        assert r["kind"] == "complex-type" and r["derivation"] == "constraint"
        assert r["baseDefinition"] == "http://hl7.org/fhir/StructureDefinition/Extension"
        elements = {e["path"]: e for e in r["differential"]["element"]}
        assert elements["Extension.url"]["fixedUri"] == r["url"]
        value = elements["Extension.value[x]"]
        assert value.get("type") or (value["max"] == "0" and elements["Extension.extension"]["min"] == 1)


def test_profiles_are_resource_constraints_on_vn_core_or_their_core_type() -> None:
    """Patient, Encounter and the laboratory result derive from VN Core's profiles (of the same
    type, in the package); the others from the R4 core type."""
    vn_core = {r["url"]: r for r in vn_core_resources().values() if r["resourceType"] == "StructureDefinition"}
    assert set(profiles.PROFILE) == {
        "lienthong-patient", "lienthong-encounter", "lienthong-observation-lab", "lienthong-observation-vitals",
        "lienthong-documentreference-transfer", "lienthong-documentreference-discharge", "lienthong-documentreference-summary",
        "lienthong-documentreference-insurance-table"}
    for r in PROFILES:
        assert r["derivation"] == "constraint" and r["fhirVersion"] == "4.0.1" and r["abstract"] is False
        if r["id"] in ("lienthong-patient", "lienthong-encounter", "lienthong-observation-lab"):
            base = vn_core[r["baseDefinition"]]
            assert base["type"] == r["type"] and base["kind"] == "resource", r["id"]
        else:
            assert r["baseDefinition"] == f"http://hl7.org/fhir/StructureDefinition/{r['type']}"
        ids = [e["id"] for e in r["differential"]["element"]]
        assert len(ids) == len(set(ids)), r["id"]
        for e in r["differential"]["element"]:
            assert e["path"].split(".")[0] == r["type"]
            assert e["path"] == ".".join(p.split(":")[0] for p in e["id"].split("."))


def test_every_code_table_has_a_code_system_and_every_code_system_a_value_set() -> None:
    assert {f"t54-{t}" for t in CODE_TABLES} <= set(profiles.CS)
    assert set(profiles.VS) == {f"vs-{c}" for c in profiles.CS}
    for vs in (r for r in RES.values() if r["resourceType"] == "ValueSet"):
        assert [i["system"] for i in vs["compose"]["include"]] == [profiles.CS[vs["id"][3:]]]


def _walk(node: object):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def test_every_binding_points_at_an_existing_value_set() -> None:
    known = set(profiles.VS.values())
    bindings = [n["binding"] for sd in SDS for n in _walk(sd["differential"]) if "binding" in n]
    assert len(bindings) >= 10
    for b in bindings:
        assert b["valueSet"] in known and b["strength"] in ("required", "extensible")


def test_package_manifest_and_index() -> None:
    manifest = json.loads((HERE / "package.json").read_text(encoding="utf-8"))
    assert manifest["name"] == "lienthong.fhir.vn.core" and manifest["fhirVersions"] == ["4.0.1"]
    assert manifest["canonical"] == BASE and manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1"}
    assert manifest["version"] and manifest["description"] and manifest["author"]
    index = json.loads((HERE / ".index.json").read_text(encoding="utf-8"))
    assert index["index-version"] == 1
    listed = {f["filename"]: f for f in index["files"]}
    assert set(listed) == set(RES)
    for name, entry in listed.items():
        r = RES[name]
        assert entry["resourceType"] == r["resourceType"] and entry["id"] == r["id"]
        for key in ("url", "version", "kind", "type"):
            assert entry.get(key) == r.get(key), (name, key)
    assert "package.json" not in RES and ".index.json" not in RES


def test_docs_describe_every_resource_and_invariant() -> None:
    text = generate.DOCS.read_text(encoding="utf-8")
    for r in RES.values():
        assert f"`{r['id']}`" in text, r["id"]
    for sd in PROFILES:
        for c, _ in invariants(sd):
            assert c["key"] in text and c["human"] in text


def _sample(type_: str) -> dict:
    return {"resourceType": type_, "id": "x"}


def test_every_invariant_compiles_and_yields_a_boolean() -> None:
    seen = 0
    for sd in PROFILES:
        for c, full in invariants(sd):
            assert {"key", "severity", "human", "expression", "source"} <= set(c) and c["severity"] in ("error", "warning")
            assert c["source"] == sd["url"]
            fp_compile(c["expression"], R4)
            assert evaluate(_sample(sd["type"]), full, model=R4) in ([True], [False])
            seen += 1
    assert seen >= 8


def _failures(resource: dict, profile_id: str) -> list[str]:
    sd = next(r for r in PROFILES if r["id"] == profile_id)
    return [c["key"] for c, full in invariants(sd) if evaluate(resource, full, model=R4) != [True]]


APPLIES = {"Patient": ["lienthong-patient"], "Encounter": ["lienthong-encounter"]}


def _applicable(resource: dict) -> list[str]:
    if resource["resourceType"] == "Observation":
        cats = {c.get("code") for cc in resource.get("category", []) for c in cc.get("coding", [])}
        return ["lienthong-observation-vitals"] if "vital-signs" in cats else ["lienthong-observation-lab"]
    if resource["resourceType"] == "DocumentReference":
        codes = {c.get("code") for c in resource["type"]["coding"]}
        return [sd["id"] for sd in PROFILES if sd["type"] == "DocumentReference" and
                next(e for e in sd["differential"]["element"] if e["id"] == "DocumentReference.type")
                ["patternCodeableConcept"]["coding"][0].get("code") in codes]
    return APPLIES.get(resource["resourceType"], [])


def _mapped(record: dict) -> list[dict]:
    return [e["resource"] for e in to_fhir(record)["entry"]]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_transfer54_examples_meet_the_invariants(path: Path) -> None:
    resources = _mapped(json.loads(path.read_text(encoding="utf-8")))
    checked = set()
    for r in resources:
        for pid in _applicable(r):
            assert _failures(r, pid) == [], (path.name, pid)
            checked.add(pid)
    assert {"lienthong-patient", "lienthong-encounter", "lienthong-documentreference-transfer"} <= checked


def test_generated_transfer54_records_meet_the_invariants() -> None:
    for record in records(11, 30):
        for r in _mapped(record):
            for pid in _applicable(r):
                assert _failures(r, pid) == [], pid


def _one(resources: list[dict], type_: str) -> dict:
    return copy.deepcopy(next(r for r in resources if r["resourceType"] == type_))


def test_invariants_fail_where_they_should() -> None:
    resources = _mapped(json.loads(EXAMPLES[0].read_text(encoding="utf-8")))
    pat = _one(resources, "Patient")
    pat["identifier"] = [
        {"system": profiles.SID["cccd"], "value": "12345678901"},
        {"system": profiles.SID["the-bhyt"], "value": "DN47912345678"},
        {"system": "urn:other", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
         "value": "BN1"},
    ]
    assert _failures(pat, "lienthong-patient") == ["vn-pat-1", "vn-pat-2", "vn-pat-3"]
    pat["identifier"] = [{"system": profiles.SID["cccd"], "value": "001234567890"},
                         {"system": profiles.SID["the-bhyt"], "value": "DN4791234567890"},
                         {"system": profiles.SID["ma-bn"] + "/46001", "value": "BN1",
                          "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}}]
    assert _failures(pat, "lienthong-patient") == []
    enc = _one(resources, "Encounter")
    enc["identifier"] = [{"system": profiles.SID["ma-bn"] + "/46001", "value": "LK"}]
    assert _failures(enc, "lienthong-encounter") == ["vn-enc-1"]
    vit = {"resourceType": "Observation", "valueQuantity": {"value": 50, "unit": "kg"}}
    assert _failures(vit, "lienthong-observation-vitals") == ["vn-vit-1"]
    lab = {"resourceType": "Observation", "valueQuantity": {"unit": "mmol/L"}}
    assert _failures(lab, "lienthong-observation-lab") == ["vn-lab-2"]
    assert _failures({"resourceType": "Observation"}, "lienthong-observation-lab") == ["vn-lab-1"]
    doc = _one(resources, "DocumentReference")
    doc["content"] = [{"attachment": {"contentType": "application/json"}}]
    assert _failures(doc, "lienthong-documentreference-transfer") == ["vn-doc-1"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_records())
def test_any_valid_transfer54_record_meets_the_invariants(record: dict[str, str]) -> None:
    for r in _mapped(record):
        for pid in _applicable(r):
            assert _failures(r, pid) == [], pid
