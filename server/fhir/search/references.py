"""Reference search values and the parsing of reference query values.

Extraction (:func:`reference_values`), one :class:`ReferenceValue` ``target`` per reference:

* relative ``Type/id`` (``/_history/n`` dropped): ``Type/id``;
* absolute URL (``http://other/fhir/Patient/1``, ``/_history/n`` dropped): the URL only.
  It is NOT also indexed as ``Patient/1``: in a health-information exchange two hospitals'
  servers both have a ``Patient/1``, and a search for this server's ``Patient/1`` must not
  return records about the other hospital's patient. References to this server's own base
  should be made relative when a resource is written, not guessed at here.
* ``urn:uuid:…`` / ``urn:oid:…``: kept as they are;
* a canonical (a string node): the URL without ``|version``, and also ``url|version`` when
  a version is given, so both ``url`` and ``url|version`` searches find it;
* contained ``#id`` references: skipped (they do not identify a resource of the server).

``Reference.identifier`` (logical references) becomes token rows of the parameter
``param + ":identifier"`` (``TokenValue(param + ":identifier", system, value)``), which
``:identifier`` searches.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from ...storage.index import Cond, ReferenceValue, Term, TokenValue, ValueMatch
from ..identifiers import canonical_system
from ..outcome import bad_request
from .tokens import parse_token

IDENTIFIER = ":identifier"
_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")


def normalize(ref: str) -> str | None:
    """The index form of a reference (see the module notes); ``None`` for ``#contained``."""
    ref = ref.strip()
    if not ref or ref.startswith("#"):
        return None
    if ref.startswith("urn:"):
        return ref
    head, sep, _ = ref.partition("/_history/")
    if sep:
        ref = head
    return ref


def is_absolute(ref: str) -> bool:
    return "://" in ref or ref.startswith("urn:")


def reference_values(param: str, node: Any) -> Iterator[ReferenceValue | TokenValue]:
    """The reference rows (and ``:identifier`` token rows) one selected JSON node contributes."""
    if isinstance(node, str):  # canonical
        url, bar, version = node.partition("|")
        if url.strip() and not url.startswith("#"):
            yield ReferenceValue(param, url)
            if bar and version:
                yield ReferenceValue(param, node)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("reference")
    if isinstance(ref, str):
        target = normalize(ref)
        if target is not None:
            yield ReferenceValue(param, target)
    ident = node.get("identifier")
    if isinstance(ident, dict) and isinstance(ident.get("value"), str):
        system = ident.get("system")
        yield TokenValue(param + IDENTIFIER, canonical_system(system) if isinstance(system, str) else None, ident["value"])


def reference_term(param: str, modifier: str, value: str, target_types: tuple[str, ...] | list[str] = ()) -> Term | None:
    """ONE reference query value as a term; ``None`` for a modifier not supported here.

    * ``Type/id`` (a ``/_history/n`` suffix is ignored), an absolute URL, ``urn:…`` or a
      canonical ``url`` / ``url|version``: that exact target;
    * a bare ``id``: ``Type/id`` for any of the parameter's ``target_types``;
    * ``:Type`` with a bare id (or ``Type/id`` of that type): ``Type/id``; the type must be
      one of ``target_types`` when they are known;
    * ``:identifier``: a token (``system|value``) against ``Reference.identifier``.

    Chaining (``subject.name=…``) and ``:missing`` are the caller's.
    """
    if modifier == "identifier":
        return parse_token(param + IDENTIFIER, value)
    if modifier and not _TYPE.match(modifier):
        return None
    if modifier and target_types and modifier not in target_types:
        raise bad_request(f"'{param}' cannot refer to {modifier} (it refers to {', '.join(target_types)})", f"{param}:{modifier}")
    target = normalize(value)
    if target is None:
        raise bad_request(f"'{value}' is not a reference this server can search for ('{param}')", param)
    if is_absolute(target) or "/" in target:
        if modifier and not is_absolute(target) and target.split("/", 1)[0] != modifier:
            raise bad_request(f"'{param}:{modifier}' takes an id of a {modifier}, got '{value}'", f"{param}:{modifier}")
        return _eq(param, (target,))
    types = (modifier,) if modifier else tuple(target_types)
    if not types:
        raise bad_request(f"'{param}' needs Type/id: the types it refers to are unknown", param)
    return _eq(param, tuple(f"{t}/{target}" for t in types))


def _eq(param: str, targets: tuple[str, ...]) -> ValueMatch:
    cond = Cond("target", "eq", targets[0]) if len(targets) == 1 else Cond("target", "in", targets)
    return ValueMatch(param, "reference", (cond,))
