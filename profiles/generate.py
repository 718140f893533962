"""Write the project's conformance resources (FHIR R4 JSON) into this directory.

    python -m profiles.generate          # rewrite the committed files
    python -m profiles.generate --check  # exit 1 if a committed file is stale

CodeSystems come from mappings/transfer54/codes.json (one per code table) plus a
``content: not-present`` CodeSystem for each open code list of fields.json that has no table;
NamingSystems and extension StructureDefinitions are declared below. Every resource lives
under the canonical base https://lienthong.dev/fhir, and the mapping reads every URL back
from these files (profiles.urls()), so each URL is written exactly once: here.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from mappings.transfer54.fields import BY_NAME, CODE_TABLES

BASE = "https://lienthong.dev/fhir"
HERE = Path(__file__).parent
DATE = "2026-01-01"
PUBLISHER = "Liên Thông project"

# (id, title, description) — identifier systems; "per facility" ones are used as <uri>/<MA_CSKCB>.
NAMING_SYSTEMS = [
    ("cccd", "Citizen identity card number (CCCD)", "12-digit citizen identity card number (SO_CCCD)."),
    ("the-bhyt", "Health-insurance card number (BHYT)", "15-character health-insurance card number (MA_THE_BHYT)."),
    ("ma-cskcb", "Health facility code", "5-digit code of a health facility (MA_CSKCB, MA_NOI_DI, MA_NOI_DEN, MA_DKBD)."),
    ("cchn", "Practising-certificate code", "Practising certificate code of a health worker (MA_BAC_SI, MA_TTDV)."),
    ("ma-bn", "Patient id at a facility",
     "Patient id at the sending facility (MA_BN). Per facility: the system used is this URI + '/' + the 5-digit facility code."),
    ("ma-lk", "Treatment-episode link code at a facility",
     "Link code of a treatment episode (MA_LK), unique per facility. Per facility: the system used is this URI + '/' + the facility code."),
    ("so-chuyen-tuyen", "Transfer number", "Transfer number in the sending facility's register (SO_CHUYENTUYEN)."),
    ("giay-chuyen-tuyen", "Transfer letter number", "Number of the paper referral letter (GIAY_CHUYEN_TUYEN)."),
    ("so-ho-so", "Medical record number", "Medical record number at the sending facility (SO_HOSO)."),
    ("t54-part", "Part of an imported transfer episode",
     "Identifies a resource an import of the transfer dataset made for one episode, as <MA_CSKCB>/<MA_LK>/<part> "
     "(e.g. 46001/CT92/card/0), so that importing the same record again updates it instead of adding a copy."),
    ("bhyt-part", "Part of an imported insurance-table episode",
     "Identifies a resource an import of the insurance XML tables made for one episode, as <MA_CSKCB>/<MA_LK>/<part> "
     "(e.g. 46001/LK01/XML2/3 for the third row of XML2), so that importing the same envelope again updates it."),
    ("bhyt-episode", "Insurance-table episode",
     "<MA_CSKCB>/<MA_LK> of the treatment episode an insurance-table resource belongs to (on every part of the episode)."),
]

# Open code lists without a table in codes.json: CodeSystem with content not-present.
OPEN_SYSTEMS = [
    ("nationality", "Nationality code (MA_QUOCTICH)"),
    ("occupation", "Occupation code (MA_NGHE_NGHIEP)"),
    ("province", "Province code (MATINH_CU_TRU)"),
    ("district", "District code (MAHUYEN_CU_TRU)"),
    ("commune", "Commune code (MAXA_CU_TRU)"),
    ("yhct", "Traditional-medicine (YHCT) diagnosis code (MA_BENH_YHCT)"),
]

# Open code lists of the insurance tables (id without the bhyt- prefix, title).
BHYT_OPEN_SYSTEMS = [
    ("drug", "Medicine code (XML2 MA_THUOC)"),
    ("service", "Medical service code (XML3/XML4 MA_DICH_VU)"),
    ("supply", "Medical supply code (XML3 MA_VAT_TU)"),
    ("route", "Route of administration code (XML2 DUONG_DUNG)"),
    ("indicator", "Test indicator code (XML4 MA_CHI_SO)"),
]

# The insurance tables themselves (DocumentReference.type of a table kept whole).
BHYT_TABLES = [
    ("XML1", "Episode summary and costs", "Chỉ tiêu tổng hợp khám bệnh, chữa bệnh"),
    ("XML2", "Medicines", "Chỉ tiêu chi tiết thuốc"),
    ("XML3", "Services and supplies", "Chỉ tiêu chi tiết dịch vụ kỹ thuật và vật tư y tế"),
    ("XML4", "Paraclinical results", "Chỉ tiêu chi tiết dịch vụ cận lâm sàng"),
    ("XML5", "Clinical progress", "Chỉ tiêu chi tiết diễn biến lâm sàng"),
    ("XML6", "HIV care and treatment", "Chỉ tiêu hồ sơ bệnh án chăm sóc và điều trị HIV/AIDS"),
    ("XML7", "Discharge paper", "Chỉ tiêu dữ liệu giấy ra viện"),
    ("XML8", "Medical record summary", "Chỉ tiêu dữ liệu tóm tắt hồ sơ bệnh án"),
    ("XML9", "Birth certificate", "Chỉ tiêu dữ liệu giấy chứng sinh"),
    ("XML10", "Pregnancy leave certificate", "Chỉ tiêu dữ liệu giấy nghỉ dưỡng thai"),
    ("XML11", "Sick-leave certificate", "Chỉ tiêu dữ liệu giấy chứng nhận nghỉ việc hưởng bảo hiểm xã hội"),
    ("XML13", "Transfer paper", "Chỉ tiêu dữ liệu giấy chuyển tuyến"),
    ("XML14", "Re-visit appointment", "Chỉ tiêu dữ liệu giấy hẹn khám lại"),
    ("XML15", "Tuberculosis treatment", "Chỉ tiêu dữ liệu điều trị bệnh lao"),
]

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


def _pascal(text: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in text.replace("-", " ").split())


def naming_system(id_: str, title: str, description: str) -> dict:
    return {
        "resourceType": "NamingSystem", "id": id_, "name": _pascal(id_), "status": "active",
        "kind": "identifier", "date": DATE, "publisher": PUBLISHER, "jurisdiction": [
            {"coding": [{"system": "urn:iso:std:iso:3166", "code": "VN"}]}],
        "description": f"{title}. {description}",
        "uniqueId": [{"type": "uri", "value": f"{BASE}/sid/{id_}", "preferred": True}],
    }


def code_system_from_table(name: str) -> dict:
    table = CODE_TABLES[name]
    id_ = f"t54-{name}"
    return {
        "resourceType": "CodeSystem", "id": id_, "url": f"{BASE}/CodeSystem/{id_}", "name": "T54" + _pascal(name),
        "title": f"Transfer dataset: {name}", "status": "active", "date": DATE, "publisher": PUBLISHER,
        "description": f"Code table '{name}' of the 54-field transfer dataset ({'closed' if table.closed else 'open'} list).",
        "caseSensitive": True, "content": "complete" if table.closed else "fragment", "count": len(table.codes),
        "concept": [{"code": c.code, "display": c.en, "designation": [{"language": "vi", "value": c.vi}]}
                    for c in table.codes.values()],
    }


def code_system_open(name: str, title: str) -> dict:
    id_ = f"t54-{name}"
    return {
        "resourceType": "CodeSystem", "id": id_, "url": f"{BASE}/CodeSystem/{id_}", "name": "T54" + _pascal(name),
        "title": title, "status": "active", "date": DATE, "publisher": PUBLISHER,
        "description": f"{title}: codes are kept verbatim; the list is maintained outside this project.",
        "caseSensitive": True, "content": "not-present",
    }


def extension(id_: str, types: list[str], context: str, purpose: str, prefix: str = "t54", title: str = "Transfer dataset") -> dict:
    full = f"{prefix}-{id_}"
    url = f"{BASE}/StructureDefinition/{full}"
    type_list = []
    for t in types:
        if t == "Reference":
            type_list.append({"code": "Reference", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Organization"]})
        else:
            type_list.append({"code": t})
    return {
        "resourceType": "StructureDefinition", "id": full, "url": url, "name": _pascal(full),
        "title": f"{title}: {id_}", "status": "active", "date": DATE, "publisher": PUBLISHER,
        "description": purpose, "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": context}], "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension", "path": "Extension", "short": purpose[:80], "definition": purpose, "max": "1"},
            {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
            {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
            {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": type_list},
        ]},
    }


def complex_extension(id_: str, context: str, purpose: str) -> dict:
    """An extension whose sub-extensions are named by the source field (open slicing on url)."""
    full = f"bhyt-{id_}"
    url = f"{BASE}/StructureDefinition/{full}"
    return {
        "resourceType": "StructureDefinition", "id": full, "url": url, "name": _pascal(full),
        "title": f"Insurance tables: {id_}", "status": "active", "date": DATE, "publisher": PUBLISHER,
        "description": purpose, "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": context}], "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension", "path": "Extension", "short": purpose[:80], "definition": purpose, "max": "1"},
            {"id": "Extension.extension", "path": "Extension.extension", "min": 1},
            {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
            {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"},
        ]},
    }


def bhyt_open_system(name: str, title: str) -> dict:
    res = code_system_open(name, title)
    id_ = f"bhyt-{name}"
    res.update(id=id_, url=f"{BASE}/CodeSystem/{id_}", name=_pascal(id_),
               description=f"{title}: codes of the insurance tables, kept verbatim; the list is maintained outside this project.")
    return res


def bhyt_table_system() -> dict:
    id_ = "bhyt-table"
    return {
        "resourceType": "CodeSystem", "id": id_, "url": f"{BASE}/CodeSystem/{id_}", "name": _pascal(id_),
        "title": "Insurance XML tables", "status": "active", "date": DATE, "publisher": PUBLISHER,
        "description": "The tables of the insurance (BHYT) XML envelope (standard 130; 4210 has XML1 to XML5).",
        "caseSensitive": True, "content": "complete", "count": len(BHYT_TABLES),
        "concept": [{"code": c, "display": en, "designation": [{"language": "vi", "value": vi}]} for c, en, vi in BHYT_TABLES],
    }


def build() -> dict[str, dict]:
    """File name -> resource, for every conformance resource of the project."""
    out: dict[str, dict] = {}
    for spec in NAMING_SYSTEMS:
        res = naming_system(*spec)
        out[f"NamingSystem-{res['id']}.json"] = res
    tables = [t for t in CODE_TABLES]
    used = {f.code_table for f in BY_NAME.values() if f.code_table}
    assert used <= set(tables)
    for name in tables:
        res = code_system_from_table(name)
        out[f"CodeSystem-{res['id']}.json"] = res
    for name, title in OPEN_SYSTEMS:
        res = code_system_open(name, title)
        out[f"CodeSystem-{res['id']}.json"] = res
    for name, title in BHYT_OPEN_SYSTEMS:
        res = bhyt_open_system(name, title)
        out[f"CodeSystem-{res['id']}.json"] = res
    res = bhyt_table_system()
    out[f"CodeSystem-{res['id']}.json"] = res
    for spec in EXTENSIONS:
        res = extension(*spec)
        out[f"StructureDefinition-{res['id']}.json"] = res
    for id_, types, context, purpose in BHYT_EXTENSIONS:
        if types == "complex":
            res = complex_extension(id_, context, purpose)
        else:
            res = extension(id_, list(types), context, purpose, prefix="bhyt", title="Insurance tables")
        out[f"StructureDefinition-{res['id']}.json"] = res
    return out


def render(resource: dict) -> str:
    return json.dumps(resource, ensure_ascii=False, indent=1) + "\n"


def stale() -> list[str]:
    """Names of files that are missing, differ from build(), or are left over."""
    wanted = build()
    bad = [n for n, r in wanted.items() if not (HERE / n).exists() or (HERE / n).read_text(encoding="utf-8") != render(r)]
    extra = [p.name for p in HERE.glob("*.json") if p.name not in wanted]
    return sorted(bad + extra)


def main(argv: list[str]) -> int:
    if "--check" in argv:
        bad = stale()
        for n in bad:
            print(f"stale: profiles/{n}")
        return 1 if bad else 0
    wanted = build()
    for p in HERE.glob("*.json"):
        if p.name not in wanted:
            p.unlink()
    for name, res in wanted.items():
        (HERE / name).write_text(render(res), encoding="utf-8")
    print(f"wrote {len(wanted)} files to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
