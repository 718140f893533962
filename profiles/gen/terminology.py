"""NamingSystems, CodeSystems and their ValueSets.

CodeSystems come from mappings/transfer54/codes.json (one per code table) plus a
``content: not-present`` CodeSystem for each open code list that has no table; each CodeSystem
gets a ValueSet ``vs-<id>`` including the whole system, which is what the profiles bind to.
"""
from __future__ import annotations

from mappings.transfer54.fields import BY_NAME, CODE_TABLES

from .common import BASE, DATE, PUBLISHER, VERSION, cs_url, pascal, sid, vs_id, vs_url

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


#: the same identifier under the national guides' systems, preferred first (server/fhir/identifiers.py
#: makes them one in search and matching). VN Core (Ministry of Health) wins where it has the
#: identifier. Not aliased, on purpose: ma-bn and ma-lk (ours are per facility, VN Core's
#: patient-internal-id and HL7 Vietnam's ma-lk are not) and cchn (VN Core has no system for the
#: practising certificate: its two licence systems are a facility's); see docs/vn-core.md.
ALIASES: dict[str, list[tuple[str, str]]] = {
    "cccd": [("http://fhir.ehealth.gov.vn/core/sid/national_id", "VN Core (Ministry of Health): the TheCCCD slice of vn-core-patient"),
             ("http://fhir.hl7.org.vn/core/sid/cccd", "HL7 Vietnam community guide")],
    "the-bhyt": [("http://fhir.ehealth.gov.vn/core/sid/insurance_number", "VN Core (Ministry of Health): the TheBHYT slice of vn-core-patient"),
                 ("http://fhir.hl7.org.vn/core/sid/bhyt", "HL7 Vietnam community guide")],
    "ma-cskcb": [("http://fhir.ehealth.gov.vn/core/sid/provider-code",
                  "VN Core (Ministry of Health): the MaCSKCB slice of vn-core-provider (VN Core's provider-code NamingSystem gives "
                  "the operating licence's URI instead; the profile's slice is followed)")],
}


def system(id_: str) -> str:
    """The system this project writes for an identifier: the national guide's where it has one."""
    aliases = ALIASES.get(id_)
    return aliases[0][0] if aliases else sid(id_)


def naming_system(id_: str, title: str, description: str) -> dict:
    aliases = ALIASES.get(id_, [])
    unique = [{"type": "uri", "value": uri, "preferred": n == 0, "comment": comment} for n, (uri, comment) in enumerate(aliases)]
    unique.append({"type": "uri", "value": sid(id_), "preferred": not aliases, **({"comment": "this project's own system"} if aliases else {})})
    return {
        "resourceType": "NamingSystem", "id": id_, "name": pascal(id_), "status": "active",
        "kind": "identifier", "date": DATE, "publisher": PUBLISHER, "jurisdiction": [
            {"coding": [{"system": "urn:iso:std:iso:3166", "code": "VN"}]}],
        "description": f"{title}. {description}",
        "uniqueId": unique,
    }


def _code_system(id_: str, name: str, title: str, description: str) -> dict:
    return {"resourceType": "CodeSystem", "id": id_, "url": cs_url(id_), "version": VERSION, "name": name,
            "title": title, "status": "active", "date": DATE, "publisher": PUBLISHER, "description": description,
            "caseSensitive": True}


def code_system_from_table(name: str) -> dict:
    table = CODE_TABLES[name]
    res = _code_system(f"t54-{name}", "T54" + pascal(name), f"Transfer dataset: {name}",
                       f"Code table '{name}' of the 54-field transfer dataset ({'closed' if table.closed else 'open'} list).")
    res.update(content="complete" if table.closed else "fragment", count=len(table.codes), concept=[
        {"code": c.code, "display": c.en, "designation": [{"language": "vi", "value": c.vi}]} for c in table.codes.values()])
    return res


def code_system_open(name: str, title: str, prefix: str = "t54") -> dict:
    id_ = f"{prefix}-{name}"
    what = "codes of the insurance tables, kept verbatim" if prefix == "bhyt" else "codes are kept verbatim"
    res = _code_system(id_, pascal(id_) if prefix == "bhyt" else "T54" + pascal(name), title,
                       f"{title}: {what}; the list is maintained outside this project.")
    res["content"] = "not-present"
    return res


def bhyt_table_system() -> dict:
    res = _code_system("bhyt-table", pascal("bhyt-table"), "Insurance XML tables",
                       "The tables of the insurance (BHYT) XML envelope (standard 130; 4210 has XML1 to XML5).")
    res.update(content="complete", count=len(BHYT_TABLES), concept=[
        {"code": c, "display": en, "designation": [{"language": "vi", "value": vi}]} for c, en, vi in BHYT_TABLES])
    return res


#: our code systems that VN Core's replace (the insurance mapping writes VN Core's since 2026-11;
#: served so that data written before still validates, rewritten by ``lienthong migrate``)
SUPERSEDED_SYSTEMS = {
    "bhyt-drug": "http://fhir.ehealth.gov.vn/core/CodeSystem/vn-core-medicationCode",
    "bhyt-service": "http://fhir.ehealth.gov.vn/core/CodeSystem/vn-core-procedureCode",
}


def _retire(cs: dict) -> dict:
    by = SUPERSEDED_SYSTEMS.get(cs["id"])
    if by is not None:
        cs["status"] = "retired"
        cs["description"] = cs["description"].rstrip(".") + f". Retired: superseded by VN Core's {by} (the Ministry's list), which the mappings write."
    return cs


def code_systems() -> list[dict]:
    used = {f.code_table for f in BY_NAME.values() if f.code_table}
    assert used <= set(CODE_TABLES)
    out = [code_system_from_table(name) for name in CODE_TABLES]
    out += [code_system_open(name, title) for name, title in OPEN_SYSTEMS]
    out += [_retire(code_system_open(name, title, prefix="bhyt")) for name, title in BHYT_OPEN_SYSTEMS]
    out.append(bhyt_table_system())
    return out


def value_set(cs: dict) -> dict:
    """The ValueSet of every code of one CodeSystem (bindings point here, not at the CodeSystem)."""
    id_ = vs_id(cs["id"])
    return {
        "resourceType": "ValueSet", "id": id_, "url": vs_url(cs["id"]), "version": VERSION, "name": pascal(id_),
        "title": f"All codes of {cs['title']}", "status": cs["status"], "date": DATE, "publisher": PUBLISHER,
        "description": f"Every code of the CodeSystem {cs['url']} (content: {cs['content']}).",
        "immutable": False,
        "compose": {"include": [{"system": cs["url"]}]},
    }


def naming_systems() -> list[dict]:
    passport = naming_system("passport", "Passport number", "Passport number (VN Core and HL7 Vietnam name it; this project has no system of its own).")
    passport["uniqueId"] = [
        {"type": "uri", "value": "http://fhir.ehealth.gov.vn/core/sid/passport_number", "preferred": True, "comment": "VN Core (Ministry of Health): the SoHoChieu slice of vn-core-patient"},
        {"type": "uri", "value": "http://fhir.hl7.org.vn/core/sid/passport", "preferred": False, "comment": "HL7 Vietnam community guide"},
    ]
    return [*(naming_system(*spec) for spec in NAMING_SYSTEMS), passport]


__all__ = ["BASE", "naming_systems", "code_systems", "value_set", "BHYT_TABLES"]
