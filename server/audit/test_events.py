"""AuditEvents as built: valid R4 (structure and invariants), and saying who, what, when, where, outcome."""

from __future__ import annotations

import base64

from server.auth.access import FULL, Access
from server.auth.scopes import parse_scopes
from server.fhir.profiling import validate
from server.fhir.resource_types import RESOURCE_TYPES
from server.fhir.search.registry import SearchRegistry

from .events import MAX_ENTITIES, auth_event, patients_of, rest_event

DOCTOR = Access(grants=tuple(parse_scopes("user/*.rs")[0]), user="nguyen.an", role="doctor", client_id="workspace",
                fhir_user="Practitioner/p1", token_id="abc123", scope_text="user/*.rs")


def _errors(resource: dict) -> list[str]:
    return [i.diagnostics for i in validate(resource) if i.severity in ("error", "fatal")]


def test_a_read_names_the_user_the_client_the_patient_and_the_resource() -> None:
    e = rest_event(interaction="read", method="GET", path="/fhir/Observation/o1", query="", status=200, access=DOCTOR,
                   source_ip="10.1.2.3", touched=[("Observation", "o1", 3)], patients={"p9"})
    assert _errors(e) == []
    assert e["subtype"][0]["code"] == "read" and e["action"] == "R" and e["outcome"] == "0"
    user, client = e["agent"]
    assert user["who"]["identifier"]["value"] == "nguyen.an" and user["who"]["reference"] == "Practitioner/p1" and user["requestor"] is True
    assert user["network"] == {"address": "10.1.2.3", "type": "2"} and user["policy"] == ["urn:lienthong:token:abc123"]
    assert client["who"]["identifier"]["value"] == "workspace" and client["requestor"] is False
    assert [x["what"]["reference"] for x in e["entity"]] == ["Patient/p9", "Observation/o1"]
    assert e["entity"][1]["detail"] == [{"type": "versionId", "valueString": "3"}]
    assert e["entity"][0]["role"]["code"] == "1"


def test_a_search_keeps_its_query_and_caps_the_list() -> None:
    touched = [("Observation", f"o{i}", 1) for i in range(MAX_ENTITIES + 5)]
    e = rest_event(interaction="search-type", method="GET", path="/fhir/Observation", query="code=1234-5&_count=200", status=200,
                   access=DOCTOR, source_ip=None, touched=touched, patients=set())
    assert _errors(e) == []
    queries = [x for x in e["entity"] if "query" in x]
    assert base64.b64decode(queries[0]["query"]).decode() == "code=1234-5&_count=200"
    assert len(e["entity"]) == MAX_ENTITIES + 1 and "5 more resources" in e["outcomeDesc"]


def test_refusals_failures_and_the_server_itself() -> None:
    refused = rest_event(interaction="read", method="GET", path="/fhir/Patient/x", query="", status=401, access=None,
                         source_ip="127.0.0.1", touched=[], patients=set(), detail="the bearer token has expired")
    assert _errors(refused) == [] and refused["outcome"] == "4" and "expired" in refused["outcomeDesc"]
    assert refused["agent"][0]["who"]["identifier"]["value"] == "anonymous"
    broken = rest_event(interaction="create", method="POST", path="/fhir/Patient", query="", status=500, access=FULL,
                        source_ip=None, touched=[], patients=set())
    assert broken["outcome"] == "8" and broken["agent"][0]["who"]["display"] == "server"


def test_authentication_events() -> None:
    for action, subtype in (("login", "110122"), ("logout", "110123"), ("token", "token"), ("revoke", "revoke")):
        e = auth_event(action=action, success=action != "login", source_ip="127.0.0.1", client_id="his-a", user=None, detail="why")
        assert _errors(e) == [] and e["type"]["code"] == "110114" and e["subtype"][0]["code"] == subtype
    assert auth_event(action="login", success=False, source_ip=None, client_id=None, user="x", detail="wrong password")["outcome"] == "4"


def test_patients_of_follows_the_compartment() -> None:
    registry = SearchRegistry(RESOURCE_TYPES)
    assert patients_of(registry, "Patient", {"resourceType": "Patient", "id": "p1"}) == {"p1"}
    obs = {"resourceType": "Observation", "id": "o", "subject": {"reference": "Patient/p2"}, "performer": [{"reference": "Practitioner/d"}]}
    assert patients_of(registry, "Observation", obs) == {"p2"}
    assert patients_of(registry, "Organization", {"resourceType": "Organization", "id": "x"}) == set()
    cov = {"resourceType": "Coverage", "id": "c", "beneficiary": {"reference": "Patient/p3"}, "subscriber": {"reference": "Patient/p4"}}
    assert patients_of(registry, "Coverage", cov) == {"p3", "p4"}
