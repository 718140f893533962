"""String search values: the folding every string comparison uses, the rows a string
parameter indexes, the narrative (``_text``) and the parsing of string query values.

FHIR string search is case- and accent-insensitive by default, which for Vietnamese means
``nguyen van duc`` must find ``Nguyễn Văn Đức``. Both sides go through :func:`fold`:
case folding, Unicode NFD with every combining mark dropped (the tone and vowel marks of
ễ, ă, ơ, ư...), ``đ``/``Đ`` mapped to ``d`` (they are letters of their own and do not
decompose), whitespace runs collapsed to one space, and the ends stripped.

Rows (:class:`StringValue`): ``norm`` is the folded text that default and ``:contains``
searches compare, ``exact`` the original text that ``:exact`` compares.

Which strings a complex node contributes:

* a string: itself;
* HumanName: ``text``, ``family``, each ``given``, each ``prefix``, each ``suffix``, and
  ``family given…`` joined with spaces (the Vietnamese order: ``Nguyễn Văn Đức``);
* Address: ``text``, each ``line``, ``city``, ``district``, ``state``, ``postalCode``, ``country``;
* anything else: every string leaf, at any depth up to :data:`_MAX_DEPTH`, except under
  ``id``, ``extension``, ``modifierExtension``, ``system``, ``url`` and ``reference``
  (identifiers of things, not text a person would search by name).
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Any, Iterator

from ...storage.index import Cond, StringValue, Term, ValueMatch

_combining = unicodedata.combining
_normalize = unicodedata.normalize

#: keys whose subtrees hold no searchable text (generic complex nodes only)
_SKIP_KEYS = frozenset({"id", "extension", "modifierExtension", "system", "url", "reference"})
_MAX_DEPTH = 6
_ADDRESS_KEYS = ("text", "line", "city", "district", "state", "postalCode", "country")
_NAME_PARTS = ("given", "prefix", "suffix")


def fold(text: str) -> str:
    """The normalised form of ``text`` every string comparison uses.

    >>> fold("  Nguyễn   Văn ĐỨC ")
    'nguyen van duc'

    Short texts are memoised: a name is folded for ``name``, ``family``, ``given`` and
    ``phonetic`` alike; long ones (narratives) are not kept.
    """
    return _fold_cached(text) if len(text) <= 200 else _fold(text)


def _fold(text: str) -> str:
    if text.isascii():
        return " ".join(text.lower().split())
    # casefold first: it may itself produce combining marks (İ -> i + U+0307)
    decomposed = _normalize("NFD", text.casefold())
    stripped = "".join(c for c in decomposed if not _combining(c))
    return " ".join(stripped.replace("đ", "d").split())


_fold_cached = lru_cache(maxsize=8192)(_fold)


def _row(param: str, text: Any) -> StringValue | None:
    if not isinstance(text, str):
        return None
    norm = fold(text)
    return StringValue(param, norm, text) if norm else None


def string_values(param: str, node: Any) -> Iterator[StringValue]:
    """The string rows one selected JSON node contributes."""
    if isinstance(node, str):
        row = _row(param, node)
        if row is not None:
            yield row
        return
    if not isinstance(node, dict):
        return
    if "family" in node or "given" in node:
        texts = _human_name(node)
    elif any(k in node for k in _ADDRESS_KEYS[1:]):
        texts = _address(node)
    else:
        texts = _leaves(node, 0)
    seen: set[str] = set()
    for text in texts:
        if text in seen:
            continue
        seen.add(text)
        row = _row(param, text)
        if row is not None:
            yield row


def _strings(value: Any) -> list[str]:
    """A string element or a list of them, as a list of the strings (others ignored)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _human_name(node: dict[str, Any]) -> list[str]:
    out = _strings(node.get("text"))
    family = _strings(node.get("family"))
    given = _strings(node.get("given"))
    out += family
    for part in _NAME_PARTS:
        out += _strings(node.get(part))
    if family and given:
        out.append(" ".join(family + given))
    return out


def _address(node: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key in _ADDRESS_KEYS:
        out += _strings(node.get(key))
    return out


def _leaves(node: Any, depth: int) -> list[str]:
    if isinstance(node, str):
        return [node]
    if depth >= _MAX_DEPTH:
        return []
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in _SKIP_KEYS:
                out += _leaves(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            out += _leaves(value, depth + 1)
    return out


# ------------------------------------------------------------------------ narrative

_TAG = re.compile(r"<[^>]*>")


def narrative_text(div: str) -> str:
    """The text of an XHTML narrative: tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", div)).split())


def narrative_values(param: str, node: Any) -> Iterator[StringValue]:
    """``_text``: the narrative ``text.div`` as ONE row, its text without markup."""
    if isinstance(node, str):
        row = _row(param, narrative_text(node))
        if row is not None:
            yield row


# -------------------------------------------------------------------------- parsing

#: parameters whose default (unmodified) search is ``contains`` rather than ``starts with``:
#: the narrative is one long row, where a prefix match would only ever test its first words
CONTAINS_BY_DEFAULT = frozenset({"_text"})


def string_term(param: str, modifier: str, value: str) -> Term | None:
    """ONE string query value as a term; ``None`` for a modifier strings do not support.

    * no modifier: the folded value is a prefix of a folded row (``_text``: contained in it);
    * ``:contains``: the folded value occurs anywhere in a folded row;
    * ``:exact``: the row's original text equals the value exactly (case, accents, spaces).
    """
    if modifier == "exact":
        return ValueMatch(param, "string", (Cond("exact", "eq", value),))
    if modifier == "contains" or (modifier == "" and param in CONTAINS_BY_DEFAULT):
        return ValueMatch(param, "string", (Cond("norm", "contains", fold(value)),))
    if modifier == "":
        return ValueMatch(param, "string", (Cond("norm", "prefix", fold(value)),))
    return None
