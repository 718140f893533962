"""One search value → a store term, by parameter type: a registry, like the extractors.

Each builder takes the parameter, the modifier ("" when none) and ONE value (commas and
repeats are the parser's business) and returns a term, or ``None`` when the modifier is
not supported for that type. The value grammar of each type lives in its module
(``tokens``, ``strings``, ``dates``…), next to the extractor that indexes it.
"""

from __future__ import annotations

from typing import Callable

from ...storage.index import Term
from .composites import composite_term
from .dates import date_term
from .numbers import number_term, quantity_term
from .references import reference_term
from .registry import SearchParam
from .strings import string_term
from .tokens import token_term
from .uris import uri_term

Builder = Callable[[SearchParam, str, str], "Term | None"]

#: search-parameter type → the index kind its values are stored as
KINDS: dict[str, str] = {
    "token": "token",
    "string": "string",
    "date": "date",
    "reference": "reference",
    "number": "number",
    "quantity": "quantity",
    "uri": "uri",
}


def _no_modifier(build: Callable[[str, str], Term]) -> Builder:
    return lambda p, modifier, value: build(p.code, value) if modifier == "" else None


BUILDERS: dict[str, Builder] = {
    "token": lambda p, m, v: token_term(p.code, m, v),
    "string": lambda p, m, v: string_term(p.code, m, v),
    "date": _no_modifier(date_term),
    "reference": lambda p, m, v: reference_term(p.code, m, v, p.targets),
    "number": _no_modifier(number_term),
    "quantity": _no_modifier(quantity_term),
    "uri": lambda p, m, v: uri_term(p.code, m, v),
    "composite": lambda p, m, v: composite_term(p, v, p.resource_type) if m == "" else None,
}


def build_term(param: SearchParam, modifier: str, value: str) -> Term | None:
    builder = BUILDERS.get(param.type)
    return builder(param, modifier, value) if builder else None
