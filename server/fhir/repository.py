"""The FHIR interactions on one resource type, over any :class:`~server.storage.base.Store`.

This is where FHIR's rules for create, read, update, delete and the conditional forms live:
who assigns ids and version numbers, what a version match means, when an update is a
create, what 0/1/many matches of a condition do. Writes take a :class:`Tx`, so a single
request and a transaction Bundle run the same code.
"""

from __future__ import annotations

import asyncio
import copy
import time
from .ids import new_id
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar
from urllib.parse import parse_qsl

from .. import jsonio
from ..auth.access import FULL, Access
from ..auth.guard import CommitHook
from ..config import Settings
from ..storage.base import HistoryQuery, Page, Query, Store, Tx, Version, VersionConflict, Write
from ..storage.index import IndexValue, Term
from .outcome import FhirError, Issue, bad_request, gone, not_found, precondition_failed
from .resource import body_of, content_equal, stamp
from .resource_types import RESOURCE_TYPES
from .search.deferred import resolve
from .search.execute import SearchResult, run_search
from .search.extract import extract_index
from .search.parse import ParsedSearch, SearchParser
from .search.registry import SearchRegistry


T = TypeVar("T")


@dataclass(slots=True)
class Result:
    """What a write did: the version now current, its resource, the HTTP status, notes."""

    version: Version
    resource: dict[str, Any] | None
    status: int
    issues: list[Issue] = field(default_factory=list)


@dataclass(slots=True)
class Ahead:
    """A single create or update worked out before its unit of work (stamped, serialised,
    indexed): the unit runs under the store's write lock, and this work need not. It holds
    while the resource's current version is still ``previous``; the unit checks that and
    works the write out again if not."""

    write: Write | None  #: None: the content equals ``previous``, no new version is made
    stored: dict[str, Any] | None
    previous: Version | None

    def holds(self, current: Version | None) -> bool:
        p = self.previous
        if p is None or current is None:
            return p is current
        return (p.vid, p.ts) == (current.vid, current.ts)

    def expected(self) -> list[Version]:
        """The versions the unit will write and read, if this holds (the commit hook's guess)."""
        if self.write is None:
            return []
        return [self.write.version, *((self.previous,) if self.previous is not None else ())]


def now_us() -> int:
    return time.time_ns() // 1000


class Repository:
    def __init__(self, store: Store, settings: Settings, types: frozenset[str] = RESOURCE_TYPES) -> None:
        self.store = store
        self.settings = settings
        self.types = types
        self.search_params = SearchRegistry(types)
        self.parser = SearchParser(self.search_params, default_count=settings.default_count, max_count=settings.max_count)
        #: who this repository acts for: the server itself, or one request (see :meth:`scoped`)
        self.access: Access = FULL
        #: the store itself, also in a request's view: only for guesses made ahead of a unit
        self.unguarded = store
        self.on_commit: CommitHook | None = None

    def scoped(self, access: Access, on_commit: CommitHook | None = None) -> "Repository":
        """This repository as one request sees it: its store is a :class:`~server.auth.guard.GuardedStore`
        for ``access``; ``on_commit`` runs inside every unit of work that wrote (the audit trail)."""
        from ..auth.guard import GuardedStore, Rules

        view = copy.copy(self)
        view.access = access
        view.store = GuardedStore(self.store, Rules(access, self.search_params, self.restriction_term), on_commit)
        view.on_commit = on_commit
        return view

    def restriction_term(self, type_: str, restriction: tuple[tuple[str, str], ...]) -> Term | None:
        """A scope's ``?name=value`` restriction as a query term (plain parameters only: no chains)."""
        for name, _ in restriction:
            if "." in name or name.startswith("_"):  # no chains, no _has, no result parameters
                raise FhirError.of(403, "forbidden", f"The scope restriction '{name}' on {type_} is not supported (plain search parameters only)")
        parsed = self.parser.parse((type_,), list(restriction), strict=True)
        return parsed.where

    # ------------------------------------------------------------------ helpers

    def check_type(self, type_: str) -> None:
        if type_ not in self.types:
            raise FhirError.of(404, "not-supported", f"Resource type '{type_}' is not supported by this server")

    def parse_search(self, type_: str, params: list[tuple[str, str]], *, strict: bool) -> ParsedSearch:
        return self.parser.parse((type_,), params, strict=strict)

    async def matches(self, tx: Tx, type_: str, criteria: str | list[tuple[str, str]]) -> list[Version]:
        """Up to two current resources matching a condition (all parameters must be understood)."""
        if isinstance(criteria, str):
            # "identifier=x" or, as HAPI also accepts, "Patient?identifier=x"
            prefix = f"{type_}?"
            params = parse_qsl(criteria[len(prefix):] if criteria.startswith(prefix) else criteria, keep_blank_values=True)
        else:
            params = criteria
        if not params:
            raise bad_request(f"A conditional {type_} interaction needs search criteria")
        self.access.require(type_, "search")
        parsed = self.parse_search(type_, params, strict=True)
        where = await resolve(parsed.where, tx.search, self.search_params)
        page = await tx.search(Query(type_, where, limit=2))
        return page.versions

    def prepare(self, type_: str, id_: str, resource: dict[str, Any], previous: Version | None = None,
                method: str = "POST") -> tuple[Write, dict[str, Any]]:
        """The write that makes ``resource`` the next version: stamped, serialised, indexed.

        With ``require_profiles`` every write of a core type passes the Vietnamese profiles
        first, with ``security_checks`` no string or markdown holds an HTML-like tag (422 with
        every problem otherwise); all write paths come through here.
        """
        if self.settings.require_profiles or self.settings.security_checks:
            self.check_rules(resource)
        vid = previous.vid + 1 if previous else 1
        ts = now_us()
        if previous is not None and ts <= previous.ts:
            ts = previous.ts + 1  # keep a resource's versions in time order
        stored = stamp(resource, id_, vid, ts)
        version = Version(type_, id_, vid, ts, method, jsonio.dumps(stored))  # type: ignore[arg-type]
        return Write(version, extract_index(self.search_params, stored), previous.vid if previous else None), stored

    def check_rules(self, resource: dict[str, Any]) -> None:
        """The write rules the settings turn on, all problems at once (422), or nothing."""
        from .profiling import mandatory  # the profile layer imports this module: import at first use
        from .profiling.rules import security

        found = mandatory.problems(resource) if self.settings.require_profiles else []
        if self.settings.security_checks:
            found += security.check(resource, strings=True, markdown=True)
        if found:
            raise FhirError(422, found)

    def index_of(self, resource: dict[str, Any]) -> tuple[IndexValue, ...]:
        """The search index of ``resource`` as the current rules extract it (for migrations)."""
        return extract_index(self.search_params, resource)

    def ahead_create(self, type_: str, resource: dict[str, Any]) -> Ahead:
        """A single create worked out before its unit (a new id: nothing to check inside)."""
        write, stored = self.prepare(type_, new_id(), resource)
        return Ahead(write, stored, None)

    async def ahead_update(self, type_: str, id_: str, resource: dict[str, Any]) -> Ahead:
        """A single update worked out before its unit, on the version current now. Read from
        the store itself, not through the request's guard: it is a guess, never shown; the
        unit reads the resource again through the guard and checks the guess."""
        return self._plan_update(type_, id_, resource, await self.unguarded.current(type_, id_))

    def _plan_update(self, type_: str, id_: str, resource: dict[str, Any], previous: Version | None) -> Ahead:
        if previous is not None and not previous.deleted and content_equal(body_of(previous), resource):
            return Ahead(None, None, previous)
        write, stored = self.prepare(type_, id_, resource, previous, "PUT")
        return Ahead(write, stored, previous)

    async def atomic(self, work: Callable[[Tx], Awaitable[T]], attempts: int = 8, ahead: Ahead | None = None) -> T:
        """Run ``work`` in one atomic unit, again when a concurrent writer got there first.

        A :class:`VersionConflict` that reaches here came from a write without ``If-Match``
        (those with one are 412 already): the client asked for no precondition, so the
        unit is simply replayed on the new current version. ``ahead``: the single write the
        unit is expected to make, so the commit hook (the audit event) can prepare outside it.
        """
        expected = ahead.expected() if ahead is not None and self.on_commit is not None else []
        if expected:
            self.on_commit.ahead(expected)  # type: ignore[union-attr]
        for attempt in range(attempts):
            try:
                return await self.store.atomic(work)
            except VersionConflict as exc:
                last = exc
                await asyncio.sleep(0.001 * attempt)
        raise FhirError.of(409, "conflict", f"{last.type}/{last.id} is being changed by other clients; retry the request")

    # -------------------------------------------------------------------- reads

    async def read(self, type_: str, id_: str) -> Version:
        self.check_type(type_)
        self.access.require(type_, "read")
        current = await self.store.current(type_, id_)
        if current is None:
            raise not_found(f"Resource {type_}/{id_} is not known")
        if current.deleted:
            raise FhirError(410, [Issue("deleted", f"Resource {type_}/{id_} was deleted (version {current.vid})")], {"ETag": f'W/"{current.vid}"'})
        return current

    async def read_any(self, type_: str, id_: str) -> Version:
        """The current version even if it is a deletion (for history); 404 if never known."""
        self.check_type(type_)
        self.access.require(type_, "history")
        current = await self.store.current(type_, id_)
        if current is None:
            raise not_found(f"Resource {type_}/{id_} is not known")
        return current

    async def vread(self, type_: str, id_: str, vid: str) -> Version:
        self.check_type(type_)
        self.access.require(type_, "vread")
        if not (vid.isascii() and vid.isdigit()) or int(vid) >= 2**63:  # no stored version is beyond 64 bits
            raise not_found(f"Version '{vid}' of {type_}/{id_} is not known")
        version = await self.store.version(type_, id_, int(vid))
        if version is None:
            raise not_found(f"Version {vid} of {type_}/{id_} is not known")
        if version.deleted:
            raise gone(f"Version {vid} of {type_}/{id_} is a deletion")
        return version

    async def search(self, type_: str | None, parsed: ParsedSearch, state: dict[str, Any], *, types: tuple[str, ...] | None = None, tx: Tx | None = None) -> SearchResult:
        """One page of a search (``types`` for a search across types); inside ``tx`` when given."""
        for t in types or ((type_,) if type_ else ()):
            self.access.require(t, "search")
        search = tx.search if tx is not None else self.store.search
        return await run_search(search, self.search_params, type_, parsed, state, types=types)

    async def history(self, query: HistoryQuery) -> Page:
        if query.type is not None:
            self.access.require(query.type, "history")
        return await self.store.history(query, total=True)

    # ------------------------------------------------------------------- writes

    async def create(self, tx: Tx, type_: str, resource: dict[str, Any], *, if_none_exist: str | None = None, id_: str | None = None,
                     ahead: Ahead | None = None) -> Result:
        """POST: a new resource with a server id (``id_`` is for transactions' pre-assigned ids;
        ``ahead``: the write made by :meth:`ahead_create`)."""
        if if_none_exist:
            found = await self.matches(tx, type_, if_none_exist)
            if len(found) > 1:
                raise precondition_failed(f"If-None-Exist '{if_none_exist}' matches more than one {type_}")
            if found:
                return Result(found[0], body_of(found[0]), 200, [Issue("duplicate", f"{type_}/{found[0].id} already matches '{if_none_exist}'; nothing created", severity="information")])
        if ahead is not None and ahead.write is not None and ahead.stored is not None and id_ is None:
            write, stored = ahead.write, ahead.stored
        else:
            write, stored = self.prepare(type_, id_ or new_id(), resource)
        await tx.write(write)
        return Result(write.version, stored, 201)

    async def update(self, tx: Tx, type_: str, id_: str, resource: dict[str, Any], *, if_match: int | None = None,
                     ahead: Ahead | None = None) -> Result:
        """PUT ``type/id``: a new version, or a create with the client's id (``ahead``: the
        write made by :meth:`ahead_update`, used if the resource has not changed since)."""
        previous = await tx.current(type_, id_)
        if if_match is not None and (previous is None or previous.vid != if_match or previous.deleted):
            found = "it does not exist" if previous is None else f"the current version is {previous.vid}" + (" (deleted)" if previous.deleted else "")
            raise precondition_failed(f"If-Match version {if_match} of {type_}/{id_} does not match: {found}")
        plan = ahead if ahead is not None and ahead.holds(previous) else self._plan_update(type_, id_, resource, previous)
        if plan.write is None or plan.stored is None:
            assert previous is not None
            return Result(previous, body_of(previous), 200, [Issue("informational", "No change: the content equals the current version, no new version was made", severity="information")])
        write, stored = plan.write, plan.stored
        try:
            await tx.write(write)
        except VersionConflict as exc:
            if if_match is None:
                raise  # no precondition was asked for: Repository.atomic replays the unit
            raise precondition_failed(f"{type_}/{id_} was changed by another client (now version {exc.actual}); read it again and retry") from None
        created = previous is None or previous.deleted
        return Result(write.version, stored, 201 if created else 200)

    async def conditional_update(self, tx: Tx, type_: str, criteria: list[tuple[str, str]], resource: dict[str, Any], *, if_match: int | None = None) -> Result:
        found = await self.matches(tx, type_, criteria)
        if len(found) > 1:
            raise precondition_failed(f"The conditional update criteria match more than one {type_}")
        body_id = resource.get("id")
        if found:
            if body_id is not None and body_id != found[0].id:
                raise bad_request(f"The resource id '{body_id}' does not match the matching resource {type_}/{found[0].id}", f"{type_}.id")
            return await self.update(tx, type_, found[0].id, resource, if_match=if_match)
        if body_id is not None:
            return await self.update(tx, type_, body_id, resource, if_match=if_match)
        return await self.create(tx, type_, resource)

    async def delete(self, tx: Tx, type_: str, id_: str, *, if_match: int | None = None) -> Result | None:
        """DELETE: a deletion version; ``None`` when there is nothing to delete."""
        previous = await tx.current(type_, id_)
        if if_match is not None and (previous is None or previous.vid != if_match):
            raise precondition_failed(f"If-Match version {if_match} of {type_}/{id_} does not match")
        if previous is None or previous.deleted:
            return None
        ts = max(now_us(), previous.ts + 1)
        version = Version(type_, id_, previous.vid + 1, ts, "DELETE", None)
        try:
            await tx.write(Write(version, (), previous.vid))
        except VersionConflict:
            if if_match is None:
                raise
            raise precondition_failed(f"{type_}/{id_} was changed by another client while deleting") from None
        return Result(version, None, 200)

    async def conditional_delete(self, tx: Tx, type_: str, criteria: list[tuple[str, str]]) -> Result | None:
        found = await self.matches(tx, type_, criteria)
        if len(found) > 1:
            raise precondition_failed(f"The conditional delete criteria match more than one {type_}")
        if not found:
            return None
        return await self.delete(tx, type_, found[0].id)
