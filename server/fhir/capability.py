"""The CapabilityStatement: generated from the registries, so it lists exactly what exists."""

from __future__ import annotations

from typing import Any

from ..auth.access import AUDIT_TYPE
from ..auth.oauth import security_element
from .repository import Repository

INTERACTIONS = ["read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"]
#: stored types only the server writes (the audit trail): nobody may create, update, patch or delete them
SERVER_WRITTEN = frozenset({AUDIT_TYPE})
READ_INTERACTIONS = ["read", "vread", "history-instance", "history-type", "search-type"]
#: operations per resource type, as the CapabilityStatement names them
OPERATIONS: dict[str, list[dict[str, str]]] = {
    "Patient": [{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}],
    "Encounter": [
        {"name": "transfer54", "definition": "https://lienthong.dev/fhir/OperationDefinition/Encounter-transfer54"},
        {"name": "bhyt-xml", "definition": "https://lienthong.dev/fhir/OperationDefinition/Encounter-bhyt-xml"},
    ],
}
#: operations on the base URL
SYSTEM_OPERATIONS = [
    {"name": "import-transfer54", "definition": "https://lienthong.dev/fhir/OperationDefinition/import-transfer54"},
    {"name": "import-bhyt", "definition": "https://lienthong.dev/fhir/OperationDefinition/import-bhyt"},
    {"name": "meta", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-meta"},
]


#: $validate, on every stored type (type and instance level)
VALIDATE_OPERATION = {"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}
#: $meta (system, type, instance), $meta-add and $meta-delete (instance), on every stored type
META_OPERATIONS = [
    {"name": name, "definition": f"http://hl7.org/fhir/OperationDefinition/Resource-{name}"} for name in ("meta", "meta-add", "meta-delete")
]
#: operations of the read-only conformance types
CONFORMANCE_OPERATIONS: dict[str, list[dict[str, str]]] = {
    "CodeSystem": [{"name": "lookup", "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"}],
    "ValueSet": [{"name": "validate-code", "definition": "http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code"}],
}


def conformance_resources() -> list[dict[str, Any]]:
    """The project's profiles and terminology: read and search only (served from profiles/)."""
    from .profiling import catalog

    types = {"_id": "token", "url": "uri", "name": "string", "status": "token", "version": "token"}
    out = []
    for rtype in sorted(catalog.TYPES):
        entry: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": p, "type": types[p]} for p in catalog.PARAMS],
        }
        if rtype in CONFORMANCE_OPERATIONS:
            entry["operation"] = CONFORMANCE_OPERATIONS[rtype]
        out.append(entry)
    return out


def capability_statement(repo: Repository, base_url: str, software_version: str, store_kind: str) -> dict[str, Any]:
    resources = []
    for rtype in sorted(repo.types):
        params = [
            {"name": p.code, "type": p.type, "definition": p.definition}
            for p in sorted(repo.search_params.params(rtype), key=lambda p: p.code)
            if p.supported
        ]
        refs = [p.code for p in repo.search_params.params(rtype) if p.type == "reference" and p.supported]
        revs = sorted(f"{src}:{p.code}" for src in repo.types for p in repo.search_params.params(src) if p.type == "reference" and p.supported and rtype in p.targets)
        writable = rtype not in SERVER_WRITTEN
        entry: dict[str, Any] = {
                "type": rtype,
                "interaction": [{"code": c} for c in (INTERACTIONS if writable else READ_INTERACTIONS)],
                "versioning": "versioned-update",
                "readHistory": True,
                "updateCreate": writable,
                "conditionalCreate": writable,
                "conditionalRead": "not-supported",
                "conditionalUpdate": writable,
                "conditionalDelete": "single" if writable else "not-supported",
                "referencePolicy": ["literal"],
                "searchInclude": ["*", *(f"{rtype}:{r}" for r in sorted(refs))],
                "searchRevInclude": ["*", *revs],
                "searchParam": params,
        }
        entry["operation"] = [*OPERATIONS.get(rtype, []), VALIDATE_OPERATION, *META_OPERATIONS]
        resources.append(entry)
    resources += conformance_resources()
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "publisher": "Liên Thông",
        "kind": "instance",
        "software": {"name": "Liên Thông", "version": software_version},
        "implementation": {"description": f"Liên Thông FHIR server ({store_kind} store)", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json", "application/fhir+xml", "xml"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json", "application/fhir+xml"],
        "rest": [
            {
                "mode": "server",
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}, {"code": "search-system"}],
                "operation": SYSTEM_OPERATIONS,
                "security": security_element(base_url.removesuffix("/fhir"), cors=bool(repo.settings.cors_origins)),
            }
        ],
    }
