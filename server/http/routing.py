"""Which methods a path answers, and the ``{type_:rtype}`` path parameter that makes it knowable.

Why: Starlette's own ``Allow`` names only the methods of the first route whose path matched,
and a route such as ``PUT /{type_}`` swallowed ``PUT /metadata`` (a 404 for an unknown type
instead of a 405). Typed routes take only what looks like a resource type (``Patient``), so
``metadata``, ``_history`` and ``$op`` paths fall to their own routes, and :func:`allowed_methods`
asks every route, in the order the router tries them, which methods it would serve.
"""

from __future__ import annotations

from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Match

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class ResourceTypeConvertor(Convertor[str]):
    """A path segment that can be a resource type name: ``Patient``, not ``metadata`` or ``$meta``."""

    regex = "[A-Z][A-Za-z]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("rtype", ResourceTypeConvertor())


def refuses(endpoint: Any) -> Any:
    """Mark a route endpoint that only answers 405 (a write on a read-only type): its methods
    are not among the path's allowed ones."""
    endpoint.refuses_method = True
    return endpoint


def allowed_methods(routers: list[tuple[str, Any]], path: str) -> list[str]:
    """The methods ``path`` is served with: for each method, the first route the app would
    pick for it, unless that route only refuses. ``routers`` are the app's ``(prefix, APIRouter)``
    in the order they were included. Under ``/fhir`` ``HEAD`` goes with ``GET`` (the format
    middleware answers it as the GET); elsewhere it is not served."""
    allowed: list[str] = []
    for method in _METHODS:
        if method == "HEAD":
            if "GET" in allowed and (path == "/fhir" or path.startswith("/fhir/")):
                allowed.append("HEAD")
            continue
        route = _first_route(routers, path, method)
        if route is not None and not getattr(route.endpoint, "refuses_method", False):
            allowed.append(method)
    return allowed


def _first_route(routers: list[tuple[str, Any]], path: str, method: str) -> Any:
    for prefix, router in routers:
        if not path.startswith(prefix):
            continue
        scope = {"type": "http", "path": path[len(prefix):], "method": method, "root_path": ""}
        for route in router.routes:
            if route.matches(scope)[0] == Match.FULL:
                return route
    return None
