"""``$import-transfer54`` and ``Encounter/{id}/$transfer54``: the national transfer dataset
in and out of the store.

Import: the record (JSON form, or the XML form) is validated first, and every problem comes
back at once as a 422 OperationOutcome naming the field; a valid record becomes the
transaction :func:`mappings.transfer54.fhir.to_fhir` writes, stored atomically, and the
transaction-response Bundle is returned. Export rebuilds the record from the stored episode.
"""

from __future__ import annotations

from typing import Any

from mappings.transfer54 import validate
from mappings.transfer54.fhir import to_fhir
from mappings.transfer54.store import NotATransferEpisode, from_store
from mappings.transfer54.xml_form import XmlFormError, parse_xml

from ... import jsonio
from ..bundles import BundleProcessor
from ..outcome import FhirError, Issue
from ..repository import Repository

ROOT = "CHI_TIEU_GIAYCHUYENTUYEN"


def read_record(body: bytes, *, xml: bool) -> Any:
    """The record in a request body; unreadable input is a 400 that says why."""
    try:
        return parse_xml(body) if xml else jsonio.loads(body)
    except XmlFormError as exc:
        raise FhirError.of(400, "structure", f"The XML form cannot be read: {exc}") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FhirError.of(400, "structure", f"The body is not a JSON record: {exc}") from None


def problems_as_issues(record: Any) -> list[Issue]:
    code = {"unknown-field": "structure", "missing-required": "required", "not-an-object": "structure"}
    return [
        Issue(code.get(p.code, "value" if p.code != "bad-code" else "code-invalid"), p.reason, (f"{ROOT}.{p.field}",) if p.field else (ROOT,))
        for p in validate(record)
    ]


async def import_transfer54(repo: Repository, record: Any, *, prefer_return: str = "minimal", base: str | None = None) -> list[dict[str, Any]]:
    """Validate, map and store one record; the transaction-response entries."""
    issues = problems_as_issues(record)
    if issues:
        raise FhirError(422, issues)
    repo.access.require_facilities([record.get("MA_CSKCB")], "The transfer record")
    processor = BundleProcessor(repo, prefer_return=prefer_return, base=base)
    _, entries = processor.parse(to_fhir(record))
    return await processor.transaction(entries)


async def export_transfer54(repo: Repository, encounter_id: str) -> dict[str, str]:
    repo.access.require("Encounter", "read")
    try:
        return await from_store(repo, encounter_id)
    except NotATransferEpisode as exc:  # as $bhyt-xml answers for an Encounter not made from insurance tables
        raise FhirError.of(422, "not-supported", str(exc)) from None
    except (ValueError, KeyError) as exc:
        raise FhirError.of(422, "processing", f"Encounter/{encounter_id} cannot be written as a transfer record: {exc}") from None
