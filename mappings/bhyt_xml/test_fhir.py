"""The insurance-table mapping: lossless both ways, standards translated, the rules table sound."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from profiles import CS, EXT
from server import jsonio
from server.fhir.validation import validate_resource

from . import read_envelope
from .envelope import Episode
from .fhir import UnmappableEpisode, converter, from_fhir, rules, to_fhir
from .layouts import layout, layouts, table_exists

TESTDATA = Path(__file__).with_name("testdata")


def _samples(standard: str) -> list[Episode]:
    return list(read_envelope(TESTDATA / f"giamdinhhs-{standard}.xml"))


def _through_json(bundle: dict) -> dict:
    return jsonio.loads(jsonio.dumps(bundle))


def _resources(bundle: dict, type_: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == type_]


def _minimal(standard: str = "130", **xml1: str) -> Episode:
    return Episode(ma_lk="LK1", standard=standard, tables={"XML1": [{"MA_LK": "LK1", "MA_CSKCB": "46001", **xml1}]})


@pytest.mark.parametrize("standard", ["130", "4210"])
def test_samples_round_trip(standard: str) -> None:
    for ep in _samples(standard):
        bundle = _through_json(to_fhir(ep))
        back = from_fhir(bundle)
        assert back.standard == standard and back.ma_lk == ep.ma_lk
        assert back.tables == ep.tables


@pytest.mark.parametrize("standard", ["130", "4210"])
def test_every_resource_passes_base_validation(standard: str) -> None:
    for ep in _samples(standard):
        for entry in to_fhir(ep)["entry"]:
            assert validate_resource(_through_json(entry["resource"])) == [], entry["resource"]["resourceType"]


def test_clinical_homes_of_the_tables() -> None:
    ep = max(_samples("130"), key=lambda e: len(e.tables))
    bundle = to_fhir(ep)
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Encounter", "Coverage", "Condition", "Organization"} <= types
    for table, rtype in (("XML2", "MedicationRequest"), ("XML3", "Procedure"), ("XML4", "Observation"),
                         ("XML5", "ClinicalImpression")):
        if ep.tables.get(table):
            assert len([r for r in _resources(bundle, rtype) if rtype != "Observation"
                        or r["category"][0]["coding"][0]["code"] == "laboratory"]) == len(ep.tables[table])
    enc = _resources(bundle, "Encounter")[0]
    assert enc["period"]["start"].endswith("+07:00")
    assert next(e for e in enc["extension"] if e["url"] == EXT["bhyt-standard"])["valueCode"] == "130"
    # money is typed Money in VND
    amounts = next(e for e in enc["extension"] if e["url"] == EXT["bhyt-amounts"])["extension"]
    assert all(a["valueMoney"]["currency"] == "VND" for a in amounts if "valueMoney" in a)
    assert {a["url"] for a in amounts} >= {n for n in ep.tables["XML1"][0] if n.startswith("T_") and ep.tables["XML1"][0][n]}


def test_medication_row_elements() -> None:
    ep = _minimal()
    ep.tables["XML2"] = [{"MA_LK": "LK1", "STT": "1", "MA_THUOC": "40.17", "TEN_THUOC": "Paracetamol 500mg",
                          "DUONG_DUNG": "1.01", "LIEU_DUNG": "2 viên/ngày", "SO_LUONG": "10", "DON_VI_TINH": "viên",
                          "DON_GIA": "1250.50", "MA_BAC_SI": "000123/HCM-CCHN", "NGAY_YL": "202501150830"}]
    bundle = to_fhir(ep)
    med = _resources(bundle, "MedicationRequest")[0]
    assert med["medicationCodeableConcept"] == {"coding": [{"system": "http://fhir.ehealth.gov.vn/core/CodeSystem/vn-core-medicationCode", "code": "40.17"}], "text": "Paracetamol 500mg"}
    assert med["dosageInstruction"][0]["route"]["coding"][0]["code"] == "1.01"
    assert med["dispenseRequest"]["quantity"] == {"value": 10, "unit": "viên"} or str(med["dispenseRequest"]["quantity"]["value"]) == "10"
    assert med["authoredOn"] == "2025-01-15T08:30:00+07:00"
    assert med["requester"]["reference"].startswith("Practitioner?identifier=")
    price = next(e for e in med["extension"] if e["url"] == EXT["bhyt-amounts"])["extension"][0]
    assert price["url"] == "DON_GIA" and str(price["valueMoney"]["value"]) == "1250.50"
    assert from_fhir(_through_json(bundle)).tables == ep.tables


def test_lab_result_number_or_text_and_link_to_its_service() -> None:
    ep = _minimal()
    ep.tables["XML3"] = [{"MA_LK": "LK1", "STT": "1", "MA_DICH_VU": "23.0166.1494", "TEN_DICH_VU": "Định lượng Glucose"}]
    ep.tables["XML4"] = [
        {"MA_LK": "LK1", "STT": "1", "MA_DICH_VU": "23.0166.1494", "MA_CHI_SO": "GLU", "GIA_TRI": "5.6", "DON_VI_DO": "mmol/L"},
        {"MA_LK": "LK1", "STT": "2", "MA_DICH_VU": "23.0166.1494", "MA_CHI_SO": "HBsAg", "GIA_TRI": "Âm tính", "DON_VI_DO": "-"},
    ]
    bundle = to_fhir(ep)
    labs = [o for o in _resources(bundle, "Observation") if o["category"][0]["coding"][0]["code"] == "laboratory"]
    assert str(labs[0]["valueQuantity"]["value"]) == "5.6" and labs[0]["valueQuantity"]["unit"] == "mmol/L"
    assert labs[1]["valueString"] == "Âm tính" and "valueQuantity" not in labs[1]
    proc_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure")
    assert all(o["partOf"] == [{"reference": proc_url}] for o in labs)
    assert from_fhir(_through_json(bundle)).tables == ep.tables


@pytest.mark.parametrize("field,value", [
    ("SO_NGAY_DTRI", "007"), ("CAN_NANG", "62.50"), ("CAN_NANG", "062"), ("NGAY_VAO", "2025011508"),
    ("NGAY_SINH", "198500000000"), ("NGAY_SINH", "19850714"), ("GIOI_TINH", "9"), ("MA_NOI_DI", "46001;46002"),
    ("MA_THE_BHYT", "DN4791234567890;;HT2712510240337"), ("MA_BENH_KT", "J18.9;I10"), ("MA_BENH_KT", "J18.9; I10"),
    ("T_BHTT", "00012"), ("T_BHTT", "1e3"), ("T_BHTT", "-0"), ("GHI_CHU", "a  &  <b>\n\tc ]]>"), ("MA_KHOA", ""),
])
def test_values_an_element_cannot_carry_are_kept(field: str, value: str) -> None:
    ep = _minimal(**{field: value})
    assert from_fhir(_through_json(to_fhir(ep))).tables == ep.tables


def test_periods_never_end_before_they_start_and_the_dates_are_kept() -> None:
    # R4's per-1: an end before the start is declined (kept as text, like any value FHIR cannot carry)
    ep = _minimal(NGAY_VAO="202501150800", NGAY_RA="202501141000", MA_THE_BHYT="DN4791234567890;HT2712510240337",
                  GT_THE_TU="20250101;20250101", GT_THE_DEN="20251231;20241231")
    ep.tables["XML3"] = [{"MA_LK": "LK1", "STT": "1", "MA_DICH_VU": "01.0001", "NGAY_TH_YL": "202501151020", "NGAY_KQ": "202412041711"}]
    bundle = _through_json(to_fhir(ep))
    [enc], [proc] = _resources(bundle, "Encounter"), _resources(bundle, "Procedure")
    assert enc["period"] == {"start": "2025-01-15T08:00:00+07:00"} and proc["performedPeriod"] == {"start": "2025-01-15T10:20:00+07:00"}
    assert all("end" not in c.get("period", {}) for c in _resources(bundle, "Coverage"))
    assert from_fhir(bundle).tables == ep.tables
    ep.tables["XML1"][0]["NGAY_RA"] = "202501161000"
    assert _resources(_through_json(to_fhir(ep)), "Encounter")[0]["period"]["end"] == "2025-01-16T10:00:00+07:00"


def test_rows_keep_their_order_and_empty_fields() -> None:
    ep = _minimal()
    ep.tables["XML5"] = [{"MA_LK": "LK1", "STT": str(9 - i), "DIEN_BIEN_LS": f"Ngày {i}", "HOI_CHAN": ""} for i in range(8)]
    assert from_fhir(_through_json(to_fhir(ep))).tables == ep.tables


def test_fields_no_standard_knows_are_kept() -> None:
    ep = _minimal(TRUONG_MOI="giá trị", TRUONG_RONG="")
    assert from_fhir(to_fhir(ep)).tables == ep.tables


def test_tables_without_a_clinical_home_are_kept_whole() -> None:
    ep = _minimal()
    ep.tables["XML9"] = [{"MA_LK": "LK1", "HO_TEN_NND": "Nguyễn Thị Lan", "NGAY_SINH_CON": "202501150830", "GHI_CHU": ""}]
    bundle = to_fhir(ep)
    doc = next(r for r in _resources(bundle, "DocumentReference") if r["type"]["coding"][0]["system"] == CS["bhyt-table"])
    assert doc["type"]["coding"][0]["code"] == "XML9"
    assert doc["context"]["encounter"][0]["reference"].startswith("urn:uuid:")
    assert doc["content"][0]["attachment"]["contentType"] == "application/xml"
    assert from_fhir(_through_json(bundle)).tables == ep.tables


def test_values_are_trimmed_once() -> None:
    ep = _minimal(HO_TEN="  Trần Văn An ", GHI_CHU="   ")
    back = from_fhir(to_fhir(ep))
    assert back.tables["XML1"][0]["HO_TEN"] == "Trần Văn An" and back.tables["XML1"][0]["GHI_CHU"] == ""


def test_4210_episode_written_as_130_and_back() -> None:
    ep = _samples("4210")[0]
    as130 = from_fhir(to_fhir(ep), "130")
    xml1 = ep.tables["XML1"][0]
    assert as130.standard == "130"
    assert as130.tables["XML1"][0]["MA_THE_BHYT"] == xml1["MA_THE"]
    assert as130.tables["XML1"][0]["MA_BENH_CHINH"] == xml1["MA_BENH"]
    assert as130.tables["XML1"][0]["T_TONGCHI_BV"] == xml1["T_TONGCHI"]
    assert all(layout("130", t).field(n) for t, recs in as130.tables.items() for rec in recs for n in rec)
    again = from_fhir(to_fhir(as130), "4210")
    shared = {n for n in xml1 if n in again.tables["XML1"][0]}
    assert shared >= {"MA_THE", "MA_BENH", "T_TONGCHI", "HO_TEN", "NGAY_VAO"}
    assert all(again.tables["XML1"][0][n] == xml1[n] for n in shared)


def test_130_only_tables_are_left_out_in_4210() -> None:
    ep = _minimal()
    ep.tables["XML7"] = [{"MA_LK": "LK1", "CHAN_DOAN_RV": "Viêm phổi"}]
    assert "XML7" not in from_fhir(to_fhir(ep), "4210").tables
    assert from_fhir(to_fhir(ep)).tables == ep.tables


def test_unmappable_episodes_are_refused() -> None:
    with pytest.raises(UnmappableEpisode):
        to_fhir(Episode(ma_lk="LK1", standard="4210", tables={"XML1": [{"MA_LK": "LK1", "MA_THE": "A", "MA_THE_BHYT": "B"}]}))
    with pytest.raises(UnmappableEpisode):
        to_fhir(Episode(ma_lk="", standard="130", tables={"XML1": [{"HO_TEN": "X"}]}))


def test_same_episode_same_bundle() -> None:
    ep = _samples("130")[0]
    assert to_fhir(ep) == to_fhir(copy.deepcopy(ep))


def test_rules_table_is_sound() -> None:
    r = rules()
    for table, (_, fields) in r.tables.items():
        assert table_exists("130", table)
        paths = [(rule.role, rule.path) for rule in fields.values()]
        assert len(paths) == len(set(paths)), table  # one field per element
        for name, rule in fields.items():
            assert layout("130", table).field(name) is not None, (table, name)
            converter(rule.converter)
    for table, names in r.aliases["4210"].items():
        for own, canon in names.items():
            assert layout("4210", table).field(own) is not None and layout("130", table).field(canon) is not None
            assert layout("4210", table).field(canon) is None  # an alias never hides a 4210 field
    assert r.whole <= set(layouts("130"))


def test_mapping_doc_is_current() -> None:
    from .doc import OUT, render
    assert OUT.read_text(encoding="utf-8") == render(), "run: python -m mappings.bhyt_xml.doc"


# ----------------------------------------------------------------------------- property: lossless

from hypothesis import HealthCheck, given, settings  # noqa: E402

from .strategies import episodes as any_episodes  # noqa: E402
from .values import trimmed  # noqa: E402


def _expected(ep: Episode) -> dict:
    """What must come back: every record of every table, values trimmed (empty tables are nothing)."""
    return {t: recs for t, recs in trimmed(ep).tables.items() if recs}


@pytest.mark.parametrize("standard", ["130", "3176", "4210"])
def test_round_trip_is_lossless_for_any_episode(standard: str) -> None:
    """Any episode the import accepts (the departures real files carry included) comes back exactly."""
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(any_episodes(standard, departures=True))
    def check(ep: Episode) -> None:
        back = from_fhir(_through_json(to_fhir(ep)))
        assert back.standard == standard
        assert back.tables == _expected(ep)

    check()


def test_generated_episodes_round_trip() -> None:
    from .generate import episodes as generated
    for standard in ("130", "4210"):
        for ep in generated(7, 25, standard):
            assert from_fhir(_through_json(to_fhir(ep))).tables == _expected(ep)


def test_comma_decimals_become_fhir_decimals_and_are_written_back_as_read() -> None:
    from server.fhir.profiling import validate

    from .fhir import RENDERED

    ep = _minimal(T_BNTT="1500,50")
    ep.tables["XML2"] = [{"MA_LK": "LK1", "STT": "1", "MA_THUOC": "40.17", "TEN_THUOC": "Paracetamol", "SO_LUONG": "0,5",
                          "DON_VI_TINH": "viên", "DON_GIA": "1250,50", "TYLE_TT_BH": "80,5"}]
    bundle = _through_json(to_fhir(ep))
    med = _resources(bundle, "MedicationRequest")[0]
    quantity = med["dispenseRequest"]["quantity"]
    assert str(quantity["value"]) == "0.5" and quantity["_value"]["extension"] == [{"url": RENDERED, "valueString": "0,5"}]
    price = next(x for x in next(e for e in med["extension"] if e["url"] == EXT["bhyt-amounts"])["extension"] if x["url"] == "DON_GIA")
    assert str(price["valueMoney"]["value"]) == "1250.50" and price["valueMoney"]["_value"]["extension"][0]["valueString"] == "1250,50"
    for entry in bundle["entry"]:
        errors = [i.diagnostics for i in validate(entry["resource"]) if i.severity in ("error", "fatal")]
        assert errors == [], (entry["resource"]["resourceType"], errors)
    assert from_fhir(bundle).tables == ep.tables  # nothing changed: the comma comes back


def test_3176_converts_to_and_from_130() -> None:
    """3176's XML13 names are 130's under new names: the transfer paper moves between the standards
    with every value, and TINH_TRANG_CT (4750's second PP_DIEU_TRI) is the transfer condition."""
    ep = _minimal("3176", MA_TTDV="004078/CT-CCHN")
    xml13 = {"MA_LK": "LK1", "MA_CSKCB": "46001", "MA_CSKCB_DI": "46001;79001", "MA_CSKCB_DEN": "01001",
             "TINH_TRANG_CT": "Tỉnh, mạch 96 l/ph", "MA_LYDO_CT": "1"}
    ep.tables["XML13"] = [xml13]
    bundle = _through_json(to_fhir(ep))
    paper = next(d for d in _resources(bundle, "DocumentReference") if b"XML13" in jsonio.dumps(d))
    assert {"url": EXT["t54-transfer-condition"], "valueString": "Tỉnh, mạch 96 l/ph"} in paper["extension"]
    assert from_fhir(bundle).tables == ep.tables
    as130 = from_fhir(bundle, "130")
    assert as130.standard == "130"
    assert as130.tables["XML13"] == [{"MA_LK": "LK1", "MA_CSKCB": "46001", "MA_NOI_DI": "46001;79001", "MA_NOI_DEN": "01001",
                                      "PP_DIEU_TRI": "Tỉnh, mạch 96 l/ph", "MA_LYDO_CT": "1"}]
    back = from_fhir(_through_json(to_fhir(as130)), "3176")
    assert back.tables == ep.tables


def test_check_in_and_assessment_tables_are_kept_whole() -> None:
    """XML0 (check-in) and XML12 (medical assessment, which has no MA_LK) have no clinical home:
    each is kept as its XML document and comes back as read."""
    ep = _minimal()
    ep.tables["XML0"] = [{"MA_LK": "LK1", "STT": "1", "MA_BN": "BN1", "NGAY_VAO": "202501021230"},
                         {"MA_LK": "LK1", "STT": "2", "MA_DICH_VU": "02.1896"}]
    ep.tables["XML12"] = [{"NGUOI_CHU_TRI": "Trần Văn B", "CHUC_VU": "1", "NGAY_HOP": "20250103", "TYLE_TTCT_MOI": "31"}]
    bundle = _through_json(to_fhir(ep))
    kept = [d for d in _resources(bundle, "DocumentReference") if any(c.get("code") in ("XML0", "XML12")
            for c in d.get("type", {}).get("coding", []))]
    assert len(kept) == 2
    assert from_fhir(bundle).tables == ep.tables


@pytest.mark.parametrize("standard", ["130", "3176", "4210"])
def test_patients_and_diagnoses_meet_vn_core(standard: str) -> None:
    """The Ministry's profiles for every resource of an episode that VN Core profiles: the patient,
    the Encounter, the diagnoses, facilities, health workers, medicines, services and laboratory
    results (what VN Core requires and the tables lack is marked data-absent)."""
    from server.fhir.profiling import validate as profile_validate

    vn_core = "http://fhir.ehealth.gov.vn/core/StructureDefinition/"
    wanted = {"Patient": "vn-core-patient", "Condition": "vn-core-condition-encounter-diagnosis", "Encounter": "vn-core-encounter",
              "Organization": "vn-core-provider", "Practitioner": "vn-core-practitioner", "MedicationRequest": "vn-core-medication-request",
              "Procedure": "vn-core-procedure", "Observation": "vn-core-observation-lab-code"}
    checked = 0
    for ep in (_samples(standard) if standard != "3176" else list(read_envelope(TESTDATA.parent.parent.parent / "examples" / "bhyt" / "giamdinhhs-3176.xml"))):
        for entry in to_fhir(ep)["entry"]:
            r = entry["resource"]
            name = wanted.get(r["resourceType"])
            if name is None or (name == "vn-core-observation-lab-code" and r["category"][0]["coding"][0]["code"] != "laboratory"):
                continue  # the weight is a vital sign: VN Core has no profile for it
            errors = [i.diagnostics for i in profile_validate(_through_json(r), [vn_core + name]) if i.severity == "error"]
            assert errors == [], errors
            checked += 1
    assert checked >= 3


def test_what_vn_core_requires_and_the_record_lacks_is_marked_absent() -> None:
    """No HO_TEN and no MA_BENH_CHINH: the name's text and the main disease (VN Core requires both)
    carry data-absent-reason instead of a guess, the Patient and Encounter meet VN Core's profiles,
    and the record comes back without them."""
    from server.fhir.profiling import validate

    episode = Episode(ma_lk="1", standard="130", tables={"XML1": [{"MA_LK": "1", "SO_CCCD": "001085012345", "MA_BENH_KT": "J18"}]})
    bundle = jsonio.loads(jsonio.dumps(to_fhir(episode)))
    by_type = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    absent = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]}
    assert by_type["Patient"]["name"] == [{"_text": absent}]
    main, other = by_type["Encounter"]["diagnosis"]
    assert main["condition"] == absent and main["use"]["coding"][0]["code"] == "CC" and other["use"]["coding"][0]["code"] == "CM"
    vn_core = "http://fhir.ehealth.gov.vn/core/StructureDefinition/"
    for rtype, name in (("Patient", "vn-core-patient"), ("Encounter", "vn-core-encounter")):
        assert [i.diagnostics for i in validate(by_type[rtype], [vn_core + name]) if i.severity == "error"] == [], rtype
    assert from_fhir(bundle).tables == episode.tables
