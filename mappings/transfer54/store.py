"""``from_store``: the record of a stored episode, rebuilt from the resources the import made.

Starting from the Encounter, the resources of the episode are found by their links: the
Patient and facilities it points at, its diagnoses' Conditions, the transfer letter
(DocumentReference with ``context.encounter``) and, through the letter, the cards
(``context.related``), the weight Observation (``encounter``), and the practitioners the
letter names. They are put in a Bundle shaped like :func:`.fhir.to_fhir`'s output (full
URLs ``Type/id``), which :func:`.fhir.from_fhir` reads.
"""

from __future__ import annotations

from typing import Any

from profiles import SID
from server.fhir.repository import Repository
from server.fhir.resource import body_of, references
from server.storage.base import Query
from server.storage.index import Cond, IdIn, ValueMatch

from .fhir import from_fhir


#: resources an import makes for one episode (the others, Patient, Organization and
#: Practitioner, are shared between episodes)
EPISODE_TYPES = frozenset({"Encounter", "DocumentReference", "Observation", "Coverage", "Condition"})


class NotATransferEpisode(ValueError):
    """The Encounter was not made by a transfer-dataset import (no transfer letter refers to it)."""


async def episode_bundle(repo: Repository, encounter_id: str) -> dict[str, Any]:
    """The stored resources of one transfer episode as a Bundle ``from_fhir`` can read."""
    encounter = body_of(await repo.read("Encounter", encounter_id))
    target = (Cond("target", "eq", f"Encounter/{encounter_id}"),)
    documents = (await repo.store.search(Query("DocumentReference", ValueMatch("encounter", "reference", target), limit=50))).versions
    # Only a transfer letter (its so-chuyen-tuyen identifier) makes a transfer episode; other
    # documents about the Encounter (notes, insurance tables) do not.
    letters = [v for v in documents if any(i.get("system") == SID["so-chuyen-tuyen"] for i in body_of(v).get("identifier", []))]
    if not letters:
        raise NotATransferEpisode(f"Encounter/{encounter_id} holds no transfer data: it was not made from a transfer record (no transfer letter, a DocumentReference with a {SID['so-chuyen-tuyen']} identifier, refers to it)")
    weights = (await repo.store.search(Query("Observation", ValueMatch("encounter", "reference", target), limit=10))).versions
    resources: dict[tuple[str, str], dict[str, Any]] = {("Encounter", encounter_id): encounter}
    for v in [*letters[:1], *weights]:
        resources[(v.type, v.id)] = body_of(v)
    # Follow references out of the episode's own resources only (twice: the letter names the
    # cards, the cards name their registered facilities); shared resources such as the
    # Patient are fetched but not followed, so their own links (Patient.link…) stay out.
    frontier = list(resources.values())
    for _ in range(2):
        wanted = {t for r in frontier for t in references(r) if t[0] in repo.types} - set(resources)
        by_type: dict[str, list[str]] = {}
        for rtype, rid in sorted(wanted):
            by_type.setdefault(rtype, []).append(rid)
        fetched = []
        for rtype, ids in by_type.items():
            fetched += (await repo.store.search(Query(rtype, IdIn(tuple(ids)), limit=len(ids)))).versions
        for v in fetched:
            resources[(v.type, v.id)] = body_of(v)
        frontier = [body_of(v) for v in fetched if v.type in EPISODE_TYPES]
    entries = [{"fullUrl": f"{t}/{i}", "resource": r} for (t, i), r in resources.items()]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


async def from_store(repo: Repository, encounter_id: str) -> dict[str, str]:
    """The 54-field record of the stored episode whose Encounter is ``encounter_id``."""
    return from_fhir(await episode_bundle(repo, encounter_id))
