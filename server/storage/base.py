"""The storage interface every backend implements, and nothing more.

A store keeps versions of resources (the body is opaque JSON bytes) and the search index
of each current version. It guarantees: every version is kept; the current version of
a resource is found without scanning history; :meth:`Store.atomic` applies a group of
writes all-or-nothing; a write whose ``expect_vid`` does not match the current version
fails with :class:`VersionConflict` (so of two concurrent writers of one version exactly
one wins). FHIR semantics (ids, version numbers, ``meta``, what to index) live above.

:meth:`Store.atomic_batch` runs many units in one go (imports): one transaction with a
savepoint per unit where the store has savepoints (SQLite), one transaction per unit
where it has not (MongoDB); either way each unit succeeds or fails alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Literal, Sequence, TypeVar

from .index import IndexValue, Term

T = TypeVar("T")

Method = Literal["POST", "PUT", "DELETE"]


@dataclass(frozen=True, slots=True)
class Version:
    """One version of one resource, as stored."""

    type: str
    id: str
    vid: int  # 1, 2, 3... per resource
    ts: int  # meta.lastUpdated in microseconds since the epoch (UTC)
    method: Method  # the interaction that produced it (history's entry.request.method)
    body: bytes | None  # resource JSON; None for a deletion

    @property
    def deleted(self) -> bool:
        return self.body is None


@dataclass(frozen=True, slots=True)
class Write:
    """Make ``version`` the current version of its resource.

    ``expect_vid`` is the version the writer based this on: ``None`` means the resource must
    not exist at all; a number means the current version (deleted or not) must be exactly that.
    ``index`` holds the search values of the new version (empty for a deletion).
    ``in_place``: no new version; ``version`` (its body and index) replaces the stored version
    of the same number, which must be current (``expect_vid == version.vid``). Only for what
    R4 lets change without a version (``$meta-add``/``$meta-delete``: a resource's meta).
    """

    version: Version
    index: tuple[IndexValue, ...] = ()
    expect_vid: int | None = None
    in_place: bool = False


@dataclass(frozen=True, slots=True)
class SortKey:
    """Order by a search parameter's values.

    ``param`` is ``_id``, ``_lastUpdated`` or an indexed parameter of value ``kind``. A
    resource sorts by the smallest value of the kind's sort column (:data:`index.SORT_COLUMN`)
    ascending, the largest descending; resources with no value come last either way.
    """

    param: str
    kind: str = "string"
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """Current, non-deleted resources of ``type`` (any type when ``None``) matching ``where``.

    Order: the ``sort`` keys, then creation order (a per-resource sequence fixed when the
    resource is first created and kept across updates, deletion and re-creation), then
    type and id, so the order of resources never changes when they are updated.
    Paging: ``after``/``before`` are keys from :attr:`Page.keys` (keyset paging: rows strictly
    after / strictly before that key, ``before`` still returned in forward order); ``offset``
    skips rows after that. ``total`` asks for the number of all matches (ignoring paging).
    A key that cannot belong to this ``sort`` (wrong length or value types) raises ``ValueError``.
    """

    type: str | None
    where: Term | None = None
    sort: tuple[SortKey, ...] = ()
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None
    offset: int = 0
    limit: int = 100
    total: bool = False


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Versions, newest first (``ts`` desc, then type, id, vid desc).

    ``type``/``id`` narrow to a type or one resource. ``since``: versions with ``ts >= since``.
    ``at``: versions that were current at some instant of ``[at_low, at_high]``.
    ``till``: versions with ``ts <= till`` (a snapshot, so paging is stable under writes).
    ``types``: only versions of these types (what a token may read).
    """

    type: str | None = None
    id: str | None = None
    since: int | None = None
    at: tuple[int, int] | None = None
    till: int | None = None
    offset: int = 0
    limit: int = 100
    types: tuple[str, ...] | None = None


@dataclass(slots=True)
class Page:
    versions: list[Version] = field(default_factory=list)
    total: int | None = None
    #: for search: each version's position key (JSON values), to pass as ``after``/``before``
    keys: list[tuple[Any, ...]] = field(default_factory=list)


def check_key(key: Any, width: int) -> list[Any]:
    """A key from :attr:`Page.keys` (possibly after a JSON round trip), checked for shape:
    ``width`` values, each text, a number or ``None``; ``ValueError`` otherwise."""
    if not isinstance(key, (tuple, list)) or len(key) != width:
        raise ValueError(f"search key {key!r} does not belong to this sort (expected {width} values)")
    for value in key:
        if value is not None and not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValueError(f"search key {key!r} holds a value that is not text or a number")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise ValueError(f"search key {key!r} holds a number out of range")
    return list(key)


class VersionConflict(Exception):
    """The current version is not the one the write expected."""

    def __init__(self, type_: str, id_: str, expected: int | None, actual: int | None) -> None:
        super().__init__(f"{type_}/{id_}: expected version {expected}, found {actual}")
        self.type, self.id, self.expected, self.actual = type_, id_, expected, actual


class StoreConfigError(Exception):
    """The store cannot be used as configured (e.g. MongoDB that is not a replica set)."""


class StoreBusy(Exception):
    """The write could not start in time: another process held the store's write lock.
    Nothing was written; the client may try again (HTTP 503 with Retry-After)."""


class Tx(ABC):
    """Reads and writes inside one atomic unit; reads see this unit's own writes."""

    @abstractmethod
    async def current(self, type_: str, id_: str) -> Version | None: ...

    @abstractmethod
    async def search(self, query: Query) -> Page: ...

    @abstractmethod
    async def write(self, write: Write) -> None:
        """Apply one write; raises :class:`VersionConflict`."""

    def unguarded(self) -> "Tx":
        """This unit as the store itself sees it, past a request's access rules: for checks whose
        answer is not shown as such (does a referenced resource exist?)."""
        return self


class Store(ABC):
    """A place resources live. Reads outside :meth:`atomic` see committed data only."""

    #: what the store is, for logs, the README's test matrix and the CapabilityStatement
    kind: str

    @abstractmethod
    async def open(self) -> None:
        """Connect and create tables/collections/indexes; raises :class:`StoreConfigError`."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` so its writes land all together or not at all.

        ``work`` may be called more than once (a store may retry after a transient write
        conflict), so it must do nothing outside the given :class:`Tx`. Any exception it
        raises rolls everything back and propagates.
        """

    async def atomic_batch(self, works: Sequence[Callable[[Tx], Awaitable[T]]]) -> list[T | Exception]:
        """Run each of ``works`` as its own atomic unit, in order; a result or the exception it
        raised per work, in the same order (one failing work never undoes another).

        Why: an import stores thousands of small units; a store with savepoints runs them in
        one database transaction (one commit, one savepoint each) instead of one each. A later
        work sees the writes of the earlier successful ones. As with :meth:`atomic` a work may
        be called more than once, so it must do nothing outside its :class:`Tx`. Only
        ``Exception`` is collected: anything else (cancellation) stops the batch and
        propagates (SQLite then undoes the whole batch). This default, used by MongoDB (no
        savepoints), is one :meth:`atomic` per work, so works already run stay stored.
        """
        results: list[T | Exception] = []
        for work in works:
            try:
                results.append(await self.atomic(work))
            except Exception as exc:  # noqa: BLE001 - the caller gets it in the list
                results.append(exc)
        return results

    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[None]:
        """A bulk session (seeding, imports): inside it a store may defer index maintenance
        until the session ends, so searches may be slow until then. The default does nothing."""
        yield

    async def bulk_load(self, writes: Iterable[Write]) -> None:
        """Store new resources (seeding, benchmarks) in one atomic unit.

        Every write must create a resource (``expect_vid`` ``None``, a body). A resource that
        exists already, or twice in ``writes``, raises :class:`VersionConflict` and nothing
        is stored. Stores override this with a faster path; this default writes one by one.
        """
        items = list(writes)
        for w in items:
            if w.expect_vid is not None or w.version.body is None:
                raise ValueError(f"bulk_load takes new resources only ({w.version.type}/{w.version.id} is not one)")

        async def work(tx: Tx) -> None:
            for w in items:
                await tx.write(w)

        if items:
            await self.atomic(work)

    @abstractmethod
    async def current(self, type_: str, id_: str) -> Version | None:
        """The current version, deleted or not; ``None`` if the resource never existed."""

    @abstractmethod
    async def version(self, type_: str, id_: str, vid: int) -> Version | None: ...

    @abstractmethod
    async def search(self, query: Query) -> Page: ...

    @abstractmethod
    async def history(self, query: HistoryQuery, *, total: bool = False) -> Page: ...

    @abstractmethod
    async def clear(self) -> None:
        """Delete every resource (tests and benchmarks only); records are kept."""

    @abstractmethod
    async def reindex(self, version: Version, index: tuple[IndexValue, ...]) -> bool:
        """Replace the search index of ``version``, which must still be its resource's current
        version (``False``, and nothing changed, when it is not: a write came in between).
        For migrations: the index is a function of the body, and the function changed."""

    # ------------------------------------------------------------------ records
    # Small non-FHIR documents the server keeps beside the resources: its signing key,
    # registered clients, local accounts, refresh tokens, one-time codes. ``kind`` names
    # the family, ``key`` one document in it; bodies are JSON objects.

    @abstractmethod
    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def put_record(self, kind: str, key: str, body: dict[str, Any]) -> None:
        """Create or replace."""

    @abstractmethod
    async def add_record(self, kind: str, key: str, body: dict[str, Any]) -> bool:
        """Create only if absent; ``False`` (and nothing changed) when it exists, so two
        processes creating the same record at once agree on the one that won."""

    @abstractmethod
    async def take_record(self, kind: str, key: str) -> dict[str, Any] | None:
        """Delete and return it; of two concurrent takers only one gets it (one-time codes)."""

    @abstractmethod
    async def list_records(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """Every record of ``kind``, ordered by key."""
