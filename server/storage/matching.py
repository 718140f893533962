"""Does one resource's index satisfy a query term? The in-process reading of :mod:`.index`.

The stores answer terms over many rows at once; this answers them for a single resource
whose index values are at hand (a version fetched by id, an old version in history), so
a rule written as a term (an access restriction, a compartment) is applied the same way
whether a resource comes from a search or from a direct read.
"""

from __future__ import annotations

from typing import Any, Iterable

from .index import (
    ANY, All, AnyOf, Cond, DateValue, IdIn, IndexValue, LastUpdated, Not, NumberValue, QuantityValue,
    ReferenceValue, StringValue, Term, TokenMatch, TokenValue, TypeIs, UriValue, ValueMatch,
)

KIND_OF: dict[type, str] = {
    TokenValue: "token", StringValue: "string", DateValue: "date", ReferenceValue: "reference",
    NumberValue: "number", QuantityValue: "quantity", UriValue: "uri",
}


def _cond(cond: Cond, value: Any) -> bool:
    op, want = cond.op, cond.value
    if op == "eq":
        return value is None if want is None else value is not None and value == want
    if op == "ne":
        return value is not None if want is None else value is None or value != want
    if op == "in":
        return value is not None and value in want  # type: ignore[operator]
    if value is None:
        return False
    if op == "prefix":
        return isinstance(value, str) and value.startswith(want)  # type: ignore[arg-type]
    if op == "contains":
        return isinstance(value, str) and want in value  # type: ignore[operator]
    return {"lt": value < want, "le": value <= want, "gt": value > want, "ge": value >= want}[op]  # type: ignore[operator]


def holds(term: Term, type_: str, id_: str, ts: int, values: Iterable[IndexValue]) -> bool:
    """``term`` holds for the resource ``type_/id_`` last updated at ``ts`` with these index values."""
    values = tuple(values)

    def check(t: Term) -> bool:
        match t:
            case IdIn(ids):
                return id_ in ids
            case TypeIs(types):
                return type_ in types
            case TokenMatch(param, system, code):
                return any(
                    isinstance(v, TokenValue) and v.param == param and (code is None or v.code == code)
                    and (system is ANY or v.system == system)
                    for v in values
                )
            case ValueMatch(param, kind, conds):
                return any(
                    v.param == param and KIND_OF[type(v)] == kind and all(_cond(c, getattr(v, c.column)) for c in conds)
                    for v in values
                )
            case LastUpdated(op, value):
                return {"lt": ts < value, "le": ts <= value, "gt": ts > value, "ge": ts >= value}[op]
            case All(terms):
                return all(check(x) for x in terms)
            case AnyOf(terms):
                return any(check(x) for x in terms)
            case Not(inner):
                return not check(inner)
        raise TypeError(f"not a query term: {t!r}")

    return check(term)
