"""What each request did, handed to the audit trail: writes inside their unit of work, the rest after.

A request that committed writes is described by the AuditEvent written in the same unit
(:class:`WriteAudit`), so the event exists exactly when the writes do. Everything else
(reads, searches, failures, refusals, batches) gets one AuditEvent when the response has
been sent (:func:`finish`), queued so the client does not wait for it.
"""

from __future__ import annotations

import re
import weakref
from typing import Any, Awaitable, Callable

from fastapi import Request

from ..fhir.resource import VersionMemo, body_of
from ..fhir.search.registry import SearchRegistry
from ..storage.base import Tx, Version, Write

_ID = r"[A-Za-z0-9\-.]{1,64}"
_T = r"[A-Z][A-Za-z]+"
#: (method, path pattern under /fhir) → RESTful interaction (http://hl7.org/fhir/restful-interaction)
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), i)
    for m, p, i in (
        ("GET", r"^/fhir/?$", "search-system"),
        ("POST", r"^/fhir/?$", "batch"),
        ("GET", r"^/fhir/_history$", "history-system"),
        ("GET", rf"^/fhir/{_T}/_history$", "history-type"),
        ("GET", rf"^/fhir/{_T}/{_ID}/_history$", "history-instance"),
        ("GET", rf"^/fhir/{_T}/{_ID}/_history/[^/]+$", "vread"),
        ("POST", rf"^/fhir/{_T}/_search$", "search-type"),
        ("*", r"^/fhir/(.+/)?\$[^/]+$", "operation"),
        ("GET", rf"^/fhir/{_T}$", "search-type"),
        ("GET", rf"^/fhir/{_T}/{_ID}$", "read"),
        ("POST", rf"^/fhir/{_T}$", "create"),
        ("PUT", rf"^/fhir/{_T}(/{_ID})?$", "update"),
        ("PATCH", rf"^/fhir/{_T}(/{_ID})?$", "patch"),
        ("DELETE", rf"^/fhir/{_T}(/{_ID})?$", "delete"),
    )
]


def interaction_of(method: str, path: str) -> str:
    for m, pattern, interaction in _ROUTES:
        if (m == "*" or m == method or (m == "GET" and method == "HEAD")) and pattern.match(path):
            return interaction
    return "operation"


def source_ip(scope: dict[str, Any]) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


#: per search registry (one per app): the patients of each version, worked out once
_PATIENTS: "weakref.WeakKeyDictionary[SearchRegistry, VersionMemo[frozenset[str]]]" = weakref.WeakKeyDictionary()


def patients_in(registry: SearchRegistry, versions: list[Version]) -> set[str]:
    """The patients whose data these versions are (each version's worked out once: a view of a
    record touches the same versions every time)."""
    memo = _PATIENTS.get(registry)
    if memo is None:
        from ..audit.events import patients_of

        held = weakref.ref(registry)  # the memo must not keep its registry alive
        memo = _PATIENTS[registry] = VersionMemo(lambda v: frozenset(patients_of(held(), v.type, body_of(v))))  # type: ignore[arg-type]
    out: set[str] = set()
    for v in versions:
        if not v.deleted:
            out |= memo(v)
    return out


class WriteAudit:
    """The AuditEvent of a unit of work's writes, written inside that unit (the
    ``on_commit`` hook of the request's :class:`~server.auth.guard.GuardedStore`).

    Building the event (its JSON, its search index) costs more than storing it, and the unit
    runs under the store's write lock. When the caller knows what a unit will write (a single
    create or update), :meth:`ahead` builds the event before the unit; the unit uses it if it
    wrote exactly those versions, and builds its own otherwise (a wrong guess costs only time).
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        self._ahead: tuple[tuple[tuple[str, str, int, int], ...], Write] | None = None

    def ahead(self, versions: list[Version]) -> None:
        if self.request.app.state.audit.enabled:
            self._ahead = (_key(versions), self._build(versions))

    async def __call__(self, tx: Tx, written: list[Version]) -> None:
        if not self.request.app.state.audit.enabled:
            return
        ahead, self._ahead = self._ahead, None
        await tx.write(ahead[1] if ahead is not None and ahead[0] == _key(written) else self._build(written))

    def _build(self, written: list[Version]) -> Write:
        from ..audit.events import rest_event

        app, scope = self.request.app, self.request.scope
        event = rest_event(
            interaction=scope["state"].get("interaction") or interaction_of(scope["method"], scope["path"]),
            method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
            status=200, access=scope["state"]["access"], source_ip=source_ip(scope),
            touched=[(v.type, v.id, v.vid) for v in written], patients=patients_in(app.state.repo.search_params, written),
        )
        return app.state.audit.event_write(event)


def _key(versions: list[Version]) -> tuple[tuple[str, str, int, int], ...]:
    """Which versions these are: a version's (type, id, vid) never changes content, and the
    stamp tells a version prepared ahead from one prepared inside the unit."""
    return tuple((v.type, v.id, v.vid, v.ts) for v in versions)


def finisher(app: Any) -> Callable[[dict[str, Any], int], Awaitable[None]]:
    """The middleware's end-of-request step: one AuditEvent unless the writes' own events say it all."""

    async def finish(scope: dict[str, Any], status: int) -> None:
        audit = app.state.audit
        if not audit.enabled:
            return
        state = scope.get("state", {})
        view = state.get("repo")
        guard = view.store if view is not None else None
        touched = list(guard.touched) if guard is not None else []
        if status < 400 and guard is not None and guard.committed_units and not touched and not state.get("audit_always"):
            return  # described by the AuditEvent(s) written with the writes
        access = state.get("access")
        registry = app.state.repo.search_params

        def build() -> dict[str, Any]:
            from ..audit.events import rest_event

            detail = state.get("auth_failure")
            return rest_event(
                interaction=state.get("interaction") or interaction_of(scope["method"], scope["path"]),
                method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
                status=status, access=access, source_ip=source_ip(scope),
                touched=[(v.type, v.id, v.vid) for v in touched], patients=patients_in(registry, touched),
                detail=detail,
            )

        await audit.record_later(build)

    return finish
