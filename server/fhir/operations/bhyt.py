"""``$import-bhyt`` and ``Encounter/{id}/$bhyt-xml``: insurance envelopes in and out of the store.

Import reads the whole envelope first (the body is capped by ``max_request_bytes``), so an unsafe
or unreadable envelope is a 400 that stores nothing. Then every HOSO is checked, mapped and stored
as its own transaction (the same steps as ``lienthong import``, :mod:`server.imports.episodes`),
and the answer is a ``batch-response`` Bundle with one entry per HOSO, in envelope order:
``201 Created`` when something was written, ``200 OK`` when the episode was already there exactly
so, each with the ``location`` of its Encounter; or the failure's status with an OperationOutcome
naming the HOSO and every reason (422 for a HOSO that cannot be read or whose values are invalid).

Export rebuilds the episode from the stored resources (``mappings.bhyt_xml.store.from_store``) and
writes a one-HOSO envelope. An Encounter that exists but was not made from insurance tables is a
**422** (``not-supported``): the resource is there, so 404 would tell the client the id is wrong;
the operation just cannot be applied to it. A missing Encounter is 404, a deleted one 410.

The body is capped by ``max_request_bytes`` (413 beyond): archives larger than that go through
``lienthong import --server URL``, which streams the file and posts one transaction per episode.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from mappings.bhyt_xml.envelope import BrokenEpisode, EnvelopeError, Episode, Header, UnsafeXMLError, read_envelope
from mappings.bhyt_xml.layouts import STANDARDS
from mappings.bhyt_xml.writer import write_envelope

from ..bundles import REASONS
from ..outcome import FhirError, Issue, operation_outcome
from ..repository import Repository

VIETNAM = timezone(timedelta(hours=7))
_STAGE_CODES = {"read": "structure", "check": "value", "map": "processing"}
_STORE_CODES = {400: "invalid", 404: "not-found", 409: "conflict", 412: "conflict", 422: "processing", 500: "exception"}


def _status(code: int) -> str:
    return f"{code} {REASONS.get(code, '')}".strip()


def _hoso_path(position: int) -> str:
    return f"GIAMDINHHS.THONGTINHOSO.DANHSACHHOSO.HOSO[{position - 1}]"


def read_episodes(body: bytes) -> list[Episode | BrokenEpisode]:
    """Every HOSO of the envelope in ``body``; an envelope that cannot be read is a 400."""
    try:
        return read_envelope(io.BytesIO(body)).read_all()
    except UnsafeXMLError as exc:
        raise FhirError.of(400, "security", f"The envelope is refused: {exc}") from None
    except EnvelopeError as exc:
        raise FhirError.of(400, "structure", f"The body is not a readable GIAMDINHHS envelope: {exc}") from None


def _failed_entry(result: Episode | BrokenEpisode, stage: str, reasons: list[str], status: int | None) -> dict[str, Any]:
    code = 422 if stage != "store" or not status else status
    issue_code = _STAGE_CODES.get(stage) or _STORE_CODES.get(code, "processing")
    who = f"HOSO {result.position} (MA_LK {result.ma_lk or '?'})"
    issues = [Issue(issue_code, f"{who}: {r}", (_hoso_path(result.position),)) for r in reasons]
    return {"response": {"status": _status(code), "outcome": operation_outcome(issues)}}


async def import_bhyt(repo: Repository, body: bytes, *, strict: bool = False) -> list[dict[str, Any]]:
    """Store each HOSO of the envelope atomically; the batch-response entries, in envelope order
    (``strict``: the departures the import policy accepts with a warning are refused too).
    Several episodes are in flight at once so the store can share commits between them; each
    enters the store after the one before it (``server.imports.pipeline``)."""
    from server.imports.pipeline import store_all
    from server.imports.targets import StoreTarget

    target = StoreTarget(repo=repo)
    entries: list[dict[str, Any]] = []
    episodes = read_episodes(body)
    # A client limited to some facilities sends nothing for another one: refused whole, before any write.
    repo.access.require_facilities([_facility(e) for e in episodes if isinstance(e, Episode)], "The envelope")
    async for outcome in store_all(target, ((e, e) for e in episodes), strict=strict):
        result = outcome.key
        if outcome.failure is not None:
            exc = outcome.failure
            entries.append(_failed_entry(result, exc.stage, exc.reasons, exc.status))
            continue
        stored = outcome.stored
        assert stored is not None
        response: dict[str, Any] = {"status": _status(200 if stored.change == "unchanged" else 201)}
        if stored.encounter:
            response["location"] = stored.encounter
        warnings = outcome.prepared.warnings
        if warnings:  # stored, with the departures the import policy accepts
            who = f"HOSO {result.position} (MA_LK {result.ma_lk or '?'})"
            response["outcome"] = operation_outcome([Issue("value", f"{who}: {w}", (_hoso_path(result.position),), "warning") for w in warnings])
        entries.append({"response": response})
    return entries


def _facility(episode: Episode) -> str | None:
    return next((r.get("MA_CSKCB") for r in episode.tables.get("XML1", [])[:1]), None)


def envelope_header(episodes: Iterable[Episode], *, today: datetime | None = None) -> Header:
    """A header for envelopes written from FHIR: the facility of the first episode (XML1 MA_CSKCB),
    today's date (Vietnam time), and the count."""
    episodes = list(episodes)
    facility = next((r.get("MA_CSKCB") for ep in episodes for r in ep.tables.get("XML1", [])[:1] if r.get("MA_CSKCB")), None)
    day = (today or datetime.now(VIETNAM)).astimezone(VIETNAM).strftime("%Y%m%d")
    return Header(macskcb=facility, ngaylap=day, soluonghoso=str(len(episodes)))


def check_standard(standard: str | None) -> str | None:
    if standard is not None and standard not in STANDARDS:
        raise FhirError.of(400, "value", f"standard must be one of {', '.join(STANDARDS)}, got {standard!r}", "standard")
    return standard


async def export_bhyt(repo: Repository, encounter_id: str, standard: str | None) -> bytes:
    """The one-HOSO envelope of a stored insurance episode."""
    from mappings.bhyt_xml.store import NotAnInsuranceEpisode, from_store

    check_standard(standard)
    await repo.read("Encounter", encounter_id)  # 404 / 410 before anything else
    try:
        episode = await from_store(repo, encounter_id, standard)
    except NotAnInsuranceEpisode as exc:
        raise FhirError.of(422, "not-supported", f"Encounter/{encounter_id} was not made from insurance tables: {exc}") from None
    except (ValueError, KeyError) as exc:
        raise FhirError.of(422, "processing", f"Encounter/{encounter_id} cannot be written as insurance tables: {exc}") from None
    try:
        return write_envelope(envelope_header([episode]), [episode], standard)
    except (ValueError, TypeError) as exc:
        raise FhirError.of(422, "processing", f"Encounter/{encounter_id} cannot be written in standard {standard or episode.standard}: {exc}") from None
