"""Extension StructureDefinitions of the transfer dataset (t54-*) and of the insurance tables (bhyt-*)."""
from __future__ import annotations

from .common import CORE, DATE, FHIR_VERSION, PUBLISHER, VERSION, pascal, sd_url, vs_url

TEXT = ["string", "base64Binary"]  # base64Binary (UTF-8) only for whitespace-only text, which a FHIR string cannot carry
# (id, value types, context element, field or purpose)
EXTENSIONS = [
    ("verbatim", ["base64Binary"], "Element",
     "Exact text (UTF-8, base64) of a primitive string element whose value is whitespace-only, which FHIR string cannot carry"),
    ("ethnicity", ["Coding"], "Patient", "MA_DANTOC: ethnic group"),
    ("nationality", ["Coding"], "Patient", "MA_QUOCTICH: nationality"),
    ("occupation", ["Coding"], "Patient", "MA_NGHE_NGHIEP: occupation"),
    ("blood-group", TEXT, "Patient", "NHOM_MAU: blood group as written"),
    ("province", ["Coding"], "Address", "MATINH_CU_TRU: province of residence"),
    ("district", ["Coding"], "Address", "MAHUYEN_CU_TRU: district of residence"),
    ("commune", ["Coding"], "Address", "MAXA_CU_TRU: commune of residence"),
    ("registered-facility", ["Reference"], "Coverage", "MA_DKBD: registered primary-care facility of the card"),
    ("patient-category", TEXT, "Encounter", "MA_DOITUONG_KCB: patient category for insurance payment"),
    ("inpatient-admission", ["dateTime"], "Encounter", "NGAY_VAO_NOI_TRU: inpatient admission"),
    ("department", TEXT, "Encounter", "MA_KHOA: department code(s) at the sending facility"),
    ("treatment-result", ["Coding"], "Encounter", "KET_QUA_DTRI: treatment result"),
    ("transfer-reason", ["Coding"], "Encounter", "MA_LYDO_CT: reason for the transfer"),
    ("original-text", ["string"], "Quantity",
     "The number exactly as written in the source when its JSON decimal form differs (e.g. leading zeros in CAN_NANG)"),
    ("clinical-signs", TEXT, "DocumentReference", "DAU_HIEU_LS: clinical signs at transfer"),
    ("illness-course", TEXT, "DocumentReference", "QT_BENHLY: course of the illness"),
    ("results-summary", TEXT, "DocumentReference", "TOMTAT_KQ: summary of laboratory and imaging results"),
    ("treatment-method", TEXT, "DocumentReference", "PP_DIEUTRI: treatment given"),
    ("services", TEXT, "DocumentReference", "TEN_DICH_VU: services and procedures performed"),
    ("medicines", TEXT, "DocumentReference", "TEN_THUOC: medicines used"),
    ("transfer-condition", TEXT, "DocumentReference", "TINH_TRANG_CT: condition at the moment of transfer"),
    ("further-treatment", TEXT, "DocumentReference", "HUONG_DIEU_TRI: recommended further treatment"),
    ("transport", TEXT, "DocumentReference", "PHUONGTIEN_VC: means of transport"),
    ("escort-name", TEXT, "DocumentReference", "HOTEN_NGUOI_HT: name of the escorting health worker"),
    ("escort-title", TEXT, "DocumentReference", "CHUCDANH_NGUOI_HT: title of the escorting health worker"),
]

# Coded extensions: extension id -> (CodeSystem id whose ValueSet the value is bound to, strength).
# Open lists are bound `required` too: the code must come from that system; whether an unlisted
# code exists cannot be decided here (the terminology functions say so), it is not an error.
EXTENSION_BINDINGS = {
    "t54-ethnicity": ("t54-ethnicity", "required"),
    "t54-nationality": ("t54-nationality", "required"),
    "t54-occupation": ("t54-occupation", "required"),
    "t54-province": ("t54-province", "required"),
    "t54-district": ("t54-district", "required"),
    "t54-commune": ("t54-commune", "required"),
    "t54-treatment-result": ("t54-treatment-result", "required"),
    "t54-transfer-reason": ("t54-transfer-reason", "required"),
}

# Insurance-table extensions: (id without the bhyt- prefix, value types or "complex", context, purpose).
BHYT_EXTENSIONS = [
    ("standard", ["code"], "Encounter", "Standard of the insurance tables the episode came in: 130 or 4210"),
    ("fields", "complex", "DomainResource",
     "Fields of an insurance-table record that have no FHIR element: one sub-extension per field, url = the field's "
     "element name (e.g. MA_PTTT), valueString = its text after trimming"),
    ("amounts", "complex", "DomainResource",
     "Money amounts and rates of an insurance-table record: one sub-extension per field, url = the field's element "
     "name (e.g. T_BHTT), valueMoney (VND) for amounts and prices, valueDecimal for rates"),
    ("empty", ["string"], "DomainResource",
     "Names of the fields of the record that were present but empty, separated by spaces (they are written back empty)"),
]


def _header(full: str, title: str, purpose: str, context: str) -> dict:
    return {
        "resourceType": "StructureDefinition", "id": full, "url": sd_url(full), "version": VERSION, "name": pascal(full),
        "title": title, "status": "active", "date": DATE, "publisher": PUBLISHER,
        "description": purpose, "fhirVersion": FHIR_VERSION, "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": context}], "type": "Extension",
        "baseDefinition": f"{CORE}/Extension", "derivation": "constraint",
    }


def extension(id_: str, types: list[str], context: str, purpose: str, prefix: str = "t54", title: str = "Transfer dataset") -> dict:
    full = f"{prefix}-{id_}"
    type_list = []
    for t in types:
        if t == "Reference":
            type_list.append({"code": "Reference", "targetProfile": [f"{CORE}/Organization"]})
        else:
            type_list.append({"code": t})
    value: dict = {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": type_list}
    if full in EXTENSION_BINDINGS:
        system, strength = EXTENSION_BINDINGS[full]
        value["binding"] = {"strength": strength, "valueSet": vs_url(system)}
    res = _header(full, f"{title}: {id_}", purpose, context)
    res["differential"] = {"element": [
        {"id": "Extension", "path": "Extension", "short": purpose[:80], "definition": purpose, "max": "1"},
        {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": sd_url(full)},
        value,
    ]}
    return res


def complex_extension(id_: str, context: str, purpose: str) -> dict:
    """An extension whose sub-extensions are named by the source field (open slicing on url)."""
    full = f"bhyt-{id_}"
    res = _header(full, f"Insurance tables: {id_}", purpose, context)
    res["differential"] = {"element": [
        {"id": "Extension", "path": "Extension", "short": purpose[:80], "definition": purpose, "max": "1"},
        {"id": "Extension.extension", "path": "Extension.extension", "min": 1},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": sd_url(full)},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"},
    ]}
    return res


#: our extensions that VN Core's replace (the mappings write VN Core's since 2026-11; served so that
#: data written before still validates, and rewritten by ``lienthong migrate``)
SUPERSEDED = {
    "t54-ethnicity": "extension-race", "t54-nationality": "extension-nationality", "t54-occupation": "extension-occupation",
    "t54-province": "extension-administrative-address", "t54-district": "extension-administrative-address",
    "t54-commune": "extension-administrative-address",
}


def _retire(res: dict) -> dict:
    by = SUPERSEDED.get(res["id"])
    if by is not None:
        res["status"] = "retired"
        res["description"] = res["description"].rstrip(".") + (f". Retired: superseded by VN Core's http://fhir.ehealth.gov.vn/core/StructureDefinition/{by}, "
                               "which the mappings write; read in data written before, and rewritten by `lienthong migrate`.")
    return res


def extensions() -> list[dict]:
    out = [_retire(extension(*spec)) for spec in EXTENSIONS]
    for id_, types, context, purpose in BHYT_EXTENSIONS:
        if types == "complex":
            out.append(complex_extension(id_, context, purpose))
        else:
            out.append(extension(id_, list(types), context, purpose, prefix="bhyt", title="Insurance tables"))
    return out
