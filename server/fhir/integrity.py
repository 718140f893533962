"""Referential integrity, as HAPI enforces it by default.

* On write, every *local* reference must name a resource that exists (not deleted): a relative
  ``Type/id`` (``/_history/n`` allowed) of a type this server serves, or an absolute URL on this
  server's own base. A missing one is 422, naming the element. Not local, so not checked:
  contained ``#id``, ``urn:uuid:``/``urn:oid:`` (a transaction resolves them to its entries
  before this runs), absolute URLs of other servers, conditional ``Type?criteria`` (resolved by
  a transaction, meaningless outside one), references to types this server does not serve.
* On delete, no current resource may refer to the deleted one through a reference search
  parameter (the reverse references are found in the search index, as ``_revinclude=*`` finds
  them, so every store answers the same way). A referred-to resource is 409. AuditEvents do
  not count: the audit trail outlives what it records.

A transaction checks both once, after all its entries ran, so deleting a resource and the ones
that refer to it together, or creating resources that refer to each other, succeeds.

Existence is checked across the whole store, not only what the caller may read (a client that
may create Observations need not be able to read Patients to refer to one), as HAPI does. A 409
names only the referrers the caller may read; the others are only counted, by type.

``Settings.integrity_on_write`` / ``integrity_on_delete`` turn either check off (bulk loads of
data whose order cannot be controlled).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..storage.base import Query, Tx
from ..storage.index import All, AnyOf, Cond, Not, Term, TypeIs, ValueMatch
from .outcome import FhirError, Issue
from .resource import ID_RE, Path, holder_at, reference_paths

if TYPE_CHECKING:
    from .repository import Repository

#: types whose references never hold a delete back: the audit trail records what happened to a
#: resource and outlives it (and no client may delete it)
NOT_REFERRERS = ("AuditEvent",)
#: referrers looked for (and counted) at most; the 409 says "at least" beyond
MAX_REFERRERS = 100
#: referrers named by id in a 409 at most
NAMED_REFERRERS = 10


@dataclass(slots=True)
class Pending:
    """What a transaction wrote and deleted, to be checked once at its end."""

    written: list[tuple[str, str, dict[str, Any], str]] = field(default_factory=list)  #: type, id, resource, expression prefix
    deleted: list[tuple[str, str]] = field(default_factory=list)


def local_target(ref: str, types: frozenset[str], base: str | None) -> tuple[str, str] | None:
    """(type, id) of a local reference (see the module notes), or None for one that is not local."""
    ref = ref.strip()
    if base and ref.startswith(base.rstrip("/") + "/"):
        ref = ref[len(base.rstrip("/")) + 1 :]
    if not ref or ref[0] == "#" or "?" in ref or ":" in ref:
        return None  # contained, conditional, urn: or an absolute URL elsewhere
    parts = ref.split("/")
    if len(parts) == 4 and parts[2] == "_history":
        parts = parts[:2]
    if len(parts) != 2 or parts[0] not in types or not ID_RE.match(parts[1]):
        return None
    return parts[0], parts[1]


def expression(prefix: str, path: Path) -> str:
    """``Observation.subject``, ``Observation.performer[1]``: where a reference sits."""
    out = prefix
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


async def missing_references(repo: Repository, tx: Tx, written: list[tuple[str, str, dict[str, Any], str]]) -> list[Issue]:
    """An issue for each local reference of the written resources whose target does not exist."""
    raw = tx.unguarded()
    issues: list[Issue] = []
    known: dict[tuple[str, str], bool] = {}
    for _type, _id, resource, prefix in written:
        for path in reference_paths(resource):
            ref = holder_at(resource, path).get("reference")
            target = local_target(ref, repo.types, repo.base) if isinstance(ref, str) else None
            if target is None:
                continue
            if target not in known:
                current = await raw.current(*target)
                known[target] = current is not None and not current.deleted
            if not known[target]:
                issues.append(Issue("not-found", f"Reference '{ref}' does not resolve: {target[0]}/{target[1]} does not exist on this server", (expression(prefix, path),)))
    return issues


def referrers_term(repo: Repository, targets: tuple[str, ...]) -> Term:
    """A resource refers to one of ``targets`` through any of its reference parameters."""
    names = sorted({p.code for t in repo.types for p in repo.search_params.indexed(t) if p.type == "reference"})
    refers = AnyOf(tuple(ValueMatch(n, "reference", (Cond("target", "in", targets),)) for n in names))
    return All((refers, Not(TypeIs(NOT_REFERRERS))))


async def referrer_conflict(repo: Repository, tx: Tx, deleted: list[tuple[str, str]]) -> FhirError | None:
    """409 when a current resource still refers to one of the deleted ones, else None."""
    if not deleted:
        return None
    gone = set(deleted)
    targets = tuple(f"{t}/{i}" for t, i in deleted)
    if repo.base:
        targets += tuple(f"{repo.base.rstrip('/')}/{t}" for t in targets)
    page = await tx.unguarded().search(Query(None, referrers_term(repo, targets), limit=MAX_REFERRERS + 1))
    found = [v for v in page.versions if (v.type, v.id) not in gone][:MAX_REFERRERS]
    if not found:
        return None
    counts = Counter(v.type for v in found)
    named = []
    for v in found:
        if len(named) == NAMED_REFERRERS:
            break
        if await tx.current(v.type, v.id) is not None:  # only what the caller may read is named
            named.append(f"{v.type}/{v.id}")
    many = "at least " if len(page.versions) > MAX_REFERRERS else ""
    by_type = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
    what = ", ".join(f"{t}/{i}" for t, i in deleted)
    text = f"{what} cannot be deleted: {many}{len(found)} resource(s) refer to it ({by_type})"
    if named:
        text += f", among them {', '.join(named)}"
    text += "; delete or change them first, or delete them in the same transaction"
    return FhirError(409, [Issue("conflict", text, (f"{deleted[0][0]}",))])
