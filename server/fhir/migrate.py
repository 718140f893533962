"""``lienthong migrate``: bring stored data up to the current rules, idempotently.

Two steps, over every current resource of every type:

1. identifier systems this project used to write where a national guide has its own (the old
   ``https://lienthong.dev/fhir/sid/cccd`` for VN Core's ``…/sid/national_id``, see
   :mod:`server.fhir.identifiers`) are rewritten to the preferred system, and claims of this
   project's renamed profiles (``vn-core-patient`` → ``lienthong-patient``) to the new URLs, and
   a Patient's ethnic group, nationality, occupation and address codes from this project's old
   ``t54-*`` extensions to VN Core's, and codings of this project's old medicine and service code
   systems to VN Core's lists (:mod:`mappings.national`): a new version, as any update
   (history keeps the old one);
2. the search index of every other resource is rebuilt in place (no new version), so values
   written before an alias existed are found under every system of their identifier.

Running it again changes no resource (step 1 finds nothing) and rebuilds the same index rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from mappings import national
from profiles import PROFILE

from ..storage.base import Query
from .identifiers import alias_table
from .integrity import Pending
from .outcome import FhirError
from .repository import Repository
from .resource import body_of

PAGE = 500


@dataclass
class MigrationReport:
    """What one run did, per resource type."""

    scanned: Counter[str] = field(default_factory=Counter)
    rewritten: Counter[str] = field(default_factory=Counter)  #: new versions (old identifier systems)
    reindexed: Counter[str] = field(default_factory=Counter)  #: index rebuilt in place
    skipped: Counter[str] = field(default_factory=Counter)  #: changed by someone else meanwhile (run again)

    def to_json(self) -> dict[str, Any]:
        return {name: dict(getattr(self, name)) for name in ("scanned", "rewritten", "reindexed", "skipped")}


_OURS, _WAS = "/StructureDefinition/lienthong-", "/StructureDefinition/vn-core-"
#: this project's profiles (``lienthong-*``) under the names they had before VN Core's, which use
#: the same ids, came to be served beside them (``vn-core-*``): old URL → current URL
RENAMED_PROFILES = {url.replace(_OURS, _WAS): url for url in PROFILE.values() if _OURS in url}
#: where this project's own canonical URLs live (its profiles' base)
OWN_BASE = next(iter(PROFILE.values())).split("/StructureDefinition/")[0] + "/"


def own_systems() -> dict[str, str]:
    """This project's own system URIs that a preferred (national) system replaces."""
    return {uri: preferred for uri, preferred in alias_table().items() if uri != preferred and uri.startswith(OWN_BASE)}


def rewritten(node: Any, systems: dict[str, str]) -> Any:
    """``node`` with every identifier ``system`` in ``systems`` replaced, and claims of renamed
    profiles (``meta.profile``) under their new URLs (a copy where it changed)."""
    if isinstance(node, dict):
        out = {k: rewritten(v, systems) for k, v in node.items()}
        if isinstance(out.get("system"), str) and out["system"] in systems and "value" in out:
            out["system"] = systems[out["system"]]
        if isinstance(out.get("system"), str) and out["system"] in national.RENAMED_SYSTEMS and "code" in out:
            out["system"] = national.RENAMED_SYSTEMS[out["system"]]  # a Coding: VN Core's list
        meta = out.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("profile"), list):
            out["meta"] = {**meta, "profile": [RENAMED_PROFILES.get(p, p) for p in meta["profile"]]}
        if out.get("resourceType") == "Patient":
            national.upgrade(out)  # this project's old t54-* extensions -> VN Core's
        return out
    if isinstance(node, list):
        return [rewritten(v, systems) for v in node]
    return node


async def migrate(repo: Repository, progress: Callable[[str, int], None] = lambda type_, n: None) -> MigrationReport:
    """Run both steps over ``repo``'s store (the server's own repository: no client's rules)."""
    report = MigrationReport()
    systems = own_systems()
    for type_ in sorted(repo.types):
        after = None
        while True:
            page = await repo.store.search(Query(type_, limit=PAGE, after=after))
            for v in page.versions:
                report.scanned[type_] += 1
                body = body_of(v)
                new = rewritten(body, systems)
                if new != body:
                    try:
                        # a rewrite of what is stored makes no new reference: its integrity is not checked
                        # (a Pending that is never checked), so data stored before the checks still migrates
                        await repo.atomic(lambda tx, v=v, new=new: repo.update(tx, v.type, v.id, new, if_match=v.vid, pending=Pending()))
                        report.rewritten[type_] += 1
                    except FhirError as err:
                        if err.status != 412:
                            raise
                        report.skipped[type_] += 1
                elif await repo.store.reindex(v, repo.index_of(body)):
                    report.reindexed[type_] += 1
                else:
                    report.skipped[type_] += 1
            progress(type_, len(page.versions))
            if len(page.versions) < PAGE or not page.keys:
                break
            after = page.keys[-1]
    return report
