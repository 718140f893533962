"""Constants and helpers shared by every builder: the canonical base, the package version (standard URLs: mappings.fhir_terms)."""
from __future__ import annotations

BASE = "https://lienthong.dev/fhir"
VERSION = "0.1.0"  # business version of every canonical resource, and of the package
DATE = "2026-01-01"
PUBLISHER = "Liên Thông project"
FHIR_VERSION = "4.0.1"
CORE = "http://hl7.org/fhir/StructureDefinition"


def pascal(text: str) -> str:
    """'t54-blood-group' -> 'T54BloodGroup' (the computable name of a resource)."""
    return "".join(p[:1].upper() + p[1:] for p in text.replace("-", " ").split())


def sid(id_: str) -> str:
    return f"{BASE}/sid/{id_}"


def cs_url(id_: str) -> str:
    return f"{BASE}/CodeSystem/{id_}"


def vs_id(code_system_id: str) -> str:
    return f"vs-{code_system_id}"


def vs_url(code_system_id: str) -> str:
    """Canonical of the ValueSet holding the whole CodeSystem ``code_system_id``."""
    return f"{BASE}/ValueSet/{vs_id(code_system_id)}"


def sd_url(id_: str) -> str:
    return f"{BASE}/StructureDefinition/{id_}"
