"""Load ``examples/`` into a store at start-up (``make run``): Bundles and single resources.

Examples go into an empty store only (:func:`load_examples_into_empty`): a store that holds
resources already (anything but audit events, deleted ones included) is left as it is, so an
example the user deleted does not come back under a new id on the next start. Loading itself
is idempotent (conditional creates, PUTs with ids). Every file is logged: loaded, or why not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from . import jsonio
from .fhir.bundles import BundleProcessor
from .fhir.intake import check_resource
from .fhir.repository import Repository
from .storage.base import HistoryQuery

log = logging.getLogger("lienthong")


@dataclass
class ExampleReport:
    """Which files of an examples folder were loaded, and which were not with the reason."""

    loaded: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


async def store_is_empty(repo: Repository) -> bool:
    """Whether the store has never held a resource (audit events aside): deleted resources count."""
    types = tuple(t for t in repo.types if t != "AuditEvent")
    return not (await repo.store.history(HistoryQuery(limit=1, types=types))).versions


async def load_examples_into_empty(repo: Repository, folder: Path) -> ExampleReport | None:
    """Load ``folder`` if the store is empty (the first start); else log why not and return ``None``."""
    if not await store_is_empty(repo):
        log.info("examples in %s not loaded: the store already holds resources (examples are loaded once, into an empty store)", folder)
        return None
    return await load_examples(repo, folder)


async def load_examples(repo: Repository, folder: Path) -> ExampleReport:
    """Load every ``*.json`` under ``folder`` and every insurance-table envelope (``*.xml``)."""
    report = ExampleReport()
    for path in sorted(folder.rglob("*.xml")):
        reason = await _import_envelope(repo, path)
        _note(report, path, reason, "insurance-table envelope")
    for path in sorted(folder.rglob("*.json")):
        if path.name.endswith(".bundle.json"):
            record = path.with_name(path.name.removesuffix(".bundle.json") + ".json")
            _note(report, path, f"the FHIR form of {record.name} (kept for reading), which is imported itself" if record.exists()
                  else "a *.bundle.json is what a transfer record maps to, kept for reading", "")
            continue
        data = jsonio.loads(path.read_bytes())
        if isinstance(data, dict) and "MA_LK" in data and "resourceType" not in data:
            await _import_transfer_record(repo, data)
            _note(report, path, None, "transfer record")
        elif isinstance(data, dict) and data.get("resourceType") == "Bundle" and data.get("type") in ("transaction", "batch"):
            processor = BundleProcessor(repo)
            btype, entries = processor.parse(data)
            await (processor.transaction(entries) if btype == "transaction" else processor.batch(entries))
            _note(report, path, None, f"{btype} Bundle")
        elif isinstance(data, dict) and "id" in data and data.get("resourceType") in repo.types:
            resource = check_resource(data, type_=data["resourceType"], id_=data["id"], require_id=True)
            await repo.atomic(lambda tx, r=resource: repo.update(tx, r["resourceType"], r["id"], r))
            _note(report, path, None, resource["resourceType"])
        else:
            _note(report, path, "not a transaction/batch Bundle, a transfer record nor a resource with an id", "")
    log.info("loaded %d of %d example file(s) from %s%s", len(report.loaded), len(report.loaded) + len(report.skipped), folder,
             f" ({len(report.skipped)} not loaded, see above)" if report.skipped else "")
    return report


def _note(report: ExampleReport, path: Path, reason: str | None, kind: str) -> None:
    if reason is None:
        report.loaded.append(path)
        log.info("loaded example %s (%s)", path, kind)
    else:
        report.skipped.append((path, reason))
        log.info("not loaded: example %s: %s", path, reason)


async def _import_transfer_record(repo: Repository, record: dict[str, str]) -> None:
    """Import a 54-field record unless its episode (Encounter with its MA_LK) is there already."""
    from profiles import SID

    from .fhir.operations.transfer54 import import_transfer54

    criteria = [("identifier", f"{SID['ma-lk']}/{record.get('MA_CSKCB', '')}|{record['MA_LK']}")]
    found = await repo.search("Encounter", repo.parse_search("Encounter", criteria, strict=True), {})
    if not found.matches:
        await import_transfer54(repo, record)


async def _import_envelope(repo: Repository, path: Path) -> str | None:
    """Import every episode of an insurance-table envelope (idempotent: the bundles are conditional);
    ``None`` when imported, else why not."""
    from mappings.bhyt_xml import read_envelope

    from .imports.episodes import EpisodeFailed, insurance_bundle
    from .imports.recognition import ENVELOPE, recognise

    if recognise(path) != ENVELOPE:
        return "not an insurance-table envelope"
    processor = BundleProcessor(repo)
    for episode in read_envelope(path):
        try:
            bundle = insurance_bundle(episode)
        except EpisodeFailed as exc:
            log.warning("skipped an episode of %s: %s", path, exc)
            continue
        _, entries = processor.parse(bundle)
        await processor.transaction(entries)
    return None
