"""The national dialect for the patient's coded facts: VN Core's extensions, where VN Core has one,
and the facility patient id under VN Core's system.

Both mappings write a patient's ethnic group, nationality and occupation, and the administrative
codes of an address, as VN Core's extensions (``http://fhir.ehealth.gov.vn/core``) with a
CodeableConcept; this project's own ``t54-*`` extensions (a Coding each) were written before, and
:func:`upgrade` turns them into VN Core's form. The readers upgrade first, so bundles stored
before still read, and ``lienthong migrate`` uses the same function on stored data.

Which code system each value carries:

- ethnic group (MA_DANTOC): VN Core's ``vn-core-race`` (the 54 ethnic groups, the statistics
  office's codes, the same codes as the transfer dataset's table; VN Core's ``extension-ethic`` is
  the religion, despite its name);
- nationality (MA_QUOCTICH): VN Core binds ISO 3166 alpha-2 (extensible), the sources give the
  national numeric list: the code is kept under this project's ``t54-nationality`` system;
- occupation (MA_NGHE_NGHIEP): VN Core's value set names no system for the sources' 5-digit
  codes: this project's ``t54-occupation`` system;
- medicine and technical-service codes (MA_THUOC, MA_DICH_VU): VN Core's ``vn-core-medicationCode``
  and ``vn-core-procedureCode`` (the Ministry's lists the insurance tables use);
- address (MATINH/MAHUYEN/MAXA_CU_TRU): the statistics office's administrative codes, which is
  VN Core's ``vn-core-administrative-address``; province → ``state``, district → ``district``,
  commune → ``ward`` (VN Core's ``city`` is not used: the sources have no separate city level).

The facility's patient id (MA_BN) is written twice: under this project's per-facility system
(``…/sid/ma-bn/<facility>``), which the readers and conditional matching use, and as VN Core's
``MaBenhNhan`` (``…/sid/patient-internal-id``, one system for every facility) with the facility
as its ``assigner``: VN Core's system alone would make two facilities' equal numbers one patient.
"""

from __future__ import annotations

from typing import Any

from profiles import CS, EXT, SID
from profiles.vn_core import CS as VN_CS
from profiles.vn_core import EXT as VN_EXT

from .fhir_terms import DATA_ABSENT, OBS_CATEGORY, V2_0203

#: our code table -> (VN Core extension on Patient, system of the code)
PATIENT_CODED: dict[str, tuple[str, str]] = {
    "ethnicity": (VN_EXT["extension-race"], VN_CS["vn-core-race"]),
    "nationality": (VN_EXT["extension-nationality"], CS["t54-nationality"]),
    "occupation": (VN_EXT["extension-occupation"], CS["t54-occupation"]),
}
ADMINISTRATIVE_ADDRESS = VN_EXT["extension-administrative-address"]
ADMINISTRATIVE_SYSTEM = VN_CS["vn-core-administrative-address"]
#: our code table -> the sub-extension of VN Core's administrative address
ADDRESS_PARTS: dict[str, str] = {"province": "state", "district": "district", "commune": "ward"}

INTERNAL_ID = "http://fhir.ehealth.gov.vn/core/sid/patient-internal-id"

#: code systems this project wrote before where VN Core names the Ministry's list (medicine codes,
#: MA_THUOC; technical-service codes, MA_DICH_VU): read as the new one, rewritten by migrate
RENAMED_SYSTEMS: dict[str, str] = {
    CS["bhyt-drug"]: VN_CS["vn-core-medicationCode"],
    CS["bhyt-service"]: VN_CS["vn-core-procedureCode"],
}

#: VN Core's vn-core-provider: a facility's code (slice MaCSKCB) and its type (fixed: every
#: facility the sources name is a health-care provider)
FACILITY_ID_TYPE = {"coding": [{"system": V2_0203, "code": "PRN", "display": "Provider number"}], "text": "Provider number"}
PROVIDER_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov",
                             "display": "Healthcare Provider"}], "text": "Healthcare Provider"}
#: VN Core's vn-core-observation-lab-code fixes the laboratory category exactly so
LAB_CATEGORY = {"coding": [{"system": OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}], "text": "laboratory"}


def absent() -> dict[str, Any]:
    """An element VN Core requires and the source does not give: data-absent-reason ``unknown``
    (FHIR's way of saying so; a reader takes it as nothing)."""
    return {"extension": [{"url": DATA_ABSENT, "valueCode": "unknown"}]}


def facility(code: str) -> dict[str, Any]:
    """The Organization a facility code stands for, as VN Core's vn-core-provider has it: the code
    under VN Core's system, the provider type, and the name marked absent (the sources give the
    code only; a facility directory would give the name)."""
    return {"resourceType": "Organization", "active": True,
            "identifier": [{"use": "secondary", "type": FACILITY_ID_TYPE, "system": SID["ma-cskcb"], "value": code}],
            "type": [PROVIDER_TYPE], "_name": absent()}


def practitioner(identifier: dict[str, Any]) -> dict[str, Any]:
    """A health worker by practising-certificate code, as VN Core's vn-core-practitioner has it:
    one official name, whose text the sources do not give."""
    return {"resourceType": "Practitioner", "identifier": [identifier], "name": [{"use": "official", "_text": absent()}]}


#: the extensions this project wrote before (read through :func:`upgrade`, never written)
_OLD_PATIENT = {EXT[f"t54-{table}"]: table for table in PATIENT_CODED}
_OLD_ADDRESS = {EXT[f"t54-{table}"]: table for table in ADDRESS_PARTS}


def _concept(system: str, code: str, display: str | None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def patient_extension(table: str, code: str, display: str | None = None) -> dict[str, Any]:
    """VN Core's extension for one of the patient's coded facts (``table`` as in PATIENT_CODED)."""
    url, system = PATIENT_CODED[table]
    return {"url": url, "valueCodeableConcept": _concept(system, code, display)}


def patient_code(patient: dict[str, Any] | None, table: str) -> str | None:
    """The code of one coded fact in VN Core's form (``None`` when absent)."""
    url, system = PATIENT_CODED[table]
    ext = _find(patient, url)
    return _code(ext.get("valueCodeableConcept") if ext else None, system)


def address_extension(codes: dict[str, str]) -> dict[str, Any] | None:
    """VN Core's administrative address from ``{"province": …, "district": …, "commune": …}``."""
    parts = [{"url": ADDRESS_PARTS[table], "valueCodeableConcept": _concept(ADMINISTRATIVE_SYSTEM, code, None)}
             for table, code in codes.items()]
    return {"url": ADMINISTRATIVE_ADDRESS, "extension": parts} if parts else None


def address_code(address: dict[str, Any] | None, table: str) -> str | None:
    """One administrative code of an address in VN Core's form."""
    part = _find(_find(address, ADMINISTRATIVE_ADDRESS), ADDRESS_PARTS[table])
    return _code(part.get("valueCodeableConcept") if part else None, ADMINISTRATIVE_SYSTEM)


def internal_ids(identifiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """VN Core's MaBenhNhan for each facility patient id (``…/ma-bn/<facility>``) that lacks one."""
    prefix = SID["ma-bn"] + "/"
    have = {(i.get("value"), _assigner(i)) for i in identifiers if i.get("system") == INTERNAL_ID}
    out = []
    for ident in identifiers:
        system, value = ident.get("system"), ident.get("value")
        if isinstance(system, str) and system.startswith(prefix) and isinstance(value, str):
            facility = system[len(prefix):]
            if (value, facility or None) not in have:
                ident = {"system": INTERNAL_ID, "value": value}
                if facility:  # a record without its facility code has no assigner to name
                    ident["assigner"] = {"identifier": {"system": SID["ma-cskcb"], "value": facility}}
                out.append(ident)
    return out


def _assigner(ident: dict[str, Any]) -> Any:
    return ((ident.get("assigner") or {}).get("identifier") or {}).get("value")


def upgrade(patient: dict[str, Any]) -> bool:
    """Rewrite this project's old ``t54-*`` extensions on a Patient (and its addresses) into VN
    Core's form, and add VN Core's MaBenhNhan where only ours is, in place, keeping the order of
    the other elements; True when anything changed."""
    changed = False
    idents = patient.get("identifier")
    if isinstance(idents, list):
        extra = internal_ids([i for i in idents if isinstance(i, dict)])
        if extra:
            patient["identifier"] = [*idents, *extra]
            changed = True
    exts = patient.get("extension")
    if isinstance(exts, list):
        new = [_upgraded(e) for e in exts]
        changed = changed or new != exts
        patient["extension"] = new
    for address in patient.get("address") or []:
        if isinstance(address, dict):
            changed = _upgrade_address(address) or changed
    return changed


def _upgraded(ext: Any) -> Any:
    table = _OLD_PATIENT.get(ext.get("url")) if isinstance(ext, dict) else None
    coding = ext.get("valueCoding") if table else None
    if not isinstance(coding, dict) or not isinstance(coding.get("code"), str):
        return ext
    display = coding.get("display")
    if table == "ethnicity":  # same codes; VN Core's system
        return patient_extension(table, coding["code"], display)
    url, _ = PATIENT_CODED[table]
    return {"url": url, "valueCodeableConcept": {"coding": [coding]}}


def _upgrade_address(address: dict[str, Any]) -> bool:
    exts = address.get("extension")
    if not isinstance(exts, list):
        return False
    codes, kept = {}, []
    for e in exts:
        table = _OLD_ADDRESS.get(e.get("url")) if isinstance(e, dict) else None
        code = (e.get("valueCoding") or {}).get("code") if table else None
        if isinstance(code, str):
            codes[table] = code
        else:
            kept.append(e)
    if not codes:
        return False
    upgraded = address_extension({t: codes[t] for t in ADDRESS_PARTS if t in codes})
    address["extension"] = [upgraded, *kept]
    return True


def _find(node: dict[str, Any] | None, url: str) -> dict[str, Any] | None:
    if not isinstance(node, dict):
        return None
    return next((e for e in node.get("extension") or [] if isinstance(e, dict) and e.get("url") == url), None)


def _code(concept: Any, system: str) -> str | None:
    if not isinstance(concept, dict):
        return None
    return next((c.get("code") for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("system") == system), None)
