"""The storage boundary of one request: it sees only what its token may see, writes only what it may write.

:class:`GuardedStore` wraps the real store for one request. Every path that reads data
(search with its chains, ``_has``, includes and revincludes, reads by id, history, paging,
``$everything``, the mappings' exports, transaction entries) reaches the data through it:

- a search gets the access term of its type(s) ANDed to its ``where``, so a patient-context
  token's query can only match that patient's compartment (and the scopes' restrictions);
- a version read by id or from history is checked against the same term, evaluated on its
  own index (:mod:`server.storage.matching`), so old versions are judged by what they held;
- a write (inside :meth:`atomic`) needs the create, update or delete permission on its type,
  must stay inside the term for that permission (before and after) and, for a vendor
  client registered for facilities, must not carry another facility's marks.

What is not visible is absent (404), as HAPI's consent layer does, so the guard tells
nobody that a resource exists outside their reach. Every version handed out is noted in
:attr:`touched`, which the audit trail records.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Awaitable, Callable, Iterable, Protocol, TypeVar

from ..fhir.outcome import FhirError
from ..fhir.resource import body_of
from ..fhir.search.extract import extract_index
from ..fhir.search.registry import SearchRegistry
from ..storage.base import HistoryQuery, Page, Query, Store, Tx, Version, Write
from ..storage.index import All, AnyOf, Term, TypeIs
from ..storage.matching import holds
from .access import DENY, Access, Restrict
from .facilities import facilities_of

T = TypeVar("T")

#: at most this many touched versions are remembered for the audit trail
MAX_TOUCHED = 1000

_LETTER_NAMES = {"c": "create", "u": "update", "d": "delete"}


class CommitHook(Protocol):
    """What runs inside every unit of work that wrote, with the versions it wrote and read
    (the audit trail's :class:`~server.http.auditing.WriteAudit`)."""

    async def __call__(self, tx: Tx, versions: list[Version]) -> None: ...

    def ahead(self, versions: list[Version]) -> None:
        """Before a unit expected to write and read ``versions``: do what can be done outside it."""


class Rules:
    """The access terms of one request, worked out once per (type, letters)."""

    def __init__(self, access: Access, registry: SearchRegistry, restrict: Restrict) -> None:
        self.access = access
        self.registry = registry
        self.restrict = restrict
        self._terms: dict[tuple[str, str], Term | object | None] = {}

    def term(self, type_: str, letters: str) -> Any:
        key = (type_, letters)
        if key not in self._terms:
            self._terms[key] = self.access.term(self.registry, self.restrict, type_, letters)
        return self._terms[key]

    def query(self, query: Query) -> Query | None:
        """``query`` narrowed to what may be read; ``None`` when nothing of it may be."""
        if self.access.full:
            return query
        if query.type is not None:
            term = self.term(query.type, "rs")
            if term is DENY:
                return None
            return query if term is None else _and(query, term)
        per_type: list[Term] = []
        open_types: list[str] = []
        for t in sorted(self.registry.types):
            term = self.term(t, "rs")
            if term is None:
                open_types.append(t)
            elif term is not DENY:
                per_type.append(All((TypeIs((t,)), term)))
        if not per_type and len(open_types) == len(self.registry.types):
            return query
        if open_types:
            per_type.insert(0, TypeIs(tuple(open_types)))
        if not per_type:
            return None
        return _and(query, per_type[0] if len(per_type) == 1 else AnyOf(tuple(per_type)))

    def allows(self, version: Version, letters: str = "rs", body: dict[str, Any] | None = None) -> bool:
        """Whether ``version`` (its own content, or ``body``) is within the access term."""
        if self.access.full:
            return True
        term = self.term(version.type, letters)
        if term is None:
            return True
        if term is DENY:
            return False
        content = body if body is not None else body_of(version)
        return holds(term, version.type, version.id, version.ts, extract_index(self.registry, content))  # type: ignore[arg-type]


def _and(query: Query, term: Term) -> Query:
    where = term if query.where is None else All((term, query.where))
    return Query(query.type, where, query.sort, query.after, query.before, query.offset, query.limit, query.total)


class GuardedStore(Store):
    """One request's view of ``inner`` (see the module docstring)."""

    def __init__(self, inner: Store, rules: Rules, on_commit: CommitHook | None = None) -> None:
        self.inner = inner
        self.rules = rules
        self.kind = inner.kind
        self.touched: list[Version] = []
        self.on_commit = on_commit
        #: units of work that committed writes (each audited inside its own unit)
        self.committed_units = 0

    @property
    def access(self) -> Access:
        return self.rules.access

    def _note(self, versions: Iterable[Version], sink: list[Version] | None = None) -> None:
        sink = self.touched if sink is None else sink
        room = MAX_TOUCHED - len(sink)
        if room > 0:
            sink.extend(list(versions)[:room])

    async def _visible(self, v: Version | None, sink: list[Version] | None = None) -> Version | None:
        if v is None or self.access.full:
            if v is not None:
                self._note((v,), sink)
            return v
        shown = v
        if v.deleted:  # a deletion is visible when the version it deleted was
            if v.vid <= 1:
                return None
            shown = await self.inner.version(v.type, v.id, v.vid - 1) or v
            if shown.deleted:
                return None
        if not self.rules.allows(shown):
            return None
        self._note((v,), sink)
        return v

    async def _search(self, search: Callable[[Query], Awaitable[Page]], query: Query, sink: list[Version] | None = None) -> Page:
        narrowed = self.rules.query(query)
        if narrowed is None:
            return Page(total=0 if query.total else None)
        page = await search(narrowed)
        self._note(page.versions, sink)
        return page

    # ----------------------------------------------------------------- reads

    async def current(self, type_: str, id_: str) -> Version | None:
        return await self._visible(await self.inner.current(type_, id_))

    async def version(self, type_: str, id_: str, vid: int) -> Version | None:
        return await self._visible(await self.inner.version(type_, id_, vid))

    async def search(self, query: Query) -> Page:
        return await self._search(self.inner.search, query)

    async def scan(self, query: Query) -> Page:
        """A search under the same access term whose versions the server only looks at (what
        ``$everything`` refers to): not noted for the audit trail, which records what is shown."""
        return await self._search(self.inner.search, query, [])

    async def history(self, query: HistoryQuery, *, total: bool = False) -> Page:
        if self.access.full:
            page = await self.inner.history(query, total=total)
            self._note(page.versions)
            return page
        if query.type is not None and self.rules.term(query.type, "rs") is DENY:
            return Page(total=0 if total else None)
        terms = {t: self.rules.term(t, "rs") for t in ((query.type,) if query.type else sorted(self.rules.registry.types))}
        if all(term is None or term is DENY for term in terms.values()):
            # whole types in or out: the store filters, and the total stays exact
            page = await self.inner.history(replace(query, types=tuple(t for t, term in terms.items() if term is None)), total=total)
            self._note(page.versions)
            return page
        # Filtered while reading: versions the token may not see are skipped until the page is
        # full. ``keys`` tells, for each version shown, the offset just past it in the whole
        # history, so the next page starts there. No total: it would count the unseen.
        page = Page()
        offset, batch = query.offset, max(query.limit * 2, 50)
        while len(page.versions) < query.limit:
            raw = await self.inner.history(replace(query, offset=offset, limit=batch))
            for v in raw.versions:
                offset += 1
                if await self._visible(v) is not None:
                    page.versions.append(v)
                    page.keys.append((offset,))
                    if len(page.versions) == query.limit:
                        break
            if len(raw.versions) < batch:
                break
        return page

    # ---------------------------------------------------------------- writes

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        last: list[GuardedTx] = []

        async def guarded(tx: Tx) -> T:
            gtx = GuardedTx(tx, self)
            last[:] = [gtx]  # a store may run the unit again: only the last run counts
            result = await work(gtx)
            if gtx.written and self.on_commit is not None:
                await self.on_commit(tx, gtx.written + gtx.read)
            return result

        result = await self.inner.atomic(guarded)
        if last and last[0].written:
            self.committed_units += 1
        elif last:
            self._note(last[0].read)  # a unit that only read is audited with the request
        return result

    async def bulk_load(self, writes: Iterable[Write]) -> None:
        raise FhirError.of(403, "forbidden", "bulk loading is for the server's own tools")

    async def open(self) -> None:  # the real store is opened by the app
        return None

    async def close(self) -> None:
        return None

    async def clear(self) -> None:
        raise FhirError.of(403, "forbidden", "clearing the store is for the server's own tools")

    async def reindex(self, version: Version, index: tuple[Any, ...]) -> bool:
        raise FhirError.of(403, "forbidden", "reindexing is for the server's own tools")

    # records are the server's own (keys, clients, accounts): requests reach them only through it
    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        return await self.inner.get_record(kind, key)

    async def put_record(self, kind: str, key: str, body: dict[str, Any]) -> None:
        await self.inner.put_record(kind, key, body)

    async def add_record(self, kind: str, key: str, body: dict[str, Any]) -> bool:
        return await self.inner.add_record(kind, key, body)

    async def take_record(self, kind: str, key: str) -> dict[str, Any] | None:
        return await self.inner.take_record(kind, key)

    async def list_records(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return await self.inner.list_records(kind)


class GuardedTx(Tx):
    """A unit of work's view: reads filtered as the store's, writes checked before they reach ``tx``."""

    def __init__(self, tx: Tx, store: GuardedStore) -> None:
        self.tx = tx
        self.store = store
        self.written: list[Version] = []
        #: what the unit read (conditional matches, references): part of its writes' audit
        self.read: list[Version] = []

    async def current(self, type_: str, id_: str) -> Version | None:
        return await self.store._visible(await self.tx.current(type_, id_), self.read)

    def unguarded(self) -> Tx:
        return self.tx.unguarded()

    async def search(self, query: Query) -> Page:
        return await self.store._search(self.tx.search, query, self.read)

    async def write(self, write: Write) -> None:
        v = write.version
        access = self.store.access
        previous = await self.tx.current(v.type, v.id)
        letter = "d" if v.deleted else ("c" if previous is None or previous.deleted else "u")
        access.require(v.type, _LETTER_NAMES[letter])
        rules = self.store.rules
        if previous is not None and not previous.deleted and not rules.allows(previous, letter):
            raise _outside(v, letter, access)
        if not v.deleted and not rules.allows(v, letter):
            raise _outside(v, letter, access)
        if access.facilities is not None:
            for body in (body_of(previous) if previous is not None and not previous.deleted else None, body_of(v) if not v.deleted else None):
                foreign = facilities_of(body) - access.facilities if body is not None else set()
                if foreign:
                    raise FhirError.of(403, "forbidden", f"{v.type}/{v.id} belongs to facility {', '.join(sorted(foreign))}; this client may write for {', '.join(sorted(access.facilities)) or 'no facility'} only")
        await self.tx.write(write)
        self.written.append(v)


def _outside(v: Version, letter: str, access: Access) -> FhirError:
    where = f"patient {access.patient}'s compartment" if access.patient else "the token's scope restrictions"
    return FhirError.of(403, "forbidden", f"{_LETTER_NAMES[letter].capitalize()} of {v.type}/{v.id} is outside {where}")
