"""Which episode (Encounter) a resource belongs to, and how a page names and links it.

Resources point at their episode in different places: ``encounter`` (most), ``context`` as a
Reference (older types), ``context.encounter`` (DocumentReference).
"""

from __future__ import annotations

from typing import Any

from ..fhir.resource import reference_target
from . import present
from .context import Ctx
from .layout import h
from .record import Record


def encounter_id(resource: dict[str, Any]) -> str | None:
    """The id of the Encounter ``resource`` was recorded in, if any."""
    ref: Any = resource.get("encounter") or resource.get("context")
    if isinstance(ref, dict) and "encounter" in ref:
        ref = ref["encounter"]
    if isinstance(ref, list):
        ref = ref[0] if ref else None
    target = reference_target(ref) if isinstance(ref, dict) else None
    return target[1] if target and target[0] == "Encounter" else None


def in_episode(resources: list[dict[str, Any]], eid: str) -> list[dict[str, Any]]:
    return [r for r in resources if encounter_id(r) == eid]


def label(record: Record, encounter: dict[str, Any]) -> str:
    """An episode as a doctor names it: its start date and facility."""
    start = present.day((encounter.get("period") or {}).get("start"))
    return " · ".join(x for x in (start, record.facility(encounter)) if x) or str(encounter.get("id", ""))


def url(patient_id: str, eid: str) -> str:
    return f"/app/patient/{patient_id}/episode/{eid}"


def link(ctx: Ctx, record: Record, resource: dict[str, Any]) -> str:
    """A link to the episode of ``resource`` (escaped HTML), empty when it has none in the record."""
    eid = encounter_id(resource)
    encounter = record.by_ref.get(("Encounter", eid)) if eid else None
    if encounter is None:
        return ""
    return f'<a href="{h(url(record.patient["id"], eid))}">{h(label(record, encounter))}</a>'
