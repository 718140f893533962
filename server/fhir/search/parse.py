"""Turn a search query string into store terms, and report what was not understood.

FHIR rules implemented here, once, for every store: comma-separated values OR,
repeated parameters AND; a parameter this server does not support is ignored and
reported (lenient, the default) or rejected (``Prefer: handling=strict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...storage.index import All, AnyOf, IdIn, LastUpdated, Not, Term
from ..dates import DateFormatError, parse_range
from ..outcome import FhirError, Issue, bad_request
from .registry import SearchRegistry
from .tokens import parse_token

#: result parameters understood here; others starting with "_" are reported as unsupported
RESULT_PARAMS = frozenset({"_count", "_total", "_format", "_pretty", "_cursor"})
_DATE_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge", "sa", "eb", "ap")


@dataclass(slots=True)
class ParsedSearch:
    where: Term | None
    count: int
    total: str  # none | estimate | accurate
    ignored: list[Issue] = field(default_factory=list)
    #: the parameters that were applied, for the self link
    applied: list[tuple[str, str]] = field(default_factory=list)


def _split_commas(value: str) -> list[str]:
    """Split on commas not escaped with a backslash, then unescape."""
    parts, cur, i = [], [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            cur.append(value[i + 1])
            i += 2
            continue
        if ch == ",":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _date_terms(name: str, value: str) -> Term:
    prefix = value[:2] if value[:2] in _DATE_PREFIXES else "eq"
    text = value[2:] if value[:2] in _DATE_PREFIXES else value
    try:
        low, high = parse_range(text)
    except DateFormatError as exc:
        raise bad_request(f"Invalid value for {name}: {exc}", name) from None
    match prefix:
        case "eq" | "ap":
            return All((LastUpdated("ge", low), LastUpdated("le", high)))
        case "ne":
            return AnyOf((LastUpdated("lt", low), LastUpdated("gt", high)))
        case "lt" | "eb":
            return LastUpdated("lt", low)
        case "le":
            return LastUpdated("le", high)
        case "gt" | "sa":
            return LastUpdated("gt", high)
        case _:  # ge
            return LastUpdated("ge", low)


def parse_search(
    registry: SearchRegistry,
    resource_type: str,
    params: list[tuple[str, str]],
    *,
    strict: bool,
    default_count: int,
    max_count: int,
) -> ParsedSearch:
    """Parse ``params`` (in order, repeats kept) for a search on ``resource_type``."""
    ands: list[Term] = []
    ignored: list[Issue] = []
    applied: list[tuple[str, str]] = []
    count, total = default_count, "accurate"
    for raw_name, value in params:
        name, _, modifier = raw_name.partition(":")
        if name == "_count":
            count = _parse_count(value, max_count)
            continue
        if name == "_total":
            if value not in ("none", "estimate", "accurate"):
                raise bad_request("_total must be one of none, estimate, accurate", "_total")
            total = value
            continue
        if name in RESULT_PARAMS:
            continue
        term = _parse_param(registry, resource_type, name, modifier, value)
        if term is None:
            ignored.append(Issue("not-supported", f"Search parameter '{raw_name}' is not supported for {resource_type} and was ignored", (raw_name,), "warning"))
            continue
        ands.append(term)
        applied.append((raw_name, value))
    if ignored and strict:
        raise FhirError(400, [Issue(i.code, i.diagnostics.replace(" and was ignored", ""), i.expression) for i in ignored])
    where = None if not ands else ands[0] if len(ands) == 1 else All(tuple(ands))
    return ParsedSearch(where, count, total, ignored, applied)


def _parse_count(value: str, max_count: int) -> int:
    if not value.isdigit():
        raise bad_request(f"_count must be a non-negative integer, got '{value}'", "_count")
    count = int(value)
    if count > max_count:
        raise bad_request(f"_count={count} exceeds this server's maximum page size of {max_count}", "_count")
    return count


def _parse_param(registry: SearchRegistry, resource_type: str, name: str, modifier: str, value: str) -> Term | None:
    param = registry.get(resource_type, name)
    if param is None or not param.supported or modifier not in ("", "not"):
        return None
    values = [v for v in _split_commas(value)]
    if any(v == "" for v in values):
        raise bad_request(f"Empty value in search parameter '{name}'", name)
    if name == "_id":
        term: Term = IdIn(tuple(values))
    elif name == "_lastUpdated":
        terms = [_date_terms(name, v) for v in values]
        term = terms[0] if len(terms) == 1 else AnyOf(tuple(terms))
    else:  # token
        tokens = [parse_token(name, v) for v in values]
        term = tokens[0] if len(tokens) == 1 else AnyOf(tuple(tokens))
    return Not(term) if modifier == "not" else term
