"""Hyperlinks in narratives: where an ``<a href>`` may point.

* an internal link (``#x``) must land somewhere: an element or resource id of the resource
  (its contained resources included), or an ``id``/``<a name>`` in one of its narratives; in
  a Bundle, anything in the Bundle (R4 narrative.html: narratives link to contained resources
  and to each other this way). None is an error; several, a warning (the link is ambiguous);
* a link's scheme must be one a reader can follow: ``urn:`` and ``cid:`` name things without
  locating them (the reference validator's "hyperlinkable scheme" rule). ``http``, ``https``,
  ``mailto``, ``tel``, ``ftp``, ``data`` and relative links are fine.

These run in ``validate()`` ($validate, and writes when profiles are mandatory), not in the
structure walk: an internal link can only be judged with the resource (and the Bundle)
around it, which the per-value XHTML check (txt-1/txt-2 in ``structure/formats.py``) does not
have; and R4's txt-1 lists allowed elements and attributes, not URL schemes, so refusing
``urn:`` links on every write would refuse narratives R4 allows. The one scheme rule that is
R4's own, no scripts (``javascript:``, ``vbscript:``), is the structure walk's, on every write.

One generic pass over the JSON; narratives are parsed only if they hold a link (and, for
their ids, only when an internal link needs them). Never raises.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterator
from xml.etree.ElementTree import Element

from ...outcome import Issue
from ..typed import Walk

NOT_LINKABLE = frozenset({"urn", "cid"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
#: the start of every href value: a narrative is parsed only if one may be internal, use a
#: refused scheme, or hide its start behind a character reference
_HREF_STARTS = re.compile(r"""href\s*=\s*["']\s*([^"'\s]{0,12})""")
_HARMLESS = re.compile(r"(?:https?|mailto|tel|ftp|data|javascript|vbscript):|[A-Za-z0-9._~/?\-]*(?:[/?]|$)", re.IGNORECASE)


class _Scope:
    """One resource (with its contained resources): its ids and its narratives."""

    __slots__ = ("_xhtml_ids", "ids", "in_bundle", "narratives", "trees")

    def __init__(self, in_bundle: bool) -> None:
        self.in_bundle = in_bundle
        self.ids: Counter[str] = Counter()
        self.narratives: list[tuple[str, str]] = []  # (path of the div, its XHTML)
        self.trees: dict[int, Element | None] = {}
        self._xhtml_ids: Counter[str] | None = None

    def tree(self, i: int) -> Element | None:
        if i not in self.trees:
            self.trees[i] = _parse(self.narratives[i][1])
        return self.trees[i]

    def xhtml_ids(self) -> Counter[str]:
        if self._xhtml_ids is None:
            self._xhtml_ids = Counter()
            for i, (_, div) in enumerate(self.narratives):
                if "id=" in div or "name=" in div:
                    self._xhtml_ids.update(_anchors(self.tree(i)))
        return self._xhtml_ids

    def count(self, fragment: str) -> int:
        return self.ids[fragment] + self.xhtml_ids()[fragment]


def _parse(div: str) -> Element | None:
    from defusedxml import ElementTree as SafeET

    try:
        return SafeET.fromstring(div)
    except Exception:  # not well-formed: the structure walk reports it (txt-1)
        return None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _anchors(root: Element | None) -> Iterator[str]:
    """The targets an XHTML tree offers: every ``id``, and ``<a name>`` (once if it equals the id)."""
    if root is None:
        return
    for el in root.iter():
        found = el.get("id")
        if found:
            yield found
        name = el.get("name") if _local(el.tag) == "a" else None
        if name and name != found:
            yield name


def scopes(resource: dict[str, Any]) -> list[_Scope]:
    """Every resource in ``resource`` that is its own scope, in document order: the root, and
    the Bundle entries and Parameters resources inside it (contained resources belong to their
    container's scope)."""
    out = [_Scope(False)]
    stack: list[tuple[Any, str, int, bool]] = [(resource, str(resource.get("resourceType")), 0, False)]
    while stack:
        node, path, scope, in_bundle = stack.pop()
        if isinstance(node, list):
            stack.extend((node[i], f"{path}[{i}]", scope, in_bundle) for i in range(len(node) - 1, -1, -1))
            continue
        if not isinstance(node, dict):
            continue
        in_bundle = in_bundle or node.get("resourceType") == "Bundle"
        children: list[tuple[Any, str, int, bool]] = []
        for key, value in node.items():
            sub = f"{path}.{key}"
            if key == "id" and isinstance(value, str):
                out[scope].ids[value] += 1
            elif key == "text" and isinstance(value, dict) and isinstance(value.get("div"), str):
                out[scope].narratives.append((f"{sub}.div", value["div"]))
            if isinstance(value, dict) and isinstance(value.get("resourceType"), str) and key != "contained":
                out.append(_Scope(in_bundle))
                children.append((value, sub, len(out) - 1, in_bundle))
            elif isinstance(value, (dict, list)):
                children.append((value, sub, scope, in_bundle))
        stack.extend(reversed(children))
    return out


class _Everything:
    """All the ids of all scopes: where an internal link in a Bundle may land (built once, if needed)."""

    def __init__(self, found: list[_Scope]) -> None:
        self.found = found
        self.ids: Counter[str] | None = None

    def count(self, fragment: str) -> int:
        if self.ids is None:
            self.ids = Counter()
            for s in self.found:
                self.ids.update(s.ids)
                self.ids.update(s.xhtml_ids())
        return self.ids[fragment]


def check(resource: dict[str, Any], walk: Walk | None = None) -> list[Issue]:  # reads the resource itself, not the walk
    found = scopes(resource)
    everything = _Everything(found)
    issues: list[Issue] = []
    for scope in found:
        for i, (path, div) in enumerate(scope.narratives):
            if "href" not in div or all(_HARMLESS.match(v) for v in _HREF_STARTS.findall(div)):
                continue
            for href, text in _links(scope.tree(i)):
                problem, severity = _judge(href, scope, everything)
                if problem:
                    shown = f" ('{text}')" if text else ""
                    issues.append(Issue("invalid", f"{path}: the hyperlink '{href}'{shown} {problem}", (path,), severity))  # type: ignore[arg-type]
    return issues


def _links(root: Element | None) -> Iterator[tuple[str, str]]:
    if root is None:
        return
    for el in root.iter():
        href = el.get("href") if _local(el.tag) == "a" else None
        if href is not None:
            yield href, " ".join("".join(el.itertext()).split())[:80]


def _judge(href: str, scope: _Scope, everything: _Everything) -> tuple[str, str]:
    """(what is wrong, severity), or ("", "")."""
    href = href.strip()  # as a browser reads it
    if href.startswith("#") and len(href) > 1:
        fragment = href[1:]
        n = scope.count(fragment)
        if n == 0 and scope.in_bundle:
            n = everything.count(fragment)
        if n == 0:
            where = "the resource, its contained resources, its narratives nor its Bundle" if scope.in_bundle else "the resource, its contained resources nor its narratives"
            return f"does not resolve: nothing in {where} has the id (or <a name>) '{fragment}'", "error"
        if n > 1:
            return f"is ambiguous: {n} elements have the id (or <a name>) '{fragment}'", "warning"
        return "", ""
    m = _SCHEME.match(href)
    scheme = m.group(1).lower() if m else ""
    if scheme in NOT_LINKABLE:
        return f"uses the scheme '{scheme}', which names a thing without locating it; a reader cannot follow it (use http(s), or '#' and an id in the narrative)", "error"
    return "", ""
