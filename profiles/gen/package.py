"""The FHIR NPM package manifest (package.json) and its file index (.index.json), so other FHIR
tools can load the profiles folder as the package ``lienthong.fhir.vn.core``."""
from __future__ import annotations

from .common import BASE, FHIR_VERSION, PUBLISHER, VERSION

PACKAGE_NAME = "lienthong.fhir.vn.core"
INDEX_KEYS = ("resourceType", "id", "url", "version", "kind", "type")


def manifest() -> dict:
    return {
        "name": PACKAGE_NAME, "version": VERSION, "fhirVersions": [FHIR_VERSION], "type": "fhir.ig",
        "canonical": BASE, "url": BASE, "title": "Liên Thông Vietnamese core",
        "description": "Vietnamese core profiles (Patient, Encounter, Observation, DocumentReference), extensions, "
                       "identifier systems, code systems and value sets of the Liên Thông FHIR R4 server.",
        "author": PUBLISHER, "license": "CC0-1.0", "jurisdiction": "urn:iso:std:iso:3166#VN",
        "dependencies": {"hl7.fhir.r4.core": FHIR_VERSION},
    }


def index(files: dict[str, dict]) -> dict:
    """index-version 1: one entry per resource file, with the keys the resource has."""
    entries = []
    for name, res in sorted(files.items()):
        entry = {"filename": name}
        entry.update({k: res[k] for k in INDEX_KEYS if k in res})
        entries.append(entry)
    return {"index-version": 1, "files": entries}
