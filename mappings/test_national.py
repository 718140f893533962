"""Both mappings write the patient's coded facts as VN Core's extensions, and still read the old ones."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings

from profiles import CS, EXT, SID
from server import jsonio
from server.fhir.profiling import validate

from . import national
from .bhyt_xml import strategies as bhyt_strategies
from .bhyt_xml.fhir import from_fhir as bhyt_from_fhir
from .bhyt_xml.fhir import to_fhir as bhyt_to_fhir
from .transfer54.fhir import from_fhir as t54_from_fhir
from .transfer54.fhir import to_fhir as t54_to_fhir
from .transfer54.strategies import valid_records

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
VN_CORE_PATIENT = "http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-core-patient"
OLD_URLS = {EXT[f"t54-{t}"] for t in ("ethnicity", "nationality", "occupation", "province", "district", "commune")}


def _patient(bundle: dict) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")


def _old_systems(node: object) -> None:
    """Codings of VN Core's medicine and service lists back under this project's old systems."""
    back = {new: old for old, new in national.RENAMED_SYSTEMS.items()}
    if isinstance(node, dict):
        if node.get("system") in back and "code" in node:
            node["system"] = back[node["system"]]
        for value in node.values():
            _old_systems(value)
    elif isinstance(node, list):
        for value in node:
            _old_systems(value)


def _as_before(bundle: dict) -> dict:
    """The bundle as the mappings wrote it before following VN Core: ``t54-*`` extensions with a
    Coding, the old medicine and service code systems."""
    old = copy.deepcopy(bundle)
    _old_systems(old)
    patient = _patient(old)
    exts = []
    for e in patient.get("extension", []):
        table = next((t for t, (url, _) in national.PATIENT_CODED.items() if url == e["url"]), None)
        if table is None:
            exts.append(e)
            continue
        coding = dict(e["valueCodeableConcept"]["coding"][0], system=CS[f"t54-{table}"])
        exts.append({"url": EXT[f"t54-{table}"], "valueCoding": coding})
    if exts:
        patient["extension"] = exts
    for address in patient.get("address", []):
        kept = [e for e in address.get("extension", []) if e["url"] != national.ADMINISTRATIVE_ADDRESS]
        for table in national.ADDRESS_PARTS:
            code = national.address_code(address, table)
            if code is not None:
                kept.append({"url": EXT[f"t54-{table}"], "valueCoding": {"system": CS[f"t54-{table}"], "code": code}})
        if kept:
            address["extension"] = kept
        else:
            address.pop("extension", None)
    return old


def _vn_core_errors(patient: dict) -> list[str]:
    return [i.diagnostics for i in validate(jsonio.loads(jsonio.dumps(patient)), [VN_CORE_PATIENT]) if i.severity == "error"]


VN_CORE = "http://fhir.ehealth.gov.vn/core/StructureDefinition/"
#: the VN Core profile of each type the mappings produce, where VN Core has one
VN_CORE_PROFILE = {"Patient": "vn-core-patient", "Encounter": "vn-core-encounter", "Condition": "vn-core-condition-encounter-diagnosis",
                   "Organization": "vn-core-provider", "Practitioner": "vn-core-practitioner", "MedicationRequest": "vn-core-medication-request",
                   "Procedure": "vn-core-procedure", "Observation": "vn-core-observation-lab-code"}


def _bundle_vn_core_errors(bundle: dict) -> list[str]:
    """Every error of every resource against its VN Core profile (a vital sign has none)."""
    found = []
    for entry in jsonio.loads(jsonio.dumps(bundle))["entry"]:
        r = entry["resource"]
        name = VN_CORE_PROFILE.get(r["resourceType"])
        if name is None or (r["resourceType"] == "Observation" and r["category"][0]["coding"][0]["code"] != "laboratory"):
            continue
        found += [f"{r['resourceType']}: {i.diagnostics}" for i in validate(r, [VN_CORE + name]) if i.severity == "error"]
    return found


def test_the_transfer_record_writes_vn_core_extensions() -> None:
    record = {"MA_DANTOC": "28", "MA_QUOCTICH": "000", "MA_NGHE_NGHIEP": "00010", "MATINH_CU_TRU": "68",
              "MAHUYEN_CU_TRU": "672", "MAXA_CU_TRU": "24820", "DIA_CHI": "Số 2, Đà Lạt"}
    from .transfer54.generate import records

    full = {**records(54, 1)[0], **record}
    patient = _patient(t54_to_fhir(full))
    race = next(e for e in patient["extension"] if e["url"] == "http://fhir.ehealth.gov.vn/core/StructureDefinition/extension-race")
    assert race["valueCodeableConcept"]["coding"][0] == {"system": "http://fhir.ehealth.gov.vn/core/CodeSystem/vn-core-race", "code": "28", "display": "Mạ"}
    admin = patient["address"][0]["extension"][0]
    assert admin["url"] == "http://fhir.ehealth.gov.vn/core/StructureDefinition/extension-administrative-address"
    assert [(p["url"], p["valueCodeableConcept"]["coding"][0]["code"]) for p in admin["extension"]] == [
        ("state", "68"), ("district", "672"), ("ward", "24820")]
    assert not OLD_URLS & {e["url"] for e in patient["extension"]}
    internal = [i for i in patient["identifier"] if i["system"] == national.INTERNAL_ID]
    assert internal == [{"system": national.INTERNAL_ID, "value": full["MA_BN"],
                         "assigner": {"identifier": {"system": SID["ma-cskcb"], "value": full["MA_CSKCB"]}}}]
    assert _vn_core_errors(patient) == []


@SETTINGS
@given(valid_records())
def test_transfer_records_meet_vn_core_and_read_the_same_from_the_old_extensions(record: dict) -> None:
    bundle = t54_to_fhir(record)
    assert not OLD_URLS & set(jsonio.dumps(bundle).decode().split('"'))
    assert _bundle_vn_core_errors(bundle) == []
    assert t54_from_fhir(_as_before(bundle)) == t54_from_fhir(bundle) == t54_from_fhir(jsonio.loads(jsonio.dumps(bundle)))


@pytest.mark.parametrize("standard", ["130", "3176", "4210"])
def test_insurance_episodes_meet_vn_core_and_read_the_same_from_the_old_extensions(standard: str) -> None:
    @SETTINGS
    @given(bhyt_strategies.episodes(standard))
    def check(episode) -> None:  # type: ignore[no-untyped-def]
        _check_insurance_episode(episode)

    check()


def _check_insurance_episode(episode) -> None:  # type: ignore[no-untyped-def]
    bundle = bhyt_to_fhir(episode)
    patient = _patient(bundle)
    assert not OLD_URLS & set(jsonio.dumps(bundle).decode().split('"'))
    assert _vn_core_errors(patient) == [] and _bundle_vn_core_errors(bundle) == []
    assert bhyt_from_fhir(_as_before(bundle)).tables == bhyt_from_fhir(bundle).tables
    assert not set(national.RENAMED_SYSTEMS) & set(jsonio.dumps(bundle).decode().split('"'))


def test_medicine_and_service_codes_are_vn_cores_lists() -> None:
    from .bhyt_xml.envelope import Episode

    episode = Episode(ma_lk="1", standard="130", tables={
        "XML1": [{"MA_LK": "1", "MA_BN": "BN1"}], "XML2": [{"MA_LK": "1", "STT": "1", "MA_THUOC": "40.17"}],
        "XML3": [{"MA_LK": "1", "STT": "1", "MA_DICH_VU": "02.1896"}]})
    bundle = bhyt_to_fhir(episode)
    systems = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    assert systems["MedicationRequest"]["medicationCodeableConcept"]["coding"][0]["system"] == "http://fhir.ehealth.gov.vn/core/CodeSystem/vn-core-medicationCode"
    assert systems["Procedure"]["code"]["coding"][0]["system"] == "http://fhir.ehealth.gov.vn/core/CodeSystem/vn-core-procedureCode"
    assert bhyt_from_fhir(_as_before(bundle)).tables == bhyt_from_fhir(bundle).tables == episode.tables


def test_upgrade_rewrites_once_and_keeps_the_other_extensions_in_place() -> None:
    blood = {"url": EXT["t54-blood-group"], "valueString": "B+"}
    patient = {"resourceType": "Patient", "extension": [
        {"url": EXT["t54-occupation"], "valueCoding": {"system": CS["t54-occupation"], "code": "00010"}}, blood],
        "address": [{"extension": [{"url": EXT["t54-commune"], "valueCoding": {"code": "24820"}},
                                   {"url": EXT["t54-province"], "valueCoding": {"code": "68"}}], "text": "x"}]}
    patient["identifier"] = [{"system": f"{SID['ma-bn']}/46001", "value": "BN1"}]
    assert national.upgrade(patient) is True
    assert patient["identifier"][1] == {"system": national.INTERNAL_ID, "value": "BN1",
                                        "assigner": {"identifier": {"system": SID["ma-cskcb"], "value": "46001"}}}
    assert patient["extension"][1] == blood and national.patient_code(patient, "occupation") == "00010"
    parts = patient["address"][0]["extension"][0]["extension"]
    assert [p["url"] for p in parts] == ["state", "ward"]  # VN Core's order: province before commune
    before = copy.deepcopy(patient)
    assert national.upgrade(patient) is False and patient == before
