"""Load ``examples/`` into a store at start-up (``make run``): Bundles and single resources.

Loading is idempotent: transaction Bundles use conditional creates or PUTs with ids, and
single resources with an id are PUT, so starting the server twice changes nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from . import jsonio
from .fhir.bundles import BundleProcessor
from .fhir.intake import check_resource
from .fhir.repository import Repository

log = logging.getLogger("lienthong")


async def load_examples(repo: Repository, folder: Path) -> int:
    """Load every ``*.json`` under ``folder`` and every insurance-table envelope (``*.xml``);
    returns how many files were loaded."""
    loaded = 0
    for path in sorted(folder.rglob("*.xml")):
        if await _import_envelope(repo, path):
            loaded += 1
    for path in sorted(folder.rglob("*.json")):
        if path.name.endswith(".bundle.json"):
            continue  # what a transfer record maps to, kept for reading; the record itself is imported
        data = jsonio.loads(path.read_bytes())
        if isinstance(data, dict) and "MA_LK" in data and "resourceType" not in data:
            await _import_transfer_record(repo, data)
        elif isinstance(data, dict) and data.get("resourceType") == "Bundle" and data.get("type") in ("transaction", "batch"):
            processor = BundleProcessor(repo)
            btype, entries = processor.parse(data)
            await (processor.transaction(entries) if btype == "transaction" else processor.batch(entries))
        elif isinstance(data, dict) and "id" in data and data.get("resourceType") in repo.types:
            resource = check_resource(data, type_=data["resourceType"], id_=data["id"], require_id=True)
            await repo.atomic(lambda tx, r=resource: repo.update(tx, r["resourceType"], r["id"], r))
        else:
            log.warning("skipped %s: not a transaction/batch Bundle nor a resource with an id", path)
            continue
        loaded += 1
    log.info("loaded %d example file(s) from %s", loaded, folder)
    return loaded


async def _import_transfer_record(repo: Repository, record: dict[str, str]) -> None:
    """Import a 54-field record unless its episode (Encounter with its MA_LK) is there already."""
    from profiles import SID

    from .fhir.operations.transfer54 import import_transfer54

    criteria = [("identifier", f"{SID['ma-lk']}/{record.get('MA_CSKCB', '')}|{record['MA_LK']}")]
    found = await repo.search("Encounter", repo.parse_search("Encounter", criteria, strict=True), {})
    if not found.matches:
        await import_transfer54(repo, record)


async def _import_envelope(repo: Repository, path: Path) -> bool:
    """Import every episode of an insurance-table envelope (idempotent: the bundles are conditional)."""
    from mappings.bhyt_xml import read_envelope

    from .imports.episodes import EpisodeFailed, insurance_bundle
    from .imports.recognition import ENVELOPE, recognise

    if recognise(path) != ENVELOPE:
        log.warning("skipped %s: not an insurance-table envelope", path)
        return False
    processor = BundleProcessor(repo)
    for episode in read_envelope(path):
        try:
            bundle = insurance_bundle(episode)
        except EpisodeFailed as exc:
            log.warning("skipped an episode of %s: %s", path, exc)
            continue
        _, entries = processor.parse(bundle)
        await processor.transaction(entries)
    return True
