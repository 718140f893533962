"""The Vietnamese core profiles (lienthong-*), as data.

Each profile lists its differential elements by element id; the builder derives ``path`` and
``sliceName`` from the id and stamps each invariant with its source. An invariant is
(key, severity, human, FHIRPath expression) and is evaluated on each node the element selects
(for a slice: each repetition that belongs to the slice).

Where VN Core (the Ministry of Health's guide) has a profile for the same thing, ours derives
from it (``VN_CORE_BASE``): a resource that meets ours meets VN Core's. A derived profile cannot
slice again what its base slices, so Patient.identifier keeps VN Core's slices (by ``system``)
and adds its rules as invariants on each identifier (12-digit citizen id, the three insurance
number forms, the facility patient id under the facility's system).
"""
from __future__ import annotations

from mappings.fhir_terms import LOINC, OBS_CATEGORY, UCUM, V2_0203

from .common import (BASE, CORE, DATE, FHIR_VERSION, PUBLISHER, VERSION, pascal,
                     sd_url, sid, vs_url)
from .terminology import system

Invariant = tuple[str, str, str, str]  # key, severity, human, expression


def _ms(id_: str, **kw: object) -> dict:
    return {"id": id_, "mustSupport": True, **kw}


def _ext_slice(base: str, name: str, ext_id: str, must_support: bool = True) -> dict:
    el: dict = {"id": f"{base}.extension:{name}", "min": 0, "max": "1",
                "type": [{"code": "Extension", "profile": [sd_url(ext_id)]}]}
    if must_support:
        el["mustSupport"] = True
    return el


def _url_slicing(base: str) -> dict:
    return {"id": f"{base}.extension", "slicing": {
        "discriminator": [{"type": "value", "path": "url"}], "ordered": False, "rules": "open"}}


def _category_slices(type_: str, name: str, code: str, display: str) -> list[dict]:
    return [
        {"id": f"{type_}.category", "mustSupport": True, "min": 1, "slicing": {
            "discriminator": [{"type": "pattern", "path": "$this"}], "ordered": False, "rules": "open"}},
        {"id": f"{type_}.category:{name}", "mustSupport": True, "min": 1, "max": "1",
         "patternCodeableConcept": {"coding": [{"system": OBS_CATEGORY, "code": code}]},
         "short": display},
    ]


def _doc_elements(loinc: str | None, display: str, system: str = LOINC) -> list[dict]:
    """A document profile: the type pattern is ``system`` + ``loinc`` (or any code of ``system``)."""
    coding = {"system": system, "code": loinc} if loinc else {"system": system}
    return [
        {"id": "DocumentReference", "constraint": [
            ("vn-doc-1", "warning", "Each attachment carries the document (data) or says where it is (url)",
             "content.attachment.all(data.exists() or url.exists())")]},
        _ms("DocumentReference.identifier"),
        _ms("DocumentReference.status"),
        _ms("DocumentReference.type", min=1, short=display,
            patternCodeableConcept={"coding": [coding]}),
        _ms("DocumentReference.subject", min=1,
            type=[{"code": "Reference", "targetProfile": [f"{CORE}/Patient"]}]),
        _ms("DocumentReference.author"),
        _ms("DocumentReference.custodian"),
        _ms("DocumentReference.content"),
        _ms("DocumentReference.content.attachment"),
        _ms("DocumentReference.context"),
        _ms("DocumentReference.context.encounter"),
        _ms("DocumentReference.context.period"),
    ]


#: our profile -> the VN Core profile it derives from (the others derive from the R4 core type:
#: VN Core has no vital-sign or document profiles; docs/vn-core.md)
VN_CORE_BASE = {"lienthong-patient": "vn-core-patient", "lienthong-encounter": "vn-core-encounter",
                "lienthong-observation-lab": "vn-core-observation-lab-code"}
VN_CORE_SD = "http://fhir.ehealth.gov.vn/core/StructureDefinition"

# (id, base type, title, description, elements)
PROFILES: list[tuple[str, str, str, str, list[dict]]] = [
    ("lienthong-patient", "Patient", "Vietnamese core Patient",
     "A patient as Vietnamese health-data exchange carries one, on VN Core's Patient (its identifier slices and "
     "its extensions for ethnic group, nationality and occupation): the citizen id (CCCD, 12 digits), the insurance "
     "number in one of its three forms, and the facility's own patient id under the facility's system.", [
         _ms("Patient.identifier", short="Citizen id, insurance number, facility patient id (VN Core's slices)", constraint=[
             ("vn-pat-1", "error", "A citizen identity card number is exactly 12 digits",
              f"where(system = '{system('cccd')}').value.all(matches('^[0-9]{{12}}$'))"),
             ("vn-pat-2", "error",
              "An insurance number is one of three forms: the 12-digit citizen id (the insurance number since the 2024 "
              "amendment of the health-insurance law), the 10-digit social-insurance code, or the legacy 15-character card "
              "(2-letter group, 1-digit benefit level, 2-digit province, 10 digits)",
              f"where(system = '{system('the-bhyt')}').value.all(matches('^[0-9]{{12}}$') or matches('^[0-9]{{10}}$') "
              "or matches('^[A-Z]{2}[0-9][0-9]{2}[0-9]{10}$'))"),
             ("vn-pat-3", "error", "A facility patient id (type MR) has the system of its facility: the ma-bn URI, '/', the facility code",
              f"where(type.coding.where(system = '{V2_0203}' and code = 'MR').exists()).all(system.startsWith('{sid('ma-bn')}/'))")]),
         _ms("Patient.name", min=1),
         _ms("Patient.telecom"),
         _ms("Patient.gender", min=1),
         _ms("Patient.birthDate"),
         _ms("Patient.address"),
     ]),
    ("lienthong-encounter", "Encounter", "Vietnamese core Encounter",
     "A treatment episode: the episode link code (MA_LK) of the facility, the care type (MA_LOAI_KCB), the "
     "period, and the transfer details (origin, destination, reason, treatment result).", [
         {"id": "Encounter", "constraint": [
             ("vn-enc-1", "error", "The episode carries its link code: an identifier whose system is the ma-lk URI, '/', the facility code",
              f"identifier.where(system.startsWith('{sid('ma-lk')}/')).exists()")]},
         _url_slicing("Encounter"),
         _ext_slice("Encounter", "transferReason", "t54-transfer-reason"),
         _ext_slice("Encounter", "treatmentResult", "t54-treatment-result"),
         _ext_slice("Encounter", "inpatientAdmission", "t54-inpatient-admission"),
         _ext_slice("Encounter", "department", "t54-department", must_support=False),
         _ext_slice("Encounter", "patientCategory", "t54-patient-category", must_support=False),
         _ms("Encounter.identifier", min=1, short="MA_LK at the facility (system: ma-lk URI + '/' + facility code)"),
         _ms("Encounter.status"),
         _ms("Encounter.class"),
         _ms("Encounter.type", short="Care type (MA_LOAI_KCB)",
             binding={"strength": "extensible", "valueSet": vs_url("t54-encounter-type"),
                      "description": "Care types of the transfer dataset; 4210 files also use other codes"}),
         _ms("Encounter.subject", min=1, type=[{"code": "Reference", "targetProfile": [sd_url("lienthong-patient")]}]),
         _ms("Encounter.participant"),
         _ms("Encounter.period", min=1),
         _ms("Encounter.period.start", min=1),
         _ms("Encounter.period.end"),
         _ms("Encounter.reasonCode"),
         _ms("Encounter.diagnosis"),
         _ms("Encounter.hospitalization"),
         _ms("Encounter.hospitalization.origin", short="Sending facility (MA_NOI_DI)"),
         _ms("Encounter.hospitalization.destination", short="Receiving facility (MA_NOI_DEN)"),
         _ms("Encounter.hospitalization.dischargeDisposition", short="Discharge type (MA_LOAI_RV)",
             binding={"strength": "extensible", "valueSet": vs_url("t54-discharge-type")}),
         _ms("Encounter.serviceProvider", short="Facility of the episode (MA_CSKCB)"),
     ]),
    ("lienthong-observation-lab", "Observation", "Vietnamese core laboratory result",
     "A laboratory or paraclinical result (insurance table XML4): category laboratory, a coded test, "
     "a quantity or text value.", [
         {"id": "Observation", "constraint": [
             ("vn-lab-1", "warning", "A result has a value, or says why it has none (dataAbsentReason)",
              "valueQuantity.exists() or valueString.exists() or dataAbsentReason.exists()"),
             ("vn-lab-2", "warning", "A quantity result has a number",
              "valueQuantity.exists() implies valueQuantity.value.exists()")]},
         _ms("Observation.status"),
         _ms("Observation.category", short="VN Core's laboratory slice (fixed)"),
         _ms("Observation.code"),
         _ms("Observation.subject", min=1, type=[{"code": "Reference", "targetProfile": [f"{CORE}/Patient"]}]),
         _ms("Observation.encounter"),
         _ms("Observation.effective[x]"),
         _ms("Observation.value[x]", type=[{"code": "Quantity"}, {"code": "string"}]),
         _ms("Observation.dataAbsentReason"),
         _ms("Observation.referenceRange"),
     ]),
    ("lienthong-observation-vitals", "Observation", "Vietnamese core vital sign",
     "A vital sign such as body weight (LOINC 29463-7, CAN_NANG): category vital-signs, a UCUM quantity.", [
         {"id": "Observation", "constraint": [
             ("vn-vit-1", "error", "A vital-sign quantity has a UCUM unit code",
              f"valueQuantity.exists() implies (valueQuantity.system = '{UCUM}' and valueQuantity.code.exists())")]},
         _ms("Observation.status"),
         *_category_slices("Observation", "vitalSigns", "vital-signs", "Vital signs"),
         _ms("Observation.code"),
         _ms("Observation.subject", min=1, type=[{"code": "Reference", "targetProfile": [f"{CORE}/Patient"]}]),
         _ms("Observation.encounter"),
         _ms("Observation.effective[x]"),
         _ms("Observation.value[x]", type=[{"code": "Quantity"}]),
     ]),
    ("lienthong-documentreference-transfer", "DocumentReference", "Vietnamese core transfer letter",
     "The transfer (referral) letter: the 54-field transfer dataset or insurance table XML13 (LOINC 57133-1).",
     _doc_elements("57133-1", "Referral note")),
    ("lienthong-documentreference-discharge", "DocumentReference", "Vietnamese core discharge paper",
     "The discharge paper (insurance table XML7; LOINC 18842-5).", _doc_elements("18842-5", "Discharge summary")),
    ("lienthong-documentreference-summary", "DocumentReference", "Vietnamese core medical record summary",
     "The medical record summary (insurance table XML8; LOINC 34133-9).",
     _doc_elements("34133-9", "Summary of episode note")),
    ("lienthong-documentreference-insurance-table", "DocumentReference", "Vietnamese core insurance table kept whole",
     "An insurance XML table without a clinical FHIR home (130 XML6, XML9, XML10, XML11, XML15), kept as its XML "
     "document and linked to the episode's Encounter; the type is the table's code in CodeSystem bhyt-table.",
     _doc_elements(None, "Insurance XML table", system=f"{BASE}/CodeSystem/bhyt-table")),
]


def _path(element_id: str) -> str:
    return ".".join(part.split(":")[0] for part in element_id.split("."))


def element(spec: dict, url: str) -> dict:
    """An ElementDefinition from its spec: path and sliceName from the id, invariants stamped with the profile."""
    el = dict(spec)
    el_id = el.pop("id")
    out: dict = {"id": el_id, "path": _path(el_id)}
    last = el_id.rsplit(".", 1)[-1]
    if ":" in last:
        out["sliceName"] = last.split(":", 1)[1]
    constraints = el.pop("constraint", [])
    out.update(el)
    if constraints:
        out["constraint"] = [{"key": k, "severity": s, "human": h, "expression": e, "source": url}
                             for k, s, h, e in constraints]
    return out


def profile(id_: str, type_: str, title: str, description: str, elements: list[dict]) -> dict:
    url = sd_url(id_)
    return {
        "resourceType": "StructureDefinition", "id": id_, "url": url, "version": VERSION, "name": pascal(id_),
        "title": title, "status": "active", "date": DATE, "publisher": PUBLISHER, "description": description,
        "jurisdiction": [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "VN"}]}],
        "fhirVersion": FHIR_VERSION, "kind": "resource", "abstract": False, "type": type_,
        "baseDefinition": f"{VN_CORE_SD}/{VN_CORE_BASE[id_]}" if id_ in VN_CORE_BASE else f"{CORE}/{type_}",
        "derivation": "constraint",
        "differential": {"element": [element(e, url) for e in elements]},
    }


def profiles() -> list[dict]:
    return [profile(*spec) for spec in PROFILES]
