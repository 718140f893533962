"""AuditEvent resources (R4), shaped after IHE Basic Audit Log Patterns (BALP).

One event says who (the user and the client application, with the token's id), what (the
RESTful interaction, the resources touched, one entity per patient whose data it was, and the
query of a search), when, from where (the client's address) and how it ended (``outcome``).

Codes, as BALP uses them: ``type`` ``rest`` (audit-event-type) with the RESTful interaction as
``subtype``; agents: the user (``requestor``; the token's ``jti`` in ``policy``), the client
application as DICOM 110153 *Source Role ID* with its network address, this server as 110152
*Destination Role ID*; entities: each patient (type 1 Person, role 1 Patient), each resource
(type 2 System Object, role 4 Domain Resource, its version in ``detail``), a search's query
(role 24 Query, base64). Authentication: ``type`` DICOM 110114 *User Authentication* with
subtype DICOM 110122 *Login* / 110123 *Logout*; a token issued or refused and a revocation,
which neither R4 nor DICOM names, are subtypes ``token`` / ``revoke`` of :data:`OWN_SUBTYPE`.
The request (method, path, query) is at the end of ``outcomeDesc`` (R4 has no ``description``).
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from ..auth.access import Access
from ..fhir.compartment import compartment
from ..fhir.resource import reference_target
from ..fhir.search.fhirpath_lite import evaluate
from ..fhir.search.registry import SearchRegistry

EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
#: the project's own subtypes, for what neither R4 nor DICOM names (a token issued, revoked)
OWN_SUBTYPE = "https://lienthong.dev/fhir/CodeSystem/audit-event-subtype"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
USER_SYSTEM = "urn:lienthong:user"
CLIENT_SYSTEM = "urn:lienthong:client"

#: most resources listed in one event (the rest are counted in its description)
MAX_ENTITIES = 100

#: RESTful interaction → AuditEvent.action (BALP: searches and operations are Execute)
ACTIONS = {
    "create": "C", "update": "U", "delete": "D", "read": "R", "vread": "R",
    "patch": "U", "history-instance": "R", "history-type": "R", "history-system": "R",
    "search-type": "E", "search-system": "E", "operation": "E", "batch": "E", "transaction": "E",
}
#: authentication step → (type code, subtype system, subtype code, display)
AUTH_SUBTYPES = {
    "login": (DCM, "110122", "Login"),
    "logout": (DCM, "110123", "Logout"),
    "token": (OWN_SUBTYPE, "token", "Access token issued"),
    "revoke": (OWN_SUBTYPE, "revoke", "Token revoked"),
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def outcome_code(status: int) -> str:
    """0 success, 4 minor failure (the client's request was refused or wrong), 8 serious (ours)."""
    return "0" if status < 400 else ("4" if status < 500 else "8")


#: how the user took part: the author of a write, the recipient of what was read (v3-ParticipationType)
USER_ROLE = {"C": ("AUT", "author (originator)"), "U": ("AUT", "author (originator)"), "D": ("AUT", "author (originator)")}
READER = ("IRCP", "information recipient")
#: the server, as the Destination agent and the ``source.observer`` (searchable as ``source:identifier``)
SERVER_SYSTEM = "urn:lienthong:server"
SERVER_NAME = "lienthong"
SERVER_DISPLAY = "Liên Thông FHIR server"
#: BALP (OAuth access token use): the token's ``jti`` goes in ``agent.policy`` with this prefix
JTI_PREFIX = "urn:ietf:params:oauth:jti:"


def _agents(access: Access | None, source_ip: str | None, *, action: str, client_id: str | None = None, user: str | None = None) -> list[dict[str, Any]]:
    """The user (when known, first, the requestor), the client application (DICOM Source Role ID,
    as BALP has it for every RESTful interaction, with the client's network address) and this
    server (Destination Role ID). The token's ``jti`` is the user's ``policy`` (the client's when
    there is no user)."""
    network = {"network": {"address": source_ip, "type": "2"}} if source_ip else {}
    client_id = client_id or (access.client_id if access else None)
    user = user or (access.user if access else None)
    agents: list[dict[str, Any]] = []
    if user:
        who: dict[str, Any] = {"identifier": {"system": USER_SYSTEM, "value": user}, "display": user}
        issuer = access.notes.get("issuer") if access is not None else None
        if issuer:  # a user of an external identity provider: say which one
            who["identifier"]["assigner"] = {"display": issuer}
        if access is not None and access.fhir_user:
            who["reference"] = access.fhir_user
        code, display = USER_ROLE.get(action, READER)
        agent: dict[str, Any] = {"type": {"coding": [{"system": PARTICIPATION, "code": code, "display": display}]}, "who": who, "requestor": True}
        if access is not None and access.role:
            agent["role"] = [{"text": access.role}]
        agents.append({**agent, **network})
    if client_id or not agents:
        name = client_id or ("server" if access is not None and access.full else "anonymous")
        agents.append({
            "type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]},
            "who": {"identifier": {"system": CLIENT_SYSTEM, "value": name}, "display": name},
            "requestor": not user,
            **network,
        })
    if access is not None and access.token_id:
        agents[0]["policy"] = [JTI_PREFIX + access.token_id]
    agents.append({
        "type": {"coding": [{"system": DCM, "code": "110152", "display": "Destination Role ID"}]},
        "who": {"identifier": {"system": SERVER_SYSTEM, "value": SERVER_NAME}, "display": SERVER_DISPLAY},
        "requestor": False,
    })
    return agents


def _source() -> dict[str, Any]:
    return {"observer": {"identifier": {"system": SERVER_SYSTEM, "value": SERVER_NAME}, "display": SERVER_DISPLAY},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}]}


def rest_event(*, interaction: str, method: str, path: str, query: str, status: int, access: Access | None, source_ip: str | None,
               touched: list[tuple[str, str, int | None]], patients: set[str], detail: str | None = None) -> dict[str, Any]:
    """The AuditEvent of one RESTful interaction."""
    entities: list[dict[str, Any]] = [
        {"what": {"reference": f"Patient/{pid}"}, "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
         "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"}}
        for pid in sorted(patients)
    ]
    seen: dict[str, int | None] = {}  # Type/id (searchable as entity=Type/id) → the version touched first
    for type_, id_, vid in touched:  # (a write names the version it made before the one it replaced)
        seen.setdefault(f"{type_}/{id_}", vid)
    shown = list(seen)[:MAX_ENTITIES]
    for ref in shown:
        entity: dict[str, Any] = {"what": {"reference": ref}, "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                                  "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"}}
        if seen[ref] is not None:
            entity["detail"] = [{"type": "versionId", "valueString": str(seen[ref])}]
        entities.append(entity)
    if query and interaction.startswith("search"):
        entities.append({"type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                         "role": {"system": OBJECT_ROLE, "code": "24", "display": "Query"},
                         "query": base64.b64encode(query.encode("utf-8")).decode("ascii")})
    description = (f"{method} {path}" + (f"?{query}" if query else ""))[:1000]
    if len(seen) > len(shown):
        description += f" ({len(seen) - len(shown)} more resources not listed)"
    action = ACTIONS.get(interaction, "E")
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": {"system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": RESTFUL, "code": interaction}],
        "action": action,
        "recorded": _now(),
        "outcome": outcome_code(status),
        "outcomeDesc": f"HTTP {status}" + (f": {detail}" if detail else ""),
        "agent": _agents(access, source_ip, action=action),
        "source": _source(),
    }
    if entities:
        event["entity"] = entities
    event["outcomeDesc"] += f"; {description}"
    return event


def auth_event(*, action: str, success: bool, source_ip: str | None, client_id: str | None, user: str | None, detail: str) -> dict[str, Any]:
    """The AuditEvent of a login, logout, token issued or refused, or a revocation."""
    system, code, display = AUTH_SUBTYPES[action]
    return {
        "resourceType": "AuditEvent",
        "type": {"system": DCM, "code": "110114", "display": "User Authentication"},
        "subtype": [{"system": system, "code": code, "display": display}],
        "action": "E",
        "recorded": _now(),
        "outcome": "0" if success else "4",
        "outcomeDesc": detail[:1000],
        "agent": _agents(None, source_ip, action="E", client_id=client_id, user=user),
        "source": _source(),
    }


def patients_of(registry: SearchRegistry, type_: str, body: dict[str, Any]) -> set[str]:
    """The patients a resource belongs to (R4 Patient compartment): a Patient is its own."""
    if type_ == "Patient":
        return {body["id"]} if isinstance(body.get("id"), str) else set()
    found: set[str] = set()
    for name in compartment().get(type_, ()):
        param = registry.get(type_, name)
        if param is None:
            continue
        for node in evaluate(param.paths, body):
            target = reference_target(node)
            if target is not None and target[0] == "Patient":
                found.add(target[1])
    return found


def migration_event(*, operator: str, target: str, counts: dict[str, int]) -> dict[str, Any]:
    """The AuditEvent of one ``lienthong migrate`` run (DICOM 110100 Application Activity)."""
    return {
        "resourceType": "AuditEvent",
        "type": {"system": DCM, "code": "110100", "display": "Application Activity"},
        "subtype": [{"system": OWN_SUBTYPE, "code": "migrate", "display": "Stored data migrated"}],
        "action": "U",
        "recorded": _now(),
        "outcome": "0",
        "outcomeDesc": f"lienthong migrate on {target}: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
        "agent": [{"type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]},
                   "who": {"identifier": {"system": USER_SYSTEM, "value": operator}, "display": f"operator {operator} (command line)"},
                   "requestor": True}],
        "source": _source(),
    }


def import_event(*, operator: str, target: str, paths: list[str], episodes: dict[str, int], ok: bool) -> dict[str, Any]:
    """The AuditEvent of one ``lienthong import`` run straight into a store (DICOM 110107 Import)."""
    counts = ", ".join(f"{k} {v}" for k, v in episodes.items())
    return {
        "resourceType": "AuditEvent",
        "type": {"system": DCM, "code": "110107", "display": "Import"},
        "action": "C",
        "recorded": _now(),
        "outcome": "0" if ok else "4",
        "outcomeDesc": f"lienthong import into {target}: {counts}"[:1000],
        "agent": [{"type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]},
                   "who": {"identifier": {"system": USER_SYSTEM, "value": operator}, "display": f"operator {operator} (command line)"},
                   "requestor": True}],
        "source": _source(),
        "entity": [{"type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"}, "name": p[:1000]} for p in paths[:MAX_ENTITIES]],
    }
