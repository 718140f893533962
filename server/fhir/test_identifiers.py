"""Identifier systems that name one identifier, as the NamingSystems in profiles/ list them."""

from __future__ import annotations

from server.fhir.identifiers import aliases_of, canonical_system

MOH, HL7VN, OURS = "http://fhir.ehealth.gov.vn/core/sid/national_id", "http://fhir.hl7.org.vn/core/sid/cccd", "https://lienthong.dev/fhir/sid/cccd"


def test_every_dialect_of_the_cccd_and_the_insurance_number_is_one_system() -> None:
    assert {canonical_system(s) for s in (MOH, HL7VN, OURS)} == {MOH}
    bhyt = ("http://fhir.ehealth.gov.vn/core/sid/insurance_number", "http://fhir.hl7.org.vn/core/sid/bhyt", "https://lienthong.dev/fhir/sid/the-bhyt")
    assert {canonical_system(s) for s in bhyt} == {bhyt[0]}
    assert canonical_system("http://fhir.hl7.org.vn/core/sid/passport") == "http://fhir.ehealth.gov.vn/core/sid/passport_number"


def test_systems_without_aliases_stay_as_they_are() -> None:
    for system in ("urn:oid:1.2.3", "https://lienthong.dev/fhir/sid/ma-bn/46001", "http://loinc.org", "", None):
        assert canonical_system(system) == system
    # not aliased on purpose: the old CMND is not the CCCD, and per-facility systems are not VN Core's single one
    assert canonical_system("http://fhir.ehealth.gov.vn/core/sid/citizen_id") == "http://fhir.ehealth.gov.vn/core/sid/citizen_id"


def test_the_table_is_read_from_naming_systems() -> None:
    ns = {"resourceType": "NamingSystem", "kind": "identifier", "uniqueId": [
        {"type": "uri", "value": "urn:a"}, {"type": "uri", "value": "urn:b", "preferred": True}, {"type": "oid", "value": "1.2.3"}]}
    assert aliases_of([ns, {"resourceType": "NamingSystem", "kind": "codesystem", "uniqueId": ns["uniqueId"]}]) == {"urn:a": "urn:b", "urn:b": "urn:b"}
