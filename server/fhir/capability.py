"""The CapabilityStatement: generated from the registries, so it lists exactly what exists."""

from __future__ import annotations

from typing import Any

from .repository import Repository

INTERACTIONS = ["read", "vread", "update", "delete", "history-instance", "history-type", "create", "search-type"]
#: operations per resource type, as the CapabilityStatement names them
OPERATIONS: dict[str, list[dict[str, str]]] = {
    "Patient": [{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}],
    "Encounter": [{"name": "transfer54", "definition": "https://lienthong.dev/fhir/OperationDefinition/Encounter-transfer54"}],
}
#: operations on the base URL
SYSTEM_OPERATIONS = [{"name": "import-transfer54", "definition": "https://lienthong.dev/fhir/OperationDefinition/import-transfer54"}]


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
        entry: dict[str, Any] = {
                "type": rtype,
                "interaction": [{"code": c} for c in INTERACTIONS],
                "versioning": "versioned-update",
                "readHistory": True,
                "updateCreate": True,
                "conditionalCreate": True,
                "conditionalRead": "not-supported",
                "conditionalUpdate": True,
                "conditionalDelete": "single",
                "referencePolicy": ["literal"],
                "searchInclude": ["*", *(f"{rtype}:{r}" for r in sorted(refs))],
                "searchRevInclude": ["*", *revs],
                "searchParam": params,
        }
        if rtype in OPERATIONS:
            entry["operation"] = OPERATIONS[rtype]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "publisher": "Liên Thông",
        "kind": "instance",
        "software": {"name": "Liên Thông", "version": software_version},
        "implementation": {"description": f"Liên Thông FHIR server ({store_kind} store)", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}, {"code": "search-system"}],
                "operation": SYSTEM_OPERATIONS,
            }
        ],
    }
