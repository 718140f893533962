"""One patient's record, read once per page and looked at from every section.

Built from ``$everything``'s resources: the Patient, its compartment, and the resources they refer
to. Sections ask it for resources by type, by reference, by episode, newest first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..fhir.resource import reference_target
from . import present


def episode_of(resource: dict[str, Any]) -> str | None:
    """The id of the Encounter ``resource`` was recorded in, if any. Resources point at it in
    different places: ``encounter`` (most), ``context`` as a Reference (older types),
    ``context.encounter`` (DocumentReference)."""
    ref: Any = resource.get("encounter") or resource.get("context")
    if isinstance(ref, dict) and "encounter" in ref:
        ref = ref["encounter"]
    if isinstance(ref, list):
        ref = ref[0] if ref else None
    target = reference_target(ref) if isinstance(ref, dict) else None
    return target[1] if target and target[0] == "Encounter" else None


@dataclass
class Record:
    patient: dict[str, Any]
    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    by_ref: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    #: the record was larger than a page reads (:data:`~server.workspace.reading.MAX_RECORD`)
    cut: bool = False

    @classmethod
    def of(cls, patient_id: str, resources: Iterable[dict[str, Any]], cut: bool = False) -> "Record":
        items = list(resources)
        patient = next(r for r in items if r.get("resourceType") == "Patient" and r.get("id") == patient_id)
        record = cls(patient, cut=cut)
        for r in items:
            record.by_type[r["resourceType"]].append(r)
            record.by_ref[(r["resourceType"], r["id"])] = r
        return record

    def all(self, type_: str) -> list[dict[str, Any]]:
        """Every resource of ``type_``, newest first (by its clinical time)."""
        return sorted(self.by_type.get(type_, []), key=present.when, reverse=True)

    def get(self, ref: dict[str, Any] | None) -> dict[str, Any] | None:
        """The resource a Reference points at, when it is in the record."""
        target = reference_target(ref) if ref else None
        return self.by_ref.get(target) if target else None

    def of_encounter(self, type_: str, encounter_id: str) -> list[dict[str, Any]]:
        """Resources of ``type_`` recorded in an episode, newest first."""
        return sorted((r for r in self.by_type.get(type_, []) if episode_of(r) == encounter_id), key=present.when, reverse=True)

    def facility(self, encounter: dict[str, Any]) -> str:
        """The facility of an episode (see :func:`.present.facility`)."""
        ref = encounter.get("serviceProvider")
        return present.facility(ref, self.get(ref))

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.by_type.values())
