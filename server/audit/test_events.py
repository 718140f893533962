"""AuditEvents as built: valid R4 (structure and invariants), and saying who, what, when, where, outcome."""

from __future__ import annotations

import base64

from server.auth.access import FULL, Access
from server.auth.scopes import parse_scopes
from server.fhir.profiling import validate
from server.fhir.resource_types import RESOURCE_TYPES
from server.fhir.search.extract import extract_index
from server.fhir.search.registry import SearchRegistry
from server.fhir.validation import validate_resource
from server.storage.index import DateValue, ReferenceValue, StringValue, TokenValue

from .events import JTI_PREFIX, MAX_ENTITIES, auth_event, patients_of, rest_event

DOCTOR = Access(grants=tuple(parse_scopes("user/*.rs")[0]), user="nguyen.an", role="doctor", client_id="workspace",
                fhir_user="Practitioner/p1", token_id="abc123", scope_text="user/*.rs")


def _errors(resource: dict) -> list[str]:
    """R4 structure (what every write passes) and R4 invariants."""
    issues = [*validate_resource(resource), *validate(resource)]
    return [i.diagnostics for i in issues if i.severity in ("error", "fatal")]


def test_a_read_names_the_user_the_client_the_patient_and_the_resource() -> None:
    e = rest_event(interaction="read", method="GET", path="/fhir/Observation/o1", query="", status=200, access=DOCTOR,
                   source_ip="10.1.2.3", touched=[("Observation", "o1", 3)], patients={"p9"})
    assert _errors(e) == []
    assert e["subtype"][0]["code"] == "read" and e["action"] == "R" and e["outcome"] == "0"
    user, client, server = e["agent"]
    assert user["who"]["identifier"]["value"] == "nguyen.an" and user["who"]["reference"] == "Practitioner/p1" and user["requestor"] is True
    assert user["type"]["coding"][0]["code"] == "IRCP" and user["role"] == [{"text": "doctor"}]
    assert user["network"] == {"address": "10.1.2.3", "type": "2"} and user["policy"] == [JTI_PREFIX + "abc123"]
    assert client["who"]["identifier"]["value"] == "workspace" and client["requestor"] is False
    assert client["type"]["coding"][0]["code"] == "110153" and client["network"]["address"] == "10.1.2.3"
    assert server["type"]["coding"][0]["code"] == "110152" and server["requestor"] is False
    assert e["source"]["type"][0]["code"] == "4" and e["outcomeDesc"] == "HTTP 200; GET /fhir/Observation/o1"
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
    long = rest_event(interaction="search-system", method="GET", path="/fhir", query="_id=" + "x" * 3000, status=200,
                      access=DOCTOR, source_ip=None, touched=touched, patients=set())
    assert _errors(long) == [] and long["outcomeDesc"].endswith("(5 more resources not listed)")  # a long query does not hide the count


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


def test_a_write_names_its_user_as_author_and_a_vendor_as_requestor() -> None:
    e = rest_event(interaction="update", method="PUT", path="/fhir/Patient/p1", query="", status=200, access=DOCTOR,
                   source_ip=None, touched=[("Patient", "p1", 2)], patients={"p1"})
    assert _errors(e) == [] and e["action"] == "U" and e["agent"][0]["type"]["coding"][0]["code"] == "AUT"
    assert "network" not in e["agent"][0] and "network" not in e["agent"][1]
    vendor = Access(grants=tuple(parse_scopes("system/*.cruds")[0]), client_id="his-a", token_id="t1", scope_text="system/*.cruds")
    e = rest_event(interaction="delete", method="DELETE", path="/fhir/Observation/o1", query="", status=200, access=vendor,
                   source_ip="10.0.0.7", touched=[("Observation", "o1", 4)], patients=set())
    assert _errors(e) == [] and e["action"] == "D"
    client, server = e["agent"]
    assert client["requestor"] is True and client["policy"] == [JTI_PREFIX + "t1"] and client["network"]["address"] == "10.0.0.7"
    assert server["who"]["identifier"]["value"] == "lienthong"


def test_every_interaction_has_its_subtype_and_action() -> None:
    expected = {"read": "R", "vread": "R", "search-type": "E", "search-system": "E", "history-instance": "R", "history-type": "R",
                "history-system": "R", "create": "C", "update": "U", "delete": "D", "transaction": "E", "batch": "E", "operation": "E"}
    for interaction, action in expected.items():
        e = rest_event(interaction=interaction, method="GET", path="/fhir", query="", status=200, access=DOCTOR,
                       source_ip=None, touched=[], patients=set())
        assert e["subtype"] == [{"system": "http://hl7.org/fhir/restful-interaction", "code": interaction}]
        assert e["type"]["code"] == "rest" and e["action"] == action, interaction


def test_every_search_parameter_of_an_event_is_indexed() -> None:
    """What an auditor searches by is extracted from the events as built (both stores index these rows)."""
    registry = SearchRegistry(RESOURCE_TYPES)
    e = rest_event(interaction="search-type", method="GET", path="/fhir/Observation", query="subject=Patient/p9", status=200,
                   access=DOCTOR, source_ip="10.1.2.3", touched=[("Observation", "o1", 3)], patients={"p9"})
    rows = extract_index(registry, {**e, "id": "a1"})
    by = {name: [r for r in rows if r.param == name] for name in {r.param for r in rows}}
    assert ReferenceValue("patient", "Patient/p9") in by["patient"]
    assert {r.target for r in by["entity"]} == {"Patient/p9", "Observation/o1"}
    assert by["agent"] == [ReferenceValue("agent", "Practitioner/p1")]
    assert TokenValue("agent:identifier", "urn:lienthong:client", "workspace") in by["agent:identifier"]
    assert len(by["date"]) == 1 and isinstance(by["date"][0], DateValue)
    assert [(r.system, r.code) for r in by["type"]] == [("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest")]
    assert [(r.system, r.code) for r in by["subtype"]] == [("http://hl7.org/fhir/restful-interaction", "search-type")]
    assert [r.code for r in by["outcome"]] == ["0"] and [r.code for r in by["action"]] == ["E"]
    assert {r.code for r in by["entity-type"]} == {"1", "2"} and {r.code for r in by["entity-role"]} == {"1", "4", "24"}
    assert by["address"] == [StringValue("address", "10.1.2.3", "10.1.2.3")]
    assert by["source:identifier"] == [TokenValue("source:identifier", "urn:lienthong:server", "lienthong")]
    # a patient reading their own record is found by patient= through the agent (resolve() is Patient)
    me = Access(grants=tuple(parse_scopes("patient/*.rs")[0]), user="me", patient="p5", fhir_user="Patient/p5", client_id="app")
    mine = rest_event(interaction="search-type", method="GET", path="/fhir/Encounter", query="", status=200, access=me,
                      source_ip=None, touched=[], patients=set())
    assert ReferenceValue("patient", "Patient/p5") in extract_index(registry, {**mine, "id": "a2"})


def test_an_external_users_issuer_is_named() -> None:
    external = Access(grants=tuple(parse_scopes("user/*.rs")[0]), user="an@idp", client_id="portal", notes={"issuer": "https://idp.example.org"})
    e = rest_event(interaction="read", method="GET", path="/fhir/Patient/p1", query="", status=200, access=external,
                   source_ip=None, touched=[("Patient", "p1", 1)], patients={"p1"})
    assert _errors(e) == [] and e["agent"][0]["who"]["identifier"]["assigner"] == {"display": "https://idp.example.org"}
