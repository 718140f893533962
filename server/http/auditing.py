"""What each request did, handed to the audit trail: writes inside their unit of work, the rest after.

A request that committed writes is described by the AuditEvent written in the same unit
(:func:`commit_hook`), so the event exists exactly when the writes do. Everything else
(reads, searches, failures, refusals, batches) gets one AuditEvent when the response has
been sent (:func:`finish`), queued so the client does not wait for it.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable

from fastapi import Request

from ..fhir.resource import body_of
from ..fhir.search.registry import SearchRegistry
from ..storage.base import Tx, Version

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


def patients_in(registry: SearchRegistry, versions: list[Version]) -> set[str]:
    """The patients whose data these versions are."""
    from ..audit.events import patients_of

    out: set[str] = set()
    for v in versions:
        if not v.deleted:
            out |= patients_of(registry, v.type, body_of(v))
    return out


def commit_hook(request: Request) -> Callable[[Tx, list[Version]], Awaitable[None]]:
    """Writes the AuditEvent of a unit of work's writes into that same unit."""

    async def hook(tx: Tx, written: list[Version]) -> None:
        from ..audit.events import rest_event

        audit = request.app.state.audit
        if not audit.enabled:
            return
        scope = request.scope
        registry = request.app.state.repo.search_params
        event = rest_event(
            interaction=scope["state"].get("interaction") or interaction_of(scope["method"], scope["path"]),
            method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
            status=200, access=scope["state"]["access"], source_ip=source_ip(scope),
            touched=[(v.type, v.id, v.vid) for v in written], patients=patients_in(registry, written),
        )
        await audit.write_in(tx, event)

    return hook


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
