"""Number and quantity search values, and the parsing of their query values.

Extraction:

* number: an integer or decimal element → ``NumberValue(param, float)`` (JSON numbers arrive
  as ``int`` or ``decimal.Decimal``; booleans, non-finite and out-of-range values are skipped);
* quantity: Quantity, Age, Duration, Distance, Count, SimpleQuantity →
  ``QuantityValue(param, value, system, code)``; when the ``unit`` text differs from the
  ``code`` (or there is no code) a second row ``(value, None, unit)`` lets ``value||unit``
  find it, as R4 asks ("code or unit"). Money → ``(value, "urn:iso:std:iso:4217", currency)``.
  Range, Ratio and SampledData contribute nothing. Units are not converted (no UCUM
  canonicalisation): ``5.4|http://unitsofmeasure.org|g`` does not find ``5400 mg``.

Query values: ``[prefix]number`` and for quantities ``[prefix]number|system|code`` or
``[prefix]number||code`` (code or unit, any system). A number's precision is the one it is
written with (R4 search, "number"): ``5.4`` means ``[5.35, 5.45)``, ``100`` means
``[99.5, 100.5)``, ``100.00`` means ``[99.995, 100.005)``, ``1e2`` one significant figure,
``[50, 150)`` (half a unit of the last significant digit; the R4 page's ``[95, 105)`` for
``1e2`` contradicts its own "1 significant figure", so the rule is applied as stated).
Stored values are compared as points:

=====  ===============================  =====  ====================================
 eq    lo <= v < hi (implicit range)     ne    v < lo or v >= hi
 lt    v < x (exactly)                   le    v <= x
 gt    v > x                             ge    v >= x
 sa    v >= hi (starts after the range)  eb    v < lo (ends before the range)
 ap    lo' <= v <= hi': the implicit range widened to at least x ± 10% of |x|
=====  ===============================  =====  ====================================
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator

from ...storage.index import AnyOf, Cond, NumberValue, QuantityValue, Term, ValueMatch
from ..outcome import bad_request
from .dates import split_prefix

CURRENCY_SYSTEM = "urn:iso:std:iso:4217"
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
        return None
    try:
        f = float(value)
    except (OverflowError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def number_values(param: str, node: Any) -> Iterator[NumberValue]:
    """The number row one selected JSON node contributes (if it is a number)."""
    f = _float(node)
    if f is not None:
        yield NumberValue(param, f)


def quantity_values(param: str, node: Any) -> Iterator[QuantityValue]:
    """The quantity rows one selected JSON node contributes."""
    if not isinstance(node, dict):
        return
    f = _float(node.get("value"))
    if f is None:
        return
    currency = _str(node.get("currency"))
    if currency is not None:
        yield QuantityValue(param, f, CURRENCY_SYSTEM, currency)
        return
    system, code, unit = _str(node.get("system")), _str(node.get("code")), _str(node.get("unit"))
    if code is not None:
        yield QuantityValue(param, f, system, code)
    if unit is not None and unit != code:
        yield QuantityValue(param, f, None, unit)
    elif code is None:
        yield QuantityValue(param, f, system, None)


# -------------------------------------------------------------------------- parsing


def parse_number(param: str, text: str) -> Decimal:
    """``text`` as a decimal, keeping the precision it was written with; 400 otherwise."""
    if not _NUMBER.match(text):
        raise bad_request(f"Invalid number for '{param}': '{text}'", param)
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise bad_request(f"Invalid number for '{param}': '{text}'", param) from None
    if not math.isfinite(float(number)):
        raise bad_request(f"Number out of range for '{param}': '{text}'", param)
    return number


def implicit_range(number: Decimal) -> tuple[Decimal, Decimal]:
    """``[lo, hi)``: the values that round to ``number`` at the precision it is written with."""
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    half = Decimal(5).scaleb(exponent - 1)
    return number - half, number + half


def _alternatives(prefix: str, x: Decimal) -> list[tuple[Cond, ...]]:
    """Row-level conjunctions, any one of which makes a value match."""
    lo, hi = implicit_range(x)
    xf = float(x)
    # Stored values are floats: past ~15 significant digits the range ends can round onto x
    # itself; x must still fall inside its own range, so the bounds never cross it.
    lo_f = min(float(lo), xf)
    below_hi = Cond("value", "lt", float(hi)) if float(hi) > xf else Cond("value", "le", xf)
    from_hi = Cond("value", "ge", float(hi)) if float(hi) > xf else Cond("value", "gt", xf)

    match prefix:
        case "eq":
            return [(Cond("value", "ge", lo_f), below_hi)]
        case "ne":
            return [(Cond("value", "lt", lo_f),), (from_hi,)]
        case "lt" | "le" | "gt" | "ge":
            return [(Cond("value", prefix, xf),)]
        case "sa":
            return [(from_hi,)]
        case "eb":
            return [(Cond("value", "lt", lo_f),)]
        case _:  # ap
            d = abs(x) / 10
            return [(Cond("value", "ge", min(lo_f, float(x - d))), Cond("value", "le", max(float(hi), float(x + d))))]


def _term(param: str, kind: str, alternatives: list[tuple[Cond, ...]], extra: tuple[Cond, ...] = ()) -> Term:
    terms = [ValueMatch(param, kind, conds + extra) for conds in alternatives]
    return terms[0] if len(terms) == 1 else AnyOf(tuple(terms))


def number_term(param: str, value: str) -> Term:
    """ONE number query value (``[prefix]number``) as a term; 400 for an invalid number."""
    prefix, text = split_prefix(value)
    return _term(param, "number", _alternatives(prefix, parse_number(param, text)))


def quantity_term(param: str, value: str) -> Term:
    """ONE quantity query value (``[prefix]number[|system|code]``) as a term.

    ``number|system|code``: that system and code; ``number||code``: code or unit ``code``
    in any system; ``number`` alone: any unit. 400 for anything else.
    """
    prefix, text = split_prefix(value)
    parts = text.split("|")
    if len(parts) not in (1, 3):
        raise bad_request(f"Invalid quantity for '{param}': '{value}' (expected [prefix]number[|system|code])", param)
    number = parse_number(param, parts[0])
    unit: tuple[Cond, ...] = ()
    if len(parts) == 3:
        system, code = parts[1], parts[2]
        if system:
            unit += (Cond("system", "eq", system),)
        if code:
            unit += (Cond("code", "eq", code),)
    return _term(param, "quantity", _alternatives(prefix, number), unit)
