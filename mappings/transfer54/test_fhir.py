"""to_fhir / from_fhir: lossless round trip, valid resources, and the profiles they rely on."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import profiles
from profiles import generate as profile_generator
from server import jsonio
from server.fhir.validation import validate_resource

from . import fhir
from .fhir import from_fhir, to_fhir
from .fields import FIELDS
from .generate import records
from .strategies import valid_records
from .validate import validate

HERE = Path(__file__).parent
SAMPLES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((HERE / "testdata").glob("*.json"))]
GENERATED = list(records(7, 50))
BASE = "https://lienthong.dev/fhir"


def _issues(bundle: dict) -> list[str]:
    out = []
    for i, e in enumerate(bundle["entry"]):
        out += [f"entry {i} {e['resource']['resourceType']}: {x.diagnostics}" for x in validate_resource(e["resource"])]
    return out


def _without_attachment_data(bundle: dict) -> dict:
    b = copy.deepcopy(bundle)
    for e in b["entry"]:
        if e["resource"]["resourceType"] == "DocumentReference":
            for c in e["resource"]["content"]:
                del c["attachment"]["data"]
    return b


def _check(record: dict[str, str]) -> None:
    assert validate(record) == []
    bundle = to_fhir(record)
    assert from_fhir(bundle) == record
    # as the server sees it: JSON text with exact decimals
    assert from_fhir(jsonio.loads(jsonio.dumps(bundle))) == record
    # rebuilt from the FHIR elements, not from the embedded original
    assert from_fhir(_without_attachment_data(bundle)) == record
    assert _issues(bundle) == []


def test_samples_are_present() -> None:
    assert len(SAMPLES) == 2


@pytest.mark.parametrize("record", SAMPLES, ids=["sample-0", "sample-1"])
def test_samples_round_trip_and_validate(record: dict[str, str]) -> None:
    _check(record)


def test_generated_records_round_trip_and_validate() -> None:
    assert len(GENERATED) == 50
    for record in GENERATED:
        _check(record)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_records())
def test_any_valid_record_round_trips_and_validates(record: dict[str, str]) -> None:
    _check(record)


def test_whitespace_only_and_odd_values_survive() -> None:
    record = dict(SAMPLES[0], HO_TEN=" \t", DIA_CHI="\r\n", LY_DO_VV=" ", CHAN_DOAN_RV="\u3000", MA_BN=" ",
                  MA_BAC_SI=" a,b|c\\d$ ", MA_KHOA=" ", TINH_TRANG_CT="\n", CAN_NANG="007.50", SO_CHUYENTUYEN=" ",
                  NHOM_MAU=" ", MA_DOITUONG_KCB=" ", DIEN_THOAI=" ", CHAN_DOAN_VAO=" ", MA_TTDV=" ")
    _check(record)


def test_output_is_deterministic_and_shaped() -> None:
    record = SAMPLES[1]
    a, b = to_fhir(record), to_fhir(record)
    assert jsonio.dumps(a) == jsonio.dumps(b)
    assert a["resourceType"] == "Bundle" and a["type"] == "transaction"
    urls = [e["fullUrl"] for e in a["entry"]]
    assert len(set(urls)) == len(urls) and all(u.startswith("urn:uuid:") for u in urls)
    by_type: dict[str, list[dict]] = {}
    for e in a["entry"]:
        by_type.setdefault(e["resource"]["resourceType"], []).append(e)
    # one Organization per distinct facility code, conditional create + conditional references
    assert len(by_type["Organization"]) == 3
    for e in by_type["Organization"] + by_type["Practitioner"] + by_type["Patient"]:
        assert e["request"]["ifNoneExist"].startswith("identifier=")
    enc = by_type["Encounter"][0]["resource"]
    assert enc["serviceProvider"]["reference"] == "Organization?" + by_type["Organization"][0]["request"]["ifNoneExist"]
    assert enc["period"] == {"start": "2025-11-06T05:45:00+07:00", "end": "2025-11-10T00:49:00+07:00"}
    pat = by_type["Patient"][0]["resource"]
    assert pat["name"][0] == {"use": "official", "text": "Huỳnh Thanh Quang", "family": "Huỳnh", "given": ["Thanh", "Quang"]}
    assert pat["birthDate"] == "2019-06-03" and pat["gender"] == "female"
    assert pat["_birthDate"]["extension"][0]["valueDateTime"] == "2019-06-03T14:42:00+07:00"
    obs = by_type["Observation"][0]["resource"]
    assert obs["code"]["coding"][0]["code"] == "29463-7" and obs["valueQuantity"]["unit"] == "kg"
    doc = by_type["DocumentReference"][0]["resource"]
    data = doc["content"][0]["attachment"]
    assert data["contentType"] == "application/json"
    import base64
    assert json.loads(base64.b64decode(data["data"])) == record


@pytest.mark.parametrize("ngay_sinh,birth_date,time", [
    ("198700000000", "1987", None), ("198507000000", "1985-07", None),
    ("198507140000", "1985-07-14", None), ("198507141530", "1985-07-14", "1985-07-14T15:30:00+07:00")])
def test_birth_date_precision(ngay_sinh: str, birth_date: str, time: str | None) -> None:
    record = dict(SAMPLES[0], NGAY_SINH=ngay_sinh)
    pat = next(e["resource"] for e in to_fhir(record)["entry"] if e["resource"]["resourceType"] == "Patient")
    assert pat["birthDate"] == birth_date
    assert (pat.get("_birthDate", {}).get("extension", [{}])[0].get("valueDateTime")) == time
    assert from_fhir(to_fhir(record)) == record


def test_decimal_kept_exactly() -> None:
    for written in ("48", "48.50", "0.5", "007", "00.10", "123456"):
        bundle = jsonio.loads(jsonio.dumps(to_fhir(dict(SAMPLES[0], CAN_NANG=written))))
        obs = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
        assert obs["valueQuantity"]["value"] == __import__("decimal").Decimal(written)
        assert from_fhir(bundle)["CAN_NANG"] == written
    obs = next(e["resource"] for e in to_fhir(dict(SAMPLES[0], CAN_NANG="48.50"))["entry"]
               if e["resource"]["resourceType"] == "Observation")
    assert jsonio.dumps(obs["valueQuantity"]).startswith(b'{"value":48.50,')


# ----------------------------------------------------------------------------- profiles

def test_profiles_are_up_to_date() -> None:
    assert profile_generator.stale() == [], "profiles/ is stale: run python -m profiles.generate"


def _project_urls(node: object, found: set[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("url", "system") and isinstance(v, str) and v.startswith(BASE):
                found.add(v)
            _project_urls(v, found)
    elif isinstance(node, list):
        for v in node:
            _project_urls(v, found)


def test_every_project_url_in_the_output_is_defined_in_profiles() -> None:
    defined = set(profiles.urls().values())
    per_facility = {profiles.SID["ma-bn"], profiles.SID["ma-lk"]}
    found: set[str] = set()
    for record in SAMPLES + GENERATED[:10]:
        _project_urls([e["resource"] for e in to_fhir(record)["entry"]], found)
    for url in found:
        assert url in defined or url.rsplit("/", 1)[0] in per_facility, url
    source = Path(fhir.__file__).read_text(encoding="utf-8")
    assert "lienthong.dev" not in source, "project URLs must come from profiles/, not literals"


def test_all_fields_are_mapped() -> None:
    record = dict(SAMPLES[1], MA_BENH_KT="I10;E78.5", MA_BENH_YHCT="U50.031;U62.481")
    record = {f.name: record[f.name] for f in FIELDS if f.name in record}
    assert len(record) == 54
    _check(record)


VN_CORE = "http://fhir.ehealth.gov.vn/core/StructureDefinition/"
VN_CORE_PROFILES = {"Patient": "vn-core-patient", "Encounter": "vn-core-encounter", "Condition": "vn-core-condition-encounter-diagnosis",
                    "Organization": "vn-core-provider", "Practitioner": "vn-core-practitioner"}


def test_everything_with_a_vn_core_profile_meets_it() -> None:
    """The Ministry's profiles for every resource the transfer record gives that VN Core profiles:
    the patient, the episode, its diagnoses, the facilities and the health workers (what VN Core
    requires and the record lacks, e.g. a facility's name, is marked data-absent)."""
    from server.fhir.profiling import validate as profile_validate

    checked = 0
    for record in [*SAMPLES, *GENERATED[:20]]:
        for e in to_fhir(record)["entry"]:
            name = VN_CORE_PROFILES.get(e["resource"]["resourceType"])
            if name:
                errors = [i.diagnostics for i in profile_validate(e["resource"], [VN_CORE + name]) if i.severity == "error"]
                assert errors == [], errors
                checked += 1
    assert checked >= 22 * 6


def test_bundles_from_before_vn_core_diagnosis_roles_still_read() -> None:
    """Stored bundles mark the main disease DD with rank 1 (before VN Core's CC): read the same."""
    from mappings.fhir_terms import DIAG_ROLE

    record = SAMPLES[0]
    old = _without_attachment_data(to_fhir(record))
    for e in old["entry"]:
        for n, d in enumerate(e["resource"].get("diagnosis", [])):
            if d["use"]["coding"][0]["code"] == "CC":
                d["use"] = {"coding": [{"system": DIAG_ROLE, "code": "DD"}]}
            d["rank"] = n + 1
    assert from_fhir(old) == record
