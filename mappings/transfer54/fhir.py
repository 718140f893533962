"""FHIR R4 mapping of the 54-field transfer dataset: to_fhir(record) -> transaction Bundle,
from_fhir(bundle) -> record, lossless for every valid record.

Every project URL (identifier systems, code systems, extensions) is read from the
conformance resources in ``profiles/``; only standard FHIR/HL7/LOINC/UCUM URLs are written here.

Text is carried verbatim. FHIR strings cannot be whitespace-only, so such a value goes into
the element's primitive extension (``_text`` etc.) as extension t54-verbatim (base64 UTF-8),
and a text extension then uses valueBase64Binary instead of valueString.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
from decimal import Decimal
from typing import Any

from server.fhir.identifiers import canonical_system
from profiles import CS, EXT, SID

from .. import national
from ..episode_bundle import BundleIndex, EpisodeBundle, text_ok
from ..fhir_terms import (DIAGNOSIS_USE, MAIN_DIAGNOSIS_USES, ACT_CODE, BIRTH_TIME, CLASS_DISPLAY, COND_CATEGORY, DIAG_ROLE, DISCHARGE, GENDER, GENDER_BACK,
                          ICD10, LOINC, MR, OBS_CATEGORY, UCUM)
from ..fhir_dates import birth, date8, dt, unbirth, undate8, undt

from .fields import CODE_TABLES, FIELDS

__all__ = ["to_fhir", "from_fhir", "DOC_TEXT_FIELDS"]

# MA_LOAI_KCB -> v3 ActCode encounter class (the exact code stays in Encounter.type).
_CLASS = {"01": "AMB", "02": "AMB", "03": "IMP", "04": "SS", "05": "AMB", "06": "IMP",
          "07": "AMB", "08": "AMB", "09": "SS", "10": "AMB"}

# DocumentReference text extensions, in field order.
DOC_TEXT_FIELDS = {
    "DAU_HIEU_LS": "t54-clinical-signs", "QT_BENHLY": "t54-illness-course", "TOMTAT_KQ": "t54-results-summary",
    "PP_DIEUTRI": "t54-treatment-method", "TEN_DICH_VU": "t54-services", "TEN_THUOC": "t54-medicines",
    "TINH_TRANG_CT": "t54-transfer-condition", "HUONG_DIEU_TRI": "t54-further-treatment",
    "PHUONGTIEN_VC": "t54-transport", "HOTEN_NGUOI_HT": "t54-escort-name", "CHUCDANH_NGUOI_HT": "t54-escort-title",
}
CARD_FIELDS = ("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN")


# ----------------------------------------------------------------------------- text helpers

def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _unb64(data: str) -> str:
    return base64.b64decode(data).decode("utf-8")


def _put(obj: dict, key: str, value: str) -> dict:
    """obj[key] = value, or the verbatim primitive extension when FHIR cannot carry the value."""
    if text_ok(value):
        obj[key] = value
    else:
        obj["_" + key] = {"extension": [{"url": EXT["t54-verbatim"], "valueBase64Binary": _b64(value)}]}
    return obj


def _get(obj: dict | None, key: str) -> str | None:
    if not obj:
        return None
    if key in obj:
        return obj[key]
    for e in (obj.get("_" + key) or {}).get("extension", []):
        if e.get("url") == EXT["t54-verbatim"]:
            return _unb64(e["valueBase64Binary"])
    return None


def _text_ext(name: str, value: str) -> dict:
    if text_ok(value):
        return {"url": EXT[name], "valueString": value}
    return {"url": EXT[name], "valueBase64Binary": _b64(value)}


def _ext(obj: dict | None, name: str) -> dict | None:
    for e in (obj or {}).get("extension", []):
        if e.get("url") == EXT[name]:
            return e
    return None


def _ext_text(obj: dict | None, name: str) -> str | None:
    e = _ext(obj, name)
    if e is None:
        return None
    return e["valueString"] if "valueString" in e else _unb64(e["valueBase64Binary"])


def _coding(table_or_system: str, code: str) -> dict:
    out = {"system": CS[f"t54-{table_or_system}"], "code": code}
    table = CODE_TABLES.get(table_or_system)
    if table is not None and code in table.codes:
        out["display"] = table.codes[code].en
    return out


#: the residence codes of the record and their code tables (VN Core's administrative address)
ADDRESS_FIELDS = (("MATINH_CU_TRU", "province"), ("MAHUYEN_CU_TRU", "district"), ("MAXA_CU_TRU", "commune"))


def _coding_ext(name: str, table: str, code: str) -> dict:
    return {"url": EXT[name], "valueCoding": _coding(table, code)}


# ----------------------------------------------------------------------------- references

def _identifier(system: str, value: str) -> dict:
    return _put({"system": system}, "value", value)


def _facility_codes(r: dict[str, str]) -> list[str]:
    codes = [r["MA_CSKCB"], r["MA_NOI_DI"], r["MA_NOI_DEN"]]
    if "MA_DKBD" in r:
        codes += r["MA_DKBD"].split(";")
    return list(dict.fromkeys(codes))


def _cards(r: dict[str, str]) -> list[dict[str, str]]:
    lists = {n: r[n].split(";") for n in CARD_FIELDS if n in r}
    n = max((len(v) for v in lists.values()), default=0)
    return [{k: v[i] for k, v in lists.items()} for i in range(n)]


def to_fhir(record: dict[str, str]) -> dict:
    """A transaction Bundle for one valid record (see validate())."""
    r = record
    canonical = json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    b = EpisodeBundle(hashlib.sha256(canonical.encode("utf-8")).hexdigest(), SID["t54-part"],
                      f"{r.get('MA_CSKCB', '')}/{r.get('MA_LK', '')}")

    def org(code: str) -> dict:
        return {"reference": b.refs[("Organization", code)]}

    for code in _facility_codes(r):
        b.add("Organization", code, national.facility(code), (SID["ma-cskcb"], code))
    for name in ("MA_BAC_SI", "MA_TTDV"):
        if name in r and ("Practitioner", r[name]) not in b.refs:
            b.add("Practitioner", r[name], national.practitioner(_identifier(SID["cchn"], r[name])), (SID["cchn"], r[name]))

    def prac(name: str) -> dict:
        return {"reference": b.refs[("Practitioner", r[name])]}

    # Patient
    facility = r["MA_CSKCB"]
    pat: dict[str, Any] = {"resourceType": "Patient"}
    idents: list[dict] = []
    match: tuple[str, str] | None = None
    if "SO_CCCD" in r:
        idents.append(_identifier(SID["cccd"], r["SO_CCCD"]))
        match = (SID["cccd"], r["SO_CCCD"])
    if "MA_BN" in r:
        system = f"{SID['ma-bn']}/{facility}"
        idents.append({"type": MR, **_identifier(system, r["MA_BN"])})
        if match is None and text_ok(r["MA_BN"]) and r["MA_BN"] == r["MA_BN"].strip():
            match = (system, r["MA_BN"])
    cards = _cards(r)
    first_card = next((card["MA_THE_BHYT"] for card in cards if "MA_THE_BHYT" in card), None)
    if first_card is not None:  # one on the Patient (VN Core's TheBHYT slice allows one); every card has its Coverage
        idents.append(_identifier(SID["the-bhyt"], first_card))
        if match is None:
            match = (SID["the-bhyt"], first_card)
    idents += national.internal_ids(idents)
    if idents:
        pat["identifier"] = idents
    exts = [national.patient_extension(table, r[f], _coding(table, r[f]).get("display"))
            for f, table in (("MA_DANTOC", "ethnicity"), ("MA_QUOCTICH", "nationality"), ("MA_NGHE_NGHIEP", "occupation")) if f in r]
    if "NHOM_MAU" in r:
        exts.append(_text_ext("t54-blood-group", r["NHOM_MAU"]))
    if exts:
        pat["extension"] = exts
    name = _put({"use": "official"}, "text", r["HO_TEN"])
    words = r["HO_TEN"].split()
    if words:
        name["family"] = words[0]
        if words[1:]:
            name["given"] = words[1:]
    pat["name"] = [name]
    if "DIEN_THOAI" in r:
        pat["telecom"] = [_put({"system": "phone"}, "value", r["DIEN_THOAI"])]
    pat["gender"] = GENDER[r["GIOI_TINH"]]
    birth_date, birth_time = birth(r["NGAY_SINH"])
    pat["birthDate"] = birth_date
    if birth_time:
        pat["_birthDate"] = {"extension": [{"url": BIRTH_TIME, "valueDateTime": birth_time}]}
    addr: dict[str, Any] = {}
    admin = national.address_extension({t: r[f] for f, t in ADDRESS_FIELDS if f in r})
    if admin:
        addr["extension"] = [admin]
    if "DIA_CHI" in r:
        _put(addr, "text", r["DIA_CHI"])
    if addr:
        addr["use"] = "home"
        pat["address"] = [addr]
    patient_ref = {"reference": b.add("Patient", "patient", pat, match)}

    # Coverage per card (the letter lists them in context.related, so a stored episode finds its cards)
    coverage_refs: list[dict[str, str]] = []
    for i, card in enumerate(cards):
        cov: dict[str, Any] = {"resourceType": "Coverage"}
        if "MA_DKBD" in card:
            cov["extension"] = [{"url": EXT["t54-registered-facility"], "valueReference": org(card["MA_DKBD"])}]
        if "MA_THE_BHYT" in card:
            cov["identifier"] = [{"system": SID["the-bhyt"], "value": card["MA_THE_BHYT"]}]
        cov["status"] = "active"
        if "MA_THE_BHYT" in card:
            cov["subscriberId"] = card["MA_THE_BHYT"]
        cov["beneficiary"] = patient_ref
        period = {}
        if "GT_THE_TU" in card:
            period["start"] = date8(card["GT_THE_TU"])
        if "GT_THE_DEN" in card:
            period["end"] = date8(card["GT_THE_DEN"])
        if period:
            cov["period"] = period
        cov["payor"] = [{"display": "Bảo hiểm xã hội Việt Nam"}]
        cov["order"] = i + 1
        coverage_refs.append({"reference": b.add_part("Coverage", f"card/{i}", cov)})

    # Encounter
    enc_url = b.url("Encounter/encounter")
    enc: dict[str, Any] = {"resourceType": "Encounter"}
    eexts: list[dict] = []
    if "NGAY_VAO_NOI_TRU" in r:
        eexts.append({"url": EXT["t54-inpatient-admission"], "valueDateTime": dt(r["NGAY_VAO_NOI_TRU"])})
    if "MA_KHOA" in r:
        eexts.append(_text_ext("t54-department", r["MA_KHOA"]))
    if "KET_QUA_DTRI" in r:
        eexts.append(_coding_ext("t54-treatment-result", "treatment-result", r["KET_QUA_DTRI"]))
    eexts.append(_coding_ext("t54-transfer-reason", "transfer-reason", r["MA_LYDO_CT"]))
    if "MA_DOITUONG_KCB" in r:
        eexts.append(_text_ext("t54-patient-category", r["MA_DOITUONG_KCB"]))
    enc["extension"] = eexts
    enc["identifier"] = [_identifier(f"{SID['ma-lk']}/{facility}", r["MA_LK"])]
    enc["status"] = "finished"
    cls = _CLASS[r["MA_LOAI_KCB"]]
    enc["class"] = {"system": ACT_CODE, "code": cls, "display": CLASS_DISPLAY[cls]}
    enc["type"] = [{"coding": [_coding("encounter-type", r["MA_LOAI_KCB"])]}]
    enc["subject"] = patient_ref
    enc["participant"] = [{"type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                                  "code": "ATND", "display": "attender"}]}],
                           "individual": prac("MA_BAC_SI")}]
    enc["period"] = {"start": dt(r["NGAY_VAO"]), "end": dt(r["NGAY_RA"])}
    if "LY_DO_VV" in r:
        enc["reasonCode"] = [_put({}, "text", r["LY_DO_VV"])]

    # Conditions, in the order of Encounter.diagnosis
    diagnoses: list[dict] = []

    def condition(key: str, code: dict, use: str) -> None:
        cond = {"resourceType": "Condition",
                "category": [{"coding": [{"system": COND_CATEGORY, "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}]}],
                "code": code, "subject": patient_ref, "encounter": {"reference": enc_url}}
        ref = b.add_part("Condition", key, cond)
        d: dict[str, Any] = {"condition": {"reference": ref},
                             "use": copy.deepcopy(DIAGNOSIS_USE[use])}
        diagnoses.append(d)

    condition("main", _put({"coding": [{"system": ICD10, "code": r["MA_BENH_CHINH"]}]}, "text", r["CHAN_DOAN_RV"]),
              "CC")
    for i, code in enumerate(r["MA_BENH_KT"].split(";") if "MA_BENH_KT" in r else []):
        condition(f"kt/{i}", {"coding": [{"system": ICD10, "code": code}]}, "CM")
    for i, code in enumerate(r["MA_BENH_YHCT"].split(";") if "MA_BENH_YHCT" in r else []):
        condition(f"yhct/{i}", {"coding": [{"system": CS["t54-yhct"], "code": code}]}, "CM")
    if "CHAN_DOAN_VAO" in r:
        condition("admission", _put({}, "text", r["CHAN_DOAN_VAO"]), "AD")
    enc["diagnosis"] = diagnoses
    hosp: dict[str, Any] = {"origin": org(r["MA_NOI_DI"]), "destination": org(r["MA_NOI_DEN"])}
    disp = [_coding("discharge-type", r["MA_LOAI_RV"])]
    if r["MA_LOAI_RV"] == "2":
        disp.append({"system": DISCHARGE, "code": "other-hcf", "display": "Other healthcare facility"})
    hosp["dischargeDisposition"] = {"coding": disp}
    enc["hospitalization"] = hosp
    enc["serviceProvider"] = org(r["MA_CSKCB"])
    # Encounter goes before its Conditions for readability; ids are fixed before writing anyway.
    first_condition = next(i for i, e in enumerate(b.entries) if e["resource"]["resourceType"] == "Condition")
    episode = (f"{SID['ma-lk']}/{facility}", r["MA_LK"])  # MA_LK is unique per facility: the episode's key
    b.add_part("Encounter", "encounter", enc, episode, index=first_condition)
    enc_ref = {"reference": enc_url}

    # Body weight
    if "CAN_NANG" in r:
        qty: dict[str, Any] = {"value": Decimal(r["CAN_NANG"]), "unit": "kg", "system": UCUM, "code": "kg"}
        if str(qty["value"]) != r["CAN_NANG"]:
            qty["extension"] = [{"url": EXT["t54-original-text"], "valueString": r["CAN_NANG"]}]
        b.add_part("Observation", "weight", {
            "resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}]},
            "subject": patient_ref, "encounter": enc_ref, "effectiveDateTime": dt(r["NGAY_RA"]),
            "valueQuantity": qty})

    # The transfer letter
    doc: dict[str, Any] = {"resourceType": "DocumentReference"}
    dexts = [_text_ext(ext, r[f]) for f, ext in DOC_TEXT_FIELDS.items() if f in r]
    if dexts:
        doc["extension"] = dexts
    dids = [_identifier(SID["so-chuyen-tuyen"], r["SO_CHUYENTUYEN"])]
    if "GIAY_CHUYEN_TUYEN" in r:
        dids.append(_identifier(SID["giay-chuyen-tuyen"], r["GIAY_CHUYEN_TUYEN"]))
    if "SO_HOSO" in r:
        dids.append(_identifier(SID["so-ho-so"], r["SO_HOSO"]))
    doc["identifier"] = dids
    doc["status"] = "current"
    doc["type"] = {"coding": [{"system": LOINC, "code": "57133-1", "display": "Referral note"}]}
    doc["subject"] = patient_ref
    doc["author"] = [prac("MA_BAC_SI")]
    if "MA_TTDV" in r:
        doc["authenticator"] = prac("MA_TTDV")
    doc["custodian"] = org(r["MA_CSKCB"])
    doc["description"] = "Giấy chuyển tuyến (54 thông số)"
    original = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    doc["content"] = [{"attachment": {"contentType": "application/json", "language": "vi",
                                      "data": _b64(original), "title": "Original transfer record (JSON)"}}]
    doc["context"] = {"encounter": [enc_ref], "period": dict(enc["period"])}
    if coverage_refs:
        doc["context"]["related"] = coverage_refs
    b.add_part("DocumentReference", "letter", doc)

    return b.bundle()


# ----------------------------------------------------------------------------- back

def _ident(res: dict | None, system: str, prefix: bool = False) -> str | None:
    for i in (res or {}).get("identifier", []):
        s = i.get("system", "")
        if canonical_system(s) == canonical_system(system) or (prefix and s.startswith(system + "/")):
            return _get(i, "value")
    return None


def _code_of(concept: dict | None, system: str) -> str | None:
    for c in (concept or {}).get("coding", []):
        if c.get("system") == system:
            return c.get("code")
    return None


def _ext_code(obj: dict | None, name: str) -> str | None:
    e = _ext(obj, name)
    return None if e is None else e["valueCoding"]["code"]


def from_fhir(bundle: dict) -> dict[str, str]:
    """The record a Bundle written by to_fhir() was made from (rebuilt from the FHIR elements)."""
    ix = BundleIndex(bundle)
    enc = ix.one("Encounter")
    pat = copy.deepcopy(ix.one("Patient"))
    national.upgrade(pat)  # bundles written before the mappings followed VN Core's extensions
    doc = ix.one("DocumentReference")
    if enc is None or pat is None or doc is None:
        raise ValueError("the bundle needs an Encounter, a Patient and a DocumentReference")
    out: dict[str, str | None] = {}

    def facility(ref: dict | None) -> str | None:
        return _ident(ix.resolve(ref), SID["ma-cskcb"])

    def certificate(ref: dict | None) -> str | None:
        return _ident(ix.resolve(ref), SID["cchn"])

    out["MA_LK"] = _ident(enc, SID["ma-lk"], prefix=True)
    out["SO_HOSO"] = _ident(doc, SID["so-ho-so"])
    out["SO_CHUYENTUYEN"] = _ident(doc, SID["so-chuyen-tuyen"])
    out["GIAY_CHUYEN_TUYEN"] = _ident(doc, SID["giay-chuyen-tuyen"])
    hosp = enc.get("hospitalization", {})
    out["MA_CSKCB"] = facility(enc.get("serviceProvider"))
    out["MA_NOI_DI"] = facility(hosp.get("origin"))
    out["MA_NOI_DEN"] = facility(hosp.get("destination"))

    # Patient
    out["MA_BN"] = _ident(pat, SID["ma-bn"], prefix=True)
    out["HO_TEN"] = _get((pat.get("name") or [{}])[0], "text")
    out["SO_CCCD"] = _ident(pat, SID["cccd"])
    time_ext = next((e for e in (pat.get("_birthDate") or {}).get("extension", []) if e.get("url") == BIRTH_TIME), None)
    out["NGAY_SINH"] = unbirth(pat["birthDate"], time_ext["valueDateTime"] if time_ext else None)
    out["GIOI_TINH"] = GENDER_BACK[pat["gender"]]
    out["NHOM_MAU"] = _ext_text(pat, "t54-blood-group")
    out["MA_QUOCTICH"] = national.patient_code(pat, "nationality")
    out["MA_DANTOC"] = national.patient_code(pat, "ethnicity")
    out["MA_NGHE_NGHIEP"] = national.patient_code(pat, "occupation")
    addr = (pat.get("address") or [None])[0]
    out["DIA_CHI"] = _get(addr, "text")
    for f, table in ADDRESS_FIELDS:
        out[f] = national.address_code(addr, table)
    phone = next((t for t in pat.get("telecom", []) if t.get("system") == "phone"), None)
    out["DIEN_THOAI"] = _get(phone, "value")

    # Coverage: one per card, in Coverage.order
    covs = sorted(ix.by_type.get("Coverage", []), key=lambda c: c.get("order", 0))
    lists: dict[str, list[str]] = {n: [] for n in CARD_FIELDS}
    for cov in covs:
        card = _ident(cov, SID["the-bhyt"])
        if card is not None:
            lists["MA_THE_BHYT"].append(card)
        reg = _ext(cov, "t54-registered-facility")
        if reg is not None:
            lists["MA_DKBD"].append(facility(reg["valueReference"]))
        period = cov.get("period", {})
        if "start" in period:
            lists["GT_THE_TU"].append(undate8(period["start"]))
        if "end" in period:
            lists["GT_THE_DEN"].append(undate8(period["end"]))
    for n, items in lists.items():
        out[n] = ";".join(items) if items else None
    out["MA_DOITUONG_KCB"] = _ext_text(enc, "t54-patient-category")

    # Encounter
    out["MA_LOAI_KCB"] = _code_of((enc.get("type") or [{}])[0], CS["t54-encounter-type"])
    out["NGAY_VAO"] = undt(enc["period"]["start"])
    nt = _ext(enc, "t54-inpatient-admission")
    out["NGAY_VAO_NOI_TRU"] = undt(nt["valueDateTime"]) if nt else None
    out["NGAY_RA"] = undt(enc["period"]["end"])
    out["MA_KHOA"] = _ext_text(enc, "t54-department")
    out["LY_DO_VV"] = _get((enc.get("reasonCode") or [None])[0], "text")

    # Diagnoses
    kt: list[str] = []
    yhct: list[str] = []
    for d in enc.get("diagnosis", []):
        if "reference" not in (d.get("condition") or {}):
            continue  # a diagnosis the source did not give (data-absent-reason): nothing to carry
        cond = ix.resolve(d["condition"])
        use = _code_of(d.get("use"), DIAG_ROLE)
        icd = _code_of(cond.get("code"), ICD10)
        trad = _code_of(cond.get("code"), CS["t54-yhct"])
        if use == "AD":
            out["CHAN_DOAN_VAO"] = _get(cond.get("code"), "text")
        elif trad is not None:
            yhct.append(trad)
        elif use in MAIN_DIAGNOSIS_USES:
            out["MA_BENH_CHINH"] = icd
            out["CHAN_DOAN_RV"] = _get(cond.get("code"), "text")
        else:
            kt.append(icd or "")
    out["MA_BENH_KT"] = ";".join(kt) if kt else None
    out["MA_BENH_YHCT"] = ";".join(yhct) if yhct else None

    obs = ix.one("Observation")
    if obs is not None:
        qty = obs["valueQuantity"]
        original = _ext_text(qty, "t54-original-text")
        out["CAN_NANG"] = original if original is not None else str(qty["value"])
    out["KET_QUA_DTRI"] = _ext_code(enc, "t54-treatment-result")
    out["MA_LOAI_RV"] = _code_of(hosp.get("dischargeDisposition"), CS["t54-discharge-type"])
    out["MA_LYDO_CT"] = _ext_code(enc, "t54-transfer-reason")
    for f, ext in DOC_TEXT_FIELDS.items():
        out[f] = _ext_text(doc, ext)
    out["MA_BAC_SI"] = certificate((doc.get("author") or [None])[0])
    out["MA_TTDV"] = certificate(doc["authenticator"]) if "authenticator" in doc else None
    return {f.name: out[f.name] for f in FIELDS if out.get(f.name) is not None}  # type: ignore[misc]
