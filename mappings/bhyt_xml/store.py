"""``from_store``: the insurance-table episode of a stored Encounter, rebuilt from the resources the
import made.

Every resource an import makes for one episode (the Encounter, cards, diagnoses, one resource per
table row, the documents) carries the identifier ``bhyt-episode|<facility>/<MA_LK>``, so one token
search per type finds them all; the Patient and the facilities and health workers they point at are
fetched by reference.  They are put in a Bundle shaped like :func:`.fhir.to_fhir`'s output (full
URLs ``Type/id``), which :func:`.fhir.from_fhir` reads.
"""
from __future__ import annotations

from typing import Any

from profiles import EXT, SID
from server.fhir.repository import Repository
from server.fhir.resource import body_of, references
from server.storage.base import Query
from server.storage.index import IdIn, TokenMatch

from .envelope import Episode
from .fhir import from_fhir

#: the types an import makes for one episode
PART_TYPES = ("Encounter", "Coverage", "Condition", "Observation", "MedicationRequest", "Procedure",
              "ClinicalImpression", "DocumentReference", "Appointment")
_MAX_PARTS = 100_000


class NotAnInsuranceEpisode(ValueError):
    """The Encounter was not made by an insurance-table import."""


async def episode_bundle(repo: Repository, encounter_id: str) -> dict[str, Any]:
    """The stored resources of one insurance-table episode as a Bundle ``from_fhir`` can read."""
    encounter = body_of(await repo.read("Encounter", encounter_id))
    if not any(e.get("url") == EXT["bhyt-standard"] for e in encounter.get("extension", [])):
        raise NotAnInsuranceEpisode(f"Encounter/{encounter_id} was not made from insurance tables")
    episode = next((i.get("value") for i in encounter.get("identifier", []) if i.get("system") == SID["bhyt-episode"]), None)
    if episode is None:
        raise NotAnInsuranceEpisode(f"Encounter/{encounter_id} has no {SID['bhyt-episode']} identifier")
    resources: dict[tuple[str, str], dict[str, Any]] = {("Encounter", encounter_id): encounter}
    for rtype in PART_TYPES:
        if rtype not in repo.types:
            continue
        page = await repo.store.search(Query(rtype, TokenMatch("identifier", SID["bhyt-episode"], episode), limit=_MAX_PARTS))
        for v in page.versions:
            if (v.type, v.id) == ("Encounter", encounter_id) or v.type != "Encounter":
                resources[(v.type, v.id)] = body_of(v)
    wanted = {t for res in resources.values() for t in references(res)}
    by_type: dict[str, list[str]] = {}
    for rtype, rid in sorted(wanted - set(resources)):
        if rtype in repo.types:
            by_type.setdefault(rtype, []).append(rid)
    for rtype, ids in by_type.items():
        for v in (await repo.store.search(Query(rtype, IdIn(tuple(ids)), limit=len(ids)))).versions:
            resources[(v.type, v.id)] = body_of(v)
    entries = [{"fullUrl": f"{t}/{i}", "resource": r} for (t, i), r in resources.items()]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


async def from_store(repo: Repository, encounter_id: str, standard: str | None = None) -> Episode:
    """The episode of the stored Encounter ``encounter_id``, in its own standard or ``standard``."""
    return from_fhir(await episode_bundle(repo, encounter_id), standard)
