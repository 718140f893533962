"""The backend-neutral search index and the query terms both stores understand.

The FHIR layer extracts search values from a resource once, at write time, as a tuple
of the ``*Value`` rows below (one row per value per search parameter). A store saves
them next to the current version and answers queries made of the ``Term`` nodes below.
No store knows a FHIR rule: which values a parameter indexes, how a string is
normalised or what ``le2025-01`` means is decided before anything reaches a store.

Times are integers: microseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

# --------------------------------------------------------------------------- values

@dataclass(frozen=True, slots=True)
class TokenValue:
    """``system|code`` (identifier, coding, code, boolean, id...). ``text`` feeds ``:text``."""

    param: str
    system: str | None
    code: str | None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class StringValue:
    """``norm`` is the folded form (lower case, accents stripped) that searches compare."""

    param: str
    norm: str
    exact: str


@dataclass(frozen=True, slots=True)
class DateValue:
    """The instant range ``[low, high]`` a date, dateTime, instant or Period covers."""

    param: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class ReferenceValue:
    """``target`` is ``Type/id`` for local references, the URL otherwise."""

    param: str
    target: str


@dataclass(frozen=True, slots=True)
class NumberValue:
    param: str
    value: float


@dataclass(frozen=True, slots=True)
class QuantityValue:
    param: str
    value: float
    system: str | None
    code: str | None


@dataclass(frozen=True, slots=True)
class UriValue:
    param: str
    uri: str


IndexValue = Union[TokenValue, StringValue, DateValue, ReferenceValue, NumberValue, QuantityValue, UriValue]

# ---------------------------------------------------------------------------- terms


class _Any:
    """Sentinel: the system of a token term may be anything (``code`` alone)."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


@dataclass(frozen=True, slots=True)
class IdIn:
    """The resource's logical id is one of ``ids``."""

    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TokenMatch:
    """A :class:`TokenValue` of ``param`` matches.

    ``system``: ``ANY`` matches any system, ``None`` only values without a system, a string
    that system. ``code``: ``None`` matches any code (``system|``), a string that code exactly.
    """

    param: str
    system: str | None | _Any
    code: str | None


@dataclass(frozen=True, slots=True)
class LastUpdated:
    """``meta.lastUpdated`` compared with ``value`` (``op`` in the usual sense)."""

    op: Literal["lt", "le", "gt", "ge"]
    value: int


#: the columns each value kind has, as :class:`Cond` names them
KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "token": ("system", "code", "text"),
    "string": ("norm", "exact"),
    "date": ("low", "high"),
    "reference": ("target",),
    "number": ("value",),
    "quantity": ("value", "system", "code"),
    "uri": ("uri",),
}

#: which column a kind sorts by (dates: ``low`` ascending, ``high`` descending)
SORT_COLUMN: dict[str, tuple[str, str]] = {
    "token": ("code", "code"),
    "string": ("norm", "norm"),
    "date": ("low", "high"),
    "reference": ("target", "target"),
    "number": ("value", "value"),
    "quantity": ("value", "value"),
    "uri": ("uri", "uri"),
}

CondOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "prefix", "contains", "in"]


@dataclass(frozen=True, slots=True)
class Cond:
    """One condition on one column of an index row.

    ``eq`` with ``None`` means the column is empty (null); ``prefix``/``contains`` compare
    text; ``in`` takes a tuple of values; the others compare numbers or text in order.
    """

    column: str
    op: CondOp
    value: str | int | float | None | tuple[str | int | float, ...]


@dataclass(frozen=True, slots=True)
class ValueMatch:
    """Some *single* index row of ``kind`` for ``param`` satisfies every condition.

    The conditions are a row-level AND (a date range ``low >= a AND high <= b`` must hold on
    one value, not on two different ones). With no conditions: the resource has at least
    one value for ``param`` (``:missing=false``; wrap in :class:`Not` for ``:missing=true``).
    """

    param: str
    kind: str
    conds: tuple[Cond, ...] = ()


@dataclass(frozen=True, slots=True)
class TypeIs:
    """The resource is of one of ``types`` (searches across types, ``$everything``)."""

    types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class All:
    """Every term holds (FHIR: repeated parameters)."""

    terms: tuple["Term", ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one term holds (FHIR: comma-separated values)."""

    terms: tuple["Term", ...]


@dataclass(frozen=True, slots=True)
class Not:
    term: "Term"


Term = Union[IdIn, TokenMatch, LastUpdated, ValueMatch, TypeIs, All, AnyOf, Not]


class UnsupportedTerm(Exception):
    """Raised by a store for a term kind it cannot answer (a programming error, not client input)."""
