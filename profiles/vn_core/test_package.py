"""The VN Core package: every source resource converted, valid R4, repairs named, nothing else changed."""

from __future__ import annotations

import json
from importlib.resources import files

from profiles import vn_core
from profiles.vn_core.convert import MANIFEST, convert
from server.fhir.validation import validate_resource

RES = vn_core.resources()


def test_the_package_holds_the_guides_107_resources_and_its_manifest() -> None:
    kinds: dict[str, int] = {}
    for r in RES.values():
        kinds[r["resourceType"]] = kinds.get(r["resourceType"], 0) + 1
    assert kinds == {"CodeSystem": 10, "NamingSystem": 9, "StructureDefinition": 65, "ValueSet": 23}
    manifest = json.loads((files("profiles.vn_core") / "package" / "package.json").read_text(encoding="utf-8"))
    assert manifest == MANIFEST and manifest["fhirVersions"] == ["4.0.1"]


def test_every_resource_is_valid_r4_and_named_by_type_and_id() -> None:
    for name, r in RES.items():
        assert name == f"{r['resourceType']}-{r['id']}.json"
        assert validate_resource(r) == [], name


def test_canonical_urls_stay_as_published() -> None:
    urls = {r["url"] for r in RES.values() if "url" in r}
    assert "http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-core-patient" in urls
    assert "http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-core-obervation-result-base" in urls  # [sic], as published
    patient = RES["StructureDefinition-vn-core-patient.json"]
    slices = {e["sliceName"] for e in patient["differential"]["element"] if e.get("sliceName") and e["id"].startswith("Patient.identifier:")}
    assert {"TheCCCD", "TheBHYT", "SoHoChieu", "MaBenhNhan"} <= slices


def test_the_repairs_are_the_named_ones_only() -> None:
    fixed, notes = convert({"resourceType": "NamingSystem", "id": "a_b", "name": "x", "description": " "})
    assert fixed == {"resourceType": "NamingSystem", "id": "a-b", "name": "x"} and len(notes) == 2
    kept = {"resourceType": "ValueSet", "id": "ok", "url": "http://x/ValueSet/ok", "status": "draft"}
    assert convert(kept) == (kept, [])


def test_served_beside_this_projects_resources_without_a_clash() -> None:
    import profiles

    keys = [(r["resourceType"], r["id"]) for r in profiles.served()]
    assert len(keys) == len(set(keys)) == len(profiles.resources()) + len(RES)


def test_every_vn_core_profile_is_usable_by_the_validator() -> None:
    """Each of VN Core's resource profiles checks a bare instance of its type: no crash, and
    what it finds is attributed to that profile (or to a base it names)."""
    from server.fhir.profiling import validate

    profiles_ = [r for r in RES.values() if r["resourceType"] == "StructureDefinition" and r.get("kind") == "resource"]
    assert len(profiles_) >= 50
    for sd in profiles_:
        issues = validate({"resourceType": sd["type"], "id": "x"}, [sd["url"]])
        assert all(i.severity in ("error", "warning", "information") for i in issues), sd["url"]
        assert not any("not known to this server" in i.diagnostics for i in issues), sd["url"]
