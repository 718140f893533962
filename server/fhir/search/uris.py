"""URI search values (uri, url, canonical, oid, uuid elements) and the parsing of uri
query values.

A string node becomes ``UriValue(param, uri)``; a canonical with a version (``url|1.0``) is
indexed both as written and without the version, so ``url`` finds every version.
"""

from __future__ import annotations

from typing import Any, Iterator

from ...storage.index import Cond, Term, UriValue, ValueMatch


def uri_values(param: str, node: Any) -> Iterator[UriValue]:
    """The uri rows one selected JSON node contributes."""
    if isinstance(node, str) and node:
        yield UriValue(param, node)
        url, bar, _ = node.partition("|")
        if bar and url:
            yield UriValue(param, url)


def above_prefixes(value: str) -> tuple[str, ...]:
    """The uris ``value`` is "below": itself and each shorter path at a ``/``, with and
    without the trailing slash, never cutting into the scheme and authority
    (``http://a.vn/fhir/ValueSet/x`` → ``…/ValueSet/x``, ``…/ValueSet/``, ``…/ValueSet``, …,
    ``http://a.vn/``, ``http://a.vn``)."""
    scheme_end = value.find("://")
    floor = value.find("/", scheme_end + 3) if scheme_end >= 0 else -1
    out = [value]
    if floor < 0:
        return tuple(out)
    cut = len(value)
    while True:
        cut = value.rfind("/", 0, cut)
        if cut < floor:
            break
        for candidate in (value[: cut + 1], value[:cut]):
            if candidate and candidate not in out:
                out.append(candidate)
    return tuple(out)


def uri_term(param: str, modifier: str, value: str) -> Term | None:
    """ONE uri query value as a term; ``None`` for a modifier uris do not support.

    * no modifier: the uri equals the value exactly;
    * ``:below``: the uri starts with the value;
    * ``:above``: the value starts with the uri, at a path boundary (:func:`above_prefixes`).
    """
    if modifier == "":
        cond = Cond("uri", "eq", value)
    elif modifier == "below":
        cond = Cond("uri", "prefix", value)
    elif modifier == "above":
        prefixes = above_prefixes(value)
        cond = Cond("uri", "eq", value) if len(prefixes) == 1 else Cond("uri", "in", prefixes)
    else:
        return None
    return ValueMatch(param, "uri", (cond,))
