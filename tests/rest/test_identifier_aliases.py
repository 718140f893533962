"""One person under three dialects of the national identifier systems is one Patient (issue 13)."""

from __future__ import annotations

import pytest

from .helpers import JSON

pytestmark = pytest.mark.anyio

MOH = "http://fhir.ehealth.gov.vn/core/sid/national_id"
HL7VN = "http://fhir.hl7.org.vn/core/sid/cccd"
OURS = "https://lienthong.dev/fhir/sid/cccd"
VN_PATIENT = "https://lienthong.dev/fhir/StructureDefinition/lienthong-patient"


async def test_search_and_conditional_create_treat_the_dialects_as_one(client) -> None:  # type: ignore[no-untyped-def]
    body = {"resourceType": "Patient", "identifier": [{"system": HL7VN, "value": "001085012345"}], "name": [{"family": "Nguyễn"}]}
    pid = (await client.post("Patient", json=body, headers=JSON)).json()["id"]
    for system in (MOH, HL7VN, OURS):
        found = (await client.get("Patient", params={"identifier": f"{system}|001085012345"})).json()
        assert [e["resource"]["id"] for e in found.get("entry", [])] == [pid], system
    again = await client.post("Patient", json={**body, "identifier": [{"system": MOH, "value": "001085012345"}]},
                              headers={**JSON, "If-None-Exist": f"identifier={MOH}|001085012345"})
    assert again.status_code == 200 and again.json()["id"] == pid
    stored = (await client.get(f"Patient/{pid}")).json()
    assert stored["identifier"] == body["identifier"]  # stored as sent
    assert (await client.get("Patient", params={"identifier": f"{MOH}|001085099999"})).json()["total"] == 0


async def test_importing_the_same_person_in_two_dialects_yields_one_patient(client) -> None:  # type: ignore[no-untyped-def]
    def bundle(system: str) -> dict:
        return {"resourceType": "Bundle", "type": "transaction", "entry": [{
            "fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "identifier": [{"system": system, "value": "079190000001"}]},
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={system}|079190000001"}}, {
            "resource": {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}, "subject": {"reference": "urn:uuid:p"}},
            "request": {"method": "POST", "url": "Encounter"}}]}
    first = await client.post("", json=bundle(OURS), headers=JSON)
    second = await client.post("", json=bundle(HL7VN), headers=JSON)
    assert first.status_code == second.status_code == 200
    assert (await client.get("Patient", params={"identifier": "079190000001"})).json()["total"] == 1
    assert (await client.get("Encounter", params={"subject.identifier": f"{MOH}|079190000001"})).json()["total"] == 2


@pytest.mark.parametrize(("number", "ok"), [
    ("001085012345", True),  # the 12-digit citizen id, the insurance number since the 2024 amendment
    ("0123456789", True),  # the 10-digit social-insurance code
    ("DN4010123456789", True),  # the legacy 15-character card
    ("01234567890", False), ("DN40101234567", False), ("dn4010123456789", False),
])
async def test_three_forms_of_insurance_number(client, number: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    patient = {"resourceType": "Patient", "gender": "male", "birthDate": "1990-01-01", "name": [{"text": "Lê", "family": "Lê"}],
               "identifier": [{"system": "http://fhir.ehealth.gov.vn/core/sid/insurance_number", "value": number}]}
    r = await client.post("Patient/$validate", params={"profile": VN_PATIENT}, json=patient, headers=JSON)
    problems = [i["diagnostics"] for i in r.json()["issue"] if i["severity"] == "error"]
    assert (not any("vn-pat-2" in p for p in problems)) == ok, problems
