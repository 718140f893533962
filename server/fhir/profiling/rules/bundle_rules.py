"""R4's rules on a Bundle's entries and links that its invariants (bdl-*) do not express.

* ``Bundle.entry.fullUrl`` is "the Absolute URL for the resource" and "SHALL NOT disagree
  with the id in the resource": a fullUrl in R4's RESTful form must end in the resource's
  ``type/id``, so the resource must have that id (a create, ``request.method`` POST, may
  carry a fullUrl as a temporary identity and no id);
* a link relation names one URL: ``self`` at most once, and in search and history results
  (where the paging relations are defined) each of ``first``, ``previous``, ``next`` and
  ``last`` at most once; elsewhere the paging relations mean nothing (a warning);
* search results: an entry found as a ``match`` or an ``include`` is a resource of the
  server, so it has an id; an ``outcome`` entry is an OperationOutcome.

One pass over the entries and links; never raises on malformed content (the structure
walk reports that).
"""

from __future__ import annotations

from typing import Any

from ...outcome import Issue, Severity
from .rest_urls import is_absolute, rest_url
from ..typed import Walk

PAGING = ("first", "previous", "next", "last")
#: the relations that name one URL, by Bundle type (the others: only ``self``)
_SINGLE = {"searchset": ("self", *PAGING), "history": ("self", *PAGING)}


def _issue(path: str, text: str, severity: Severity = "error", code: str = "invalid") -> Issue:
    return Issue(code, f"{path}: {text}", (path,), severity)


def check(resource: dict[str, Any], walk: Walk | None = None) -> list[Issue]:  # reads the resource itself, not the walk
    if resource.get("resourceType") != "Bundle":
        return []
    btype = resource.get("type") if isinstance(resource.get("type"), str) else ""
    issues = _links(resource.get("link"), btype)
    entries = resource.get("entry")
    if isinstance(entries, list):
        for i, entry in enumerate(entries):
            if isinstance(entry, dict):
                issues += _entry(entry, f"Bundle.entry[{i}]", btype)
    return issues


def _links(links: Any, btype: str) -> list[Issue]:
    if not isinstance(links, list):
        return []
    issues: list[Issue] = []
    single = _SINGLE.get(btype, ("self",))
    seen: set[str] = set()
    for i, link in enumerate(links):
        relation = link.get("relation") if isinstance(link, dict) else None
        if not isinstance(relation, str):
            continue
        path = f"Bundle.link[{i}].relation"
        if relation in single and relation in seen:
            issues.append(_issue(path, f"the link relation '{relation}' occurs more than once; it names one URL"))
        elif relation in PAGING and relation not in single:
            issues.append(_issue(path, f"the link relation '{relation}' pages search or history results; it means nothing in a {btype or 'Bundle'} Bundle", "warning"))
        seen.add(relation)
    return issues


def _entry(entry: dict[str, Any], path: str, btype: str) -> list[Issue]:
    issues: list[Issue] = []
    resource = entry.get("resource")
    resource = resource if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str) else None
    full_url = entry.get("fullUrl")
    if isinstance(full_url, str) and full_url:
        issues += _full_url(full_url, resource, entry, path)
    if btype == "searchset" and resource is not None:
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, dict) else None
        if mode in ("match", "include") and not resource.get("id"):
            issues.append(_issue(f"{path}.resource", f"a search result (search.mode '{mode}') is a resource of the server, so it must have an id"))
        elif mode == "outcome" and resource["resourceType"] != "OperationOutcome":
            issues.append(_issue(f"{path}.resource", f"an entry with search.mode 'outcome' must be an OperationOutcome, not {resource['resourceType']}"))
    return issues


def _full_url(full_url: str, resource: dict[str, Any] | None, entry: dict[str, Any], path: str) -> list[Issue]:
    where = f"{path}.fullUrl"
    if not is_absolute(full_url):
        return [_issue(where, f"the fullUrl must be an absolute URL, not '{full_url}' (urn:uuid:, urn:oid: or a server's URL)")]
    url = rest_url(full_url)
    if url is None or resource is None or url.version is not None:  # a versioned fullUrl: bdl-8
        return []
    rtype, rid = resource["resourceType"], resource.get("id")
    if rid is not None and not isinstance(rid, str):
        return []  # malformed: the structure walk says so
    if not rid:
        request = entry.get("request")
        if isinstance(request, dict) and request.get("method") == "POST":
            return []  # a create: the fullUrl is a temporary identity
        return [_issue(where, f"the fullUrl '{full_url}' is a RESTful URL naming {url.type}/{url.id}, but the resource has no id")]
    if (url.type, url.id) != (rtype, rid):
        return [_issue(where, f"the fullUrl '{full_url}' is a RESTful URL, so it must end with the resource's type and id, {rtype}/{rid}")]
    return []
