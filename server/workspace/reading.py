"""Reading FHIR resources for the pages: the same searches and walks the REST API runs.

Every call goes through the request's repository (the guarded store of the signed-in token),
so a page never shows what the token could not fetch through ``/fhir``.
"""

from __future__ import annotations

from typing import Any

from ..fhir.operations.everything import everything
from ..fhir.repository import Repository
from ..fhir.resource import body_of

#: most resources of one patient's record a page reads (five pages of the largest _count)
MAX_RECORD = 5000
#: compartment types no page shows: the audit trail is in the Patient compartment, and every view
#: adds to it, so reading it would make each view of a record slower than the last
NOT_SHOWN = frozenset({"AuditEvent"})


async def search(repo: Repository, type_: str, params: list[tuple[str, str]]) -> tuple[list[dict[str, Any]], int | None]:
    """One page of a FHIR search: the matching resources and the total when counted."""
    parsed = repo.parse_search(type_, params, strict=True)
    result = await repo.search(type_, parsed, {})
    return [body_of(v) for v in result.matches], result.total


async def record(repo: Repository, patient_id: str) -> tuple[list[dict[str, Any]], bool]:
    """The patient's whole record as ``Patient/{id}/$everything`` gives it: the Patient, its
    compartment (but :data:`NOT_SHOWN`), and what those refer to (facilities, practitioners).
    404 when not visible. The second value says whether the record was cut at :data:`MAX_RECORD`."""
    out: list[dict[str, Any]] = []
    state: dict[str, Any] = {}
    params = [("_count", str(min(repo.settings.max_count, MAX_RECORD))), ("_type", ",".join(sorted(repo.types - NOT_SHOWN)))]
    while len(out) < MAX_RECORD:
        page = await everything(repo, patient_id, params, state)
        out.extend(body_of(v) for v in [*page.matches, *page.included])
        if page.next_state is None:
            return out, False
        state = page.next_state
    return out, True
