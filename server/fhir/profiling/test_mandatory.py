"""Choosing the Vietnamese core profile a write must pass, and refusing when none applies."""

from __future__ import annotations

import profiles
from server.fhir.profiling.mandatory import default_profile, problems

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def obs(category: str | None) -> dict:
    r = {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]}, "subject": {"reference": "Patient/p"}}
    if category:
        r["category"] = [{"coding": [{"system": CATEGORY, "code": category}]}]
    return r


def test_single_profile_types_default_to_it() -> None:
    assert default_profile({"resourceType": "Patient"}) == (profiles.PROFILE["lienthong-patient"], "")
    assert default_profile({"resourceType": "Encounter"}) == (profiles.PROFILE["lienthong-encounter"], "")


def test_observation_by_category() -> None:
    assert default_profile(obs("laboratory"))[0] == profiles.PROFILE["lienthong-observation-lab"]
    assert default_profile(obs("vital-signs"))[0] == profiles.PROFILE["lienthong-observation-vitals"]
    url, why = default_profile(obs("imaging"))
    assert url is None and "category matches none" in why


def test_document_reference_by_type() -> None:
    transfer = {"resourceType": "DocumentReference", "type": {"coding": [{"system": "http://loinc.org", "code": "57133-1"}]}}
    assert default_profile(transfer)[0] == profiles.PROFILE["lienthong-documentreference-transfer"]
    assert default_profile({"resourceType": "DocumentReference", "type": {"text": "x"}})[0] is None


def test_problems_are_errors_only_and_name_the_profile() -> None:
    found = problems({"resourceType": "Patient", "gender": "male"})
    assert found and all(i.severity == "error" for i in found)
    assert any("Patient.name" in i.diagnostics and profiles.PROFILE["lienthong-patient"] in i.diagnostics for i in found)
    assert problems({"resourceType": "Patient", "gender": "male", "name": [{"family": "A", "text": "A"}]}) == []


def test_claiming_only_a_foreign_or_unknown_profile_is_refused() -> None:
    found = problems({"resourceType": "Patient", "meta": {"profile": ["urn:unknown"]}, "gender": "male", "name": [{"family": "A"}]})
    texts = " ".join(i.diagnostics for i in found)
    assert "claims none of" in texts and "urn:unknown is not known" in texts


def test_types_outside_the_core_are_free() -> None:
    assert problems({"resourceType": "Condition", "subject": {"reference": "Patient/1"}}) == []


def test_setting_from_env_and_command_line(monkeypatch) -> None:
    from server.cli import build_parser
    from server.config import Settings

    assert Settings().require_profiles is False
    monkeypatch.setenv("LIENTHONG_REQUIRE_PROFILES", "1")
    assert Settings.from_env().require_profiles is True
    monkeypatch.setenv("LIENTHONG_REQUIRE_PROFILES", "0")
    assert Settings.from_env().require_profiles is False
    assert build_parser().parse_args(["serve", "--require-profiles"]).require_profiles is True
    assert build_parser().parse_args(["serve"]).require_profiles is False


def test_unknown_extensions_do_not_stop_a_write_but_misused_known_ones_do() -> None:
    vendor = {"url": "http://vendor.vn/fhir/StructureDefinition/loyalty", "valueString": "gold"}
    assert problems({"resourceType": "Patient", "gender": "male", "name": [{"family": "A", "text": "A"}], "extension": [vendor]}) == []
    own_name = {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-name", "valueString": "A"}
    found = problems({"resourceType": "Patient", "gender": "male", "name": [{"family": "A", "text": "A", "extension": [own_name]}]})
    assert [i.expression for i in found] == [("Patient.name[0].extension[0]",)]


def test_a_laboratory_result_is_held_to_vn_cores_category_exactly() -> None:
    """lienthong-observation-lab derives from VN Core's laboratory result, which fixes the category
    with its display and text: a result with the code alone is still recognised as laboratory, and
    told exactly what the category must be."""
    found = problems(obs("laboratory"))
    assert any(i.expression == ("Observation.category[0]",) and '"text": "laboratory"' in i.diagnostics for i in found), found
