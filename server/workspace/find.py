"""Finding a patient from what a doctor has in hand: a citizen id, an insurance card, a facility
patient id, an episode code or a name.

What was typed decides the search (:func:`kind_of`) unless the person chose one. Identifiers are
searched as tokens without a system, so every system the value is kept under matches (VN Core's
and the per-facility ones, and their aliases); an episode code finds the Encounters that carry
it and then their patients; a name is the FHIR ``name`` search, accent-insensitive
(``nguyen van duc`` finds ``Nguyễn Văn Đức``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..fhir.repository import Repository
from ..fhir.resource import reference_target
from . import present
from .reading import search

KINDS = ("auto", "cccd", "bhyt", "pid", "malk", "name")
#: most patients listed for one search
LIMIT = 20

_CCCD = re.compile(r"^\d{12}$")
_BHYT = re.compile(r"^[A-Z]{2}\d{13}$")
_ID_LIKE = re.compile(r"^[A-Za-z0-9/.\-_]+$")


def kind_of(q: str) -> str:
    """What the typed text most likely is (an explicit choice overrides this)."""
    text = q.strip()
    if _CCCD.match(text):
        return "cccd"
    if _BHYT.match(text.upper()):
        return "bhyt"
    if not any(ch.isdigit() for ch in text):
        return "name"
    return "any-id" if _ID_LIKE.match(text) else "name"


@dataclass
class Found:
    """A patient in the results, with what tells namesakes apart."""

    patient: dict[str, Any]
    last_encounter: dict[str, Any] | None = None
    last_facility: str | None = None


async def find(repo: Repository, q: str, kind: str = "auto") -> tuple[list[Found], bool]:
    """The patients matching ``q`` (at most :data:`LIMIT`), and whether there were more."""
    text = q.strip()
    if not text:
        return [], False
    chosen = kind_of(text) if kind not in KINDS or kind == "auto" else kind
    patients: dict[str, dict[str, Any]] = {}
    if chosen in ("cccd", "bhyt", "pid", "any-id"):
        value = text.upper() if chosen == "bhyt" else text
        found, _ = await search(repo, "Patient", [("identifier", _escape(value)), ("_count", str(LIMIT + 1))])
        patients.update((p["id"], p) for p in found)
    if chosen in ("malk", "any-id"):
        encounters, _ = await search(repo, "Encounter", [("identifier", _escape(text)), ("_count", str(LIMIT + 1))])
        ids = [t[1] for t in (reference_target(e.get("subject")) for e in encounters) if t and t[0] == "Patient"]
        if ids:
            found, _ = await search(repo, "Patient", [("_id", ",".join(dict.fromkeys(ids))), ("_count", str(LIMIT + 1))])
            patients.update((p["id"], p) for p in found)
    if chosen == "name":
        found, _ = await search(repo, "Patient", [("name", text), ("_count", str(LIMIT + 1))])
        patients.update((p["id"], p) for p in found)
    listed = list(patients.values())
    more = len(listed) > LIMIT
    results = [Found(p) for p in listed[:LIMIT]]
    for item in results:
        item.last_encounter, item.last_facility = await _last_episode(repo, item.patient["id"])
    return results, more


async def _last_episode(repo: Repository, patient_id: str) -> tuple[dict[str, Any] | None, str | None]:
    encounters, _ = await search(repo, "Encounter", [("subject", f"Patient/{patient_id}"), ("_sort", "-date"), ("_count", "1")])
    if not encounters:
        return None, None
    return encounters[0], await facility_name(repo, encounters[0].get("serviceProvider"))


async def facility_name(repo: Repository, ref: dict[str, Any] | None) -> str | None:
    """A facility's name, or its code (MA_CSKCB) when the name is not recorded; the Organization is
    read only when the reference does not name the facility itself."""
    if not ref:
        return None
    org = None
    target = reference_target(ref)
    if not ref.get("display") and target and target[0] == "Organization":
        found, _ = await search(repo, "Organization", [("_id", target[1])])
        org = found[0] if found else None
    return present.facility(ref, org) or None


def _escape(value: str) -> str:
    """A token search value with FHIR's special characters escaped."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("|", "\\|").replace("$", "\\$")
