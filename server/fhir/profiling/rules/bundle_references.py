"""References inside a Bundle, resolved by R4's rules, and what documents and messages need of them.

Resolution (R4 bundle.html#references): an absolute reference matches the entry whose
fullUrl is the same string (``urn:uuid:``, ``urn:oid:`` and other URLs alike); a relative
``[type]/[id]`` is made absolute against the RESTful base of the referring entry's fullUrl
(``http://h.vn/fhir/Composition/1`` + ``Patient/2`` = ``http://h.vn/fhir/Patient/2``) and has
no defined meaning when that fullUrl is not RESTful; a version-specific reference
(``…/_history/2``) matches on the URL without its version and then on ``meta.versionId``;
``#x`` points into the resource itself (not this module's business).

Then, in every Bundle except history (where one URL is rightly held by several versions):
* a reference that matches several entries is ambiguous (an error);
* the entry a reference resolves to must be of the type the reference names (its
  ``[type]/`` part, or ``Reference.type``);
* a relative reference that R4 gives no meaning, from an entry whose fullUrl is a
  ``urn:uuid:``/``urn:oid:``, whose id is nonetheless an entry's urn (``Practitioner/5d95…``
  beside ``urn:uuid:5d95…``) must name that entry's type (the reference validator reads such
  references so; a different type is wrong on either reading);
* a narrativeLink extension (``url#fragment``) must land on an id in its target.

In a document (R4 documents.html) the Composition's subject, encounter, authors,
attesters, custodian, event details and its sections' authors, focus and entries must
resolve to entries; every entry must be reachable from the Composition by references
(an entry that only references into the document, as a Provenance does, is reachable
backwards: a warning, except for Provenance); a relative stylesheet link must name an entry.
In a message, MessageHeader.focus must resolve.

Linear in the Bundle: one index of fullUrls, one typed walk of each entry (driven by the
compiled R4 table, so only real Reference, uri and url elements count), one graph search.
Never raises on malformed content.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator

from ...outcome import Issue, Severity
from ...structure.table import structure
from .narrative_links import scopes
from .rest_urls import is_absolute, rest_url
from ..typed import Walk

NARRATIVE_LINK = "http://hl7.org/fhir/StructureDefinition/narrativeLink"
REF, URI, NL = "reference", "uri", "narrativeLink"
#: uri/url elements that name code systems, definitions or endpoints, not entries
_NOT_LINKS = frozenset({("Extension", "url"), ("Reference", "type"), ("Bundle.entry", "fullUrl")})
#: the only resource expected to reference into a document rather than be referenced
_BACKWARD_OK = frozenset({"Provenance"})

Link = tuple[str, str, str, "str | None"]  # (path, value, kind, Reference.type)


def _issue(path: str, text: str, severity: Severity = "error", code: str = "invalid") -> Issue:
    return Issue(code, f"{path}: {text}", (path,), severity)


class Entries:
    """The Bundle's entries, indexed by fullUrl."""

    def __init__(self, entries: list[Any]) -> None:
        self.resources: list[dict[str, Any] | None] = []
        self.full_urls: list[str | None] = []
        self.by_url: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            entry = entry if isinstance(entry, dict) else {}
            resource = entry.get("resource")
            ok = isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)
            self.resources.append(resource if ok else None)  # type: ignore[arg-type]
            url = entry.get("fullUrl")
            self.full_urls.append(url if isinstance(url, str) else None)
            if isinstance(url, str) and ok:
                self.by_url.setdefault(url, []).append(i)

    def type_of(self, i: int) -> str:
        return self.resources[i]["resourceType"]  # type: ignore[index]

    def version_of(self, i: int) -> Any:
        meta = self.resources[i].get("meta")  # type: ignore[union-attr]
        return meta.get("versionId") if isinstance(meta, dict) else None

    def resolve(self, ref: str, source: str | None) -> list[int] | None:
        """The entries ``ref`` (fragment removed) names from the entry with fullUrl ``source``:
        [] when none has its URL, None when R4 gives it no meaning in a Bundle."""
        target, version = ref, None
        if is_absolute(ref):
            url = rest_url(ref)
            if url is not None and url.base and url.version is not None:
                target, version = url.unversioned, url.version
        else:
            url = rest_url(ref)
            base = rest_url(source) if source else None
            if url is None or base is None or not base.base:
                return None
            target, version = base.base + url.unversioned, url.version
        found = self.by_url.get(target, [])
        return found if version is None else [i for i in found if self.version_of(i) == version]


def check(resource: dict[str, Any], walk: Walk | None = None) -> list[Issue]:  # reads the resource itself, not the walk
    if resource.get("resourceType") != "Bundle" or not isinstance(resource.get("entry"), list):
        return []
    btype = resource.get("type")
    entries = Entries(resource["entry"])
    issues: list[Issue] = []
    edges: list[set[int]] = [set() for _ in entries.resources]
    if btype != "history":
        for i, res in enumerate(entries.resources):
            if res is not None:
                issues += _entry_links(entries, i, res, edges[i])
    first = entries.resources[0] if entries.resources else None
    if btype == "document" and first is not None and first["resourceType"] == "Composition":
        issues += _required(entries, _composition_references(first, "Bundle.entry[0].resource"), "the Composition of a document")
        roots = {0} | _stylesheets(resource.get("link"), entries, issues)
        issues += _unreachable(entries, edges, roots)
    elif btype == "message" and first is not None and first["resourceType"] == "MessageHeader":
        focus = first.get("focus")
        found = [(f"Bundle.entry[0].resource.focus[{k}]", f) for k, f in enumerate(focus)] if isinstance(focus, list) else []
        issues += _required(entries, found, "the MessageHeader of a message")
    return issues


# -- every reference of every entry


def links(resource: dict[str, Any], path: str) -> Iterator[Link]:
    """The Reference.reference, uri and url values in ``resource`` (contained resources
    included, nested Bundles not), found by its R4 structure."""
    st = structure()
    meta = st.resource_meta(resource.get("resourceType"))  # type: ignore[arg-type]
    stack = [(resource, meta, path)] if meta is not None else []
    while stack:
        obj, meta, where = stack.pop()
        linking = meta.is_extension and obj.get("url") == NARRATIVE_LINK
        for key, value in obj.items():
            f = meta.fields.get(key)
            if f is None:
                continue
            items = [(v, f"{where}.{key}[{k}]") for k, v in enumerate(value)] if isinstance(value, list) else [(value, f"{where}.{key}")]
            for item, p in items:
                if f.prim is not None:
                    if f.prim in ("uri", "url") and isinstance(item, str) and key != "system" and (meta.type_name, key) not in _NOT_LINKS:
                        yield p, item, NL if linking and f.choice == "value" else URI, None
                elif not isinstance(item, dict):
                    continue
                elif f.is_resource:
                    rtype = item.get("resourceType")
                    sub = st.resource_meta(rtype) if isinstance(rtype, str) and rtype != "Bundle" else None
                    if sub is not None:
                        stack.append((item, sub, p))
                else:
                    if f.type_key == "Reference" and isinstance(item.get("reference"), str) and item["reference"]:
                        kind = item.get("type")
                        yield p, item["reference"], REF, kind if isinstance(kind, str) else None
                    stack.append((item, st.field_meta(f), p))


def _entry_links(entries: Entries, i: int, resource: dict[str, Any], targets: set[int]) -> list[Issue]:
    issues: list[Issue] = []
    source = entries.full_urls[i]
    for path, value, kind, declared in links(resource, f"Bundle.entry[{i}].resource"):
        ref, _, fragment = value.partition("#")
        if not ref:  # into the resource itself: only a narrative link's landing is checked here
            if kind == NL and fragment:
                issues += _fragment(resource, path, value, fragment)
            continue
        found = entries.resolve(ref, source)
        if found is None:
            if kind == REF:
                issues += _apparent(entries, path, ref, source)
            continue
        targets.update(j for j in found if j != i)
        if kind == REF and len(found) > 1:
            issues.append(_issue(path, f"the reference '{ref}' matches {len(found)} entries ({', '.join(f'entry[{j}]' for j in found)}); it must name one"))
        elif kind == REF and len(found) == 1:
            expected = rest_url(ref).type if rest_url(ref) is not None else declared  # type: ignore[union-attr]
            actual = entries.type_of(found[0])
            if expected and expected != actual:
                issues.append(_issue(path, f"the reference '{ref}' resolves to entry[{found[0]}], which is {_a(actual)}, not {_a(expected)}"))
        elif kind == NL and len(found) == 1 and fragment:
            issues += _fragment(entries.resources[found[0]], path, value, fragment)  # type: ignore[arg-type]
    return issues


def _apparent(entries: Entries, path: str, ref: str, source: str | None) -> list[Issue]:
    """A relative reference R4 gives no meaning, from an entry named by a urn, whose id is an entry's urn."""
    url = rest_url(ref)
    if url is None or url.version is not None or not source:
        return []
    prefix = next((p for p in ("urn:uuid:", "urn:oid:") if source.startswith(p)), None)
    found = entries.by_url.get(f"{prefix}{url.id}", []) if prefix else []
    if len(found) != 1 or entries.type_of(found[0]) == url.type:
        return []
    return [_issue(path, f"the reference '{ref}' has no meaning in this Bundle by R4's rules (the entry's fullUrl '{source}' is not a RESTful URL "
                         f"to resolve it against), and the entry it appears to name, '{prefix}{url.id}', is {_a(entries.type_of(found[0]))}, not {_a(url.type)}")]


def _fragment(target: dict[str, Any], path: str, value: str, fragment: str) -> list[Issue]:
    count = scopes(target)[0].count(fragment)
    if count == 0:
        return [_issue(path, f"the narrative link '{value}' does not land: its target has no element or narrative with the id '{fragment}'")]
    if count > 1:
        return [_issue(path, f"the narrative link '{value}' is ambiguous: {count} elements of its target have the id '{fragment}'", "warning")]
    return []


# -- documents and messages


def _composition_references(composition: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    """(path, Reference) of what a document must contain: R4 documents.html."""
    out: list[tuple[str, Any]] = []

    def add(node: Any, where: str, names: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        for name in names:
            value = node.get(name)
            if isinstance(value, list):
                out.extend((f"{where}.{name}[{k}]", v) for k, v in enumerate(value))
            elif value is not None:
                out.append((f"{where}.{name}", value))

    add(composition, path, ("subject", "encounter", "author", "custodian"))
    for name, inner in (("attester", "party"), ("event", "detail")):
        items = composition.get(name)
        for k, item in enumerate(items if isinstance(items, list) else []):
            add(item, f"{path}.{name}[{k}]", (inner,))
    top = composition.get("section")
    sections = [(s, f"{path}.section[{k}]") for k, s in enumerate(top)] if isinstance(top, list) else []
    while sections:
        section, where = sections.pop()
        if not isinstance(section, dict):
            continue
        add(section, where, ("author", "focus", "entry"))
        inner = section.get("section")
        if isinstance(inner, list):
            sections.extend((s, f"{where}.section[{k}]") for k, s in enumerate(inner))
    return out


def _required(entries: Entries, refs: list[tuple[str, Any]], holder: str) -> list[Issue]:
    """References that must resolve to an entry (ambiguity is reported with every reference)."""
    issues: list[Issue] = []
    source = entries.full_urls[0]
    for path, node in refs:
        ref = node.get("reference") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref or ref.startswith("#"):
            continue
        found = entries.resolve(ref.partition("#")[0], source)
        if found is None:
            why = (f"it is relative, and the fullUrl of {holder} ('{source}') is not a RESTful URL to resolve it against"
                   if rest_url(ref) is not None else "it is neither an absolute URL nor [type]/[id]")
            issues.append(_issue(path, f"the reference '{ref}' cannot be resolved in the Bundle: {why} (R4 bundle.html#references); references of {holder} must resolve to entries"))
        elif not found:
            issues.append(_issue(path, f"the reference '{ref}' resolves to no entry of the Bundle; references of {holder} must resolve to entries", code="not-found"))
    return issues


def _stylesheets(links_: Any, entries: Entries, issues: list[Issue]) -> set[int]:
    """Entries a document's relative stylesheet links name (and an error for each that names none)."""
    named: set[int] = set()
    if not isinstance(links_, list):
        return named
    by_id: dict[str, int] | None = None
    for k, link in enumerate(links_):
        if not isinstance(link, dict) or link.get("relation") != "stylesheet" or not isinstance(link.get("url"), str):
            continue
        url = link["url"]
        if is_absolute(url):
            continue
        if by_id is None:
            by_id = {f"{r['resourceType']}/{r.get('id')}": j for j, r in enumerate(entries.resources) if r is not None}
        if url in by_id:
            named.add(by_id[url])
        else:
            issues.append(_issue(f"Bundle.link[{k}].url", f"the stylesheet '{url}' is a relative URL, but no entry of the document is {url}", code="not-found"))
    return named


def _unreachable(entries: Entries, edges: list[set[int]], roots: set[int]) -> list[Issue]:
    """Entries no chain of references connects to the Composition (errors), or only backwards (warnings)."""
    backward: list[set[int]] = [set() for _ in edges]
    for i, targets in enumerate(edges):
        for j in targets:
            backward[j].add(i)
    seen = set(roots)
    forward, reverse = deque(sorted(roots)), deque()  # type: ignore[var-annotated]
    late: list[int] = []
    while forward or reverse:
        i = forward.popleft() if forward else reverse.popleft()
        for j in edges[i]:
            if j not in seen:
                seen.add(j)
                forward.append(j)
        for j in backward[i]:
            if j not in seen:
                seen.add(j)
                late.append(j)
                reverse.append(j)
    issues: list[Issue] = []
    for j in sorted(late):
        if entries.type_of(j) not in _BACKWARD_OK:
            issues.append(_issue(f"Bundle.entry[{j}]", f"the entry{_named(entries, j)} is reached from the Composition only by referencing into the document; a document's entries are what its Composition references (only a Provenance is expected to point back)", "warning"))
    for j, res in enumerate(entries.resources):
        if res is not None and j not in seen:
            issues.append(_issue(f"Bundle.entry[{j}]", f"the entry{_named(entries, j)} is not connected to the Composition by references, forwards or backwards; a document holds only what its Composition references, directly or indirectly (R4 documents)"))
    return issues


def _a(rtype: str) -> str:
    return f"{'an' if rtype[:1] in 'AEIOU' else 'a'} {rtype}"


def _named(entries: Entries, j: int) -> str:
    return f" '{entries.full_urls[j]}'" if entries.full_urls[j] else ""
