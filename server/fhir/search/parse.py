"""Turn a search query string into store terms and result options; report what was not understood.

FHIR rules implemented here, once, for every store: comma-separated values OR, repeated
parameters AND, modifiers (``:missing``, ``:not`` and the per-type ones), chaining one level
(``subject:Patient.identifier=…``), reverse chaining (``_has``), and the result parameters
(``_sort``, ``_count``, ``_total``, ``_include``, ``_revinclude``, ``_summary``, ``_elements``).
A parameter this server does not support is ignored and reported (lenient, the default) or
rejected (``Prefer: handling=strict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...storage.base import SortKey
from ...storage.index import All, AnyOf, IdIn, LastUpdated, Not, Term, TypeIs, ValueMatch
from ..dates import range_param
from ..outcome import FhirError, Issue, bad_request
from .dates import split_prefix
from .deferred import Chain, Has
from .elements import parse_elements, parse_summary
from .registry import SearchParam, SearchRegistry
from .terms import KINDS, build_term

#: parameters that shape the result rather than select resources
RESULT_PARAMS = frozenset({"_count", "_total", "_format", "_pretty", "_cursor", "_sort", "_include", "_revinclude", "_summary", "_elements", "_type"})


@dataclass(frozen=True, slots=True)
class Include:
    """``_include``/``_revinclude``: ``source_type``'s reference ``param`` (``None``: all), to ``target_type``."""

    source_type: str
    param: str | None
    target_type: str | None
    iterate: bool = False


@dataclass(slots=True)
class ParsedSearch:
    where: Term | None
    count: int
    total: str  # none | estimate | accurate
    sort: tuple[SortKey, ...] = ()
    includes: list[Include] = field(default_factory=list)
    revincludes: list[Include] = field(default_factory=list)
    summary: str | None = None
    elements: frozenset[str] | None = None
    ignored: list[Issue] = field(default_factory=list)
    #: the parameters as understood, for page links
    applied: list[tuple[str, str]] = field(default_factory=list)


class _Unsupported(Exception):
    """A parameter or modifier this server does not support (reported, not fatal unless strict)."""


def split_commas(value: str) -> list[str]:
    """Split on commas not escaped with a backslash, then unescape."""
    if "\\" not in value:
        return value.split(",")
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


def _last_updated(value: str) -> Term:
    prefix, text = split_prefix(value)
    low, high = range_param("_lastUpdated", text)
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


class SearchParser:
    """Parses searches against one registry; one instance serves the whole server."""

    def __init__(self, registry: SearchRegistry, *, default_count: int, max_count: int) -> None:
        self.registry = registry
        self.default_count = default_count
        self.max_count = max_count

    # ------------------------------------------------------------------ public

    def parse(self, resource_types: tuple[str, ...], params: list[tuple[str, str]], *, strict: bool) -> ParsedSearch:
        """Parse ``params`` for a search over ``resource_types`` (one type, or several for ``_type``)."""
        out = ParsedSearch(None, self.default_count, "accurate")
        ands: list[Term] = []
        for raw_name, value in params:
            name = raw_name.split(":", 1)[0]
            try:
                if name in RESULT_PARAMS:
                    self._result_param(out, resource_types, raw_name, value)
                    continue
                ands.append(self._param(resource_types, raw_name, value))
                out.applied.append((raw_name, value))
            except _Unsupported as exc:
                out.ignored.append(Issue("not-supported", f"{exc} and was ignored", (raw_name,), "warning"))
        if out.ignored and strict:
            raise FhirError(400, [Issue(i.code, i.diagnostics.removesuffix(" and was ignored"), i.expression) for i in out.ignored])
        out.where = None if not ands else ands[0] if len(ands) == 1 else All(tuple(ands))
        return out

    # ------------------------------------------------------------------ params

    def _lookup(self, resource_types: tuple[str, ...], name: str) -> SearchParam:
        found = [self.registry.get(t, name) for t in resource_types]
        if not found or any(p is None for p in found):
            where = resource_types[0] if len(resource_types) == 1 else "all of " + ", ".join(resource_types)
            raise _Unsupported(f"Search parameter '{name}' is not defined for {where}")
        param = found[0]
        assert param is not None
        if not all(p is not None and p.supported for p in found):
            raise _Unsupported(f"Search parameter '{name}' ({param.type}) is not supported by this server")
        return param

    def _param(self, resource_types: tuple[str, ...], raw_name: str, value: str) -> Term:
        if raw_name.startswith("_has:"):
            return self._has(resource_types, raw_name, value)
        name, _, modifier = raw_name.partition(":")
        if "." in raw_name:
            return self._chain(resource_types, raw_name, value)
        if name == "_id" and modifier in ("", "not"):
            term: Term = IdIn(tuple(split_commas(value)))
            return Not(term) if modifier == "not" else term
        if name == "_lastUpdated" and modifier == "":
            return _or([_last_updated(v) for v in self._values(name, value)])
        param = self._lookup(resource_types, name)
        if modifier == "missing":
            if value not in ("true", "false"):
                raise bad_request(f"{raw_name} takes true or false, got '{value}'", raw_name)
            has_value = ValueMatch(name, KINDS[param.type])
            return Not(has_value) if value == "true" else has_value
        if modifier == "not" and param.type == "token":
            return Not(_or([self._one(param, "", v) for v in self._values(name, value)]))
        return _or([self._one(param, modifier, v) for v in self._values(name, value)])

    def _values(self, name: str, value: str) -> list[str]:
        values = split_commas(value)
        if any(v == "" for v in values):
            raise bad_request(f"Empty value in search parameter '{name}'", name)
        return values

    def _one(self, param: SearchParam, modifier: str, value: str) -> Term:
        term = build_term(param, modifier, value)
        if term is None:
            raise _Unsupported(f"Modifier ':{modifier}' is not supported for {param.type} parameter '{param.code}'")
        return term

    def _chain(self, resource_types: tuple[str, ...], raw_name: str, value: str) -> Term:
        head, _, inner_name = raw_name.partition(".")
        if "." in inner_name:
            raise _Unsupported(f"Chaining more than one level ('{raw_name}') is not supported")
        name, _, type_modifier = head.partition(":")
        param = self._lookup(resource_types, name)
        if param.type != "reference":
            raise bad_request(f"'{name}' is not a reference parameter and cannot be chained", raw_name)
        targets = (type_modifier,) if type_modifier else param.targets
        if type_modifier and type_modifier not in param.targets:
            raise bad_request(f"'{name}' cannot refer to {type_modifier} (it refers to {', '.join(param.targets)})", raw_name)
        chains: list[Term] = []
        for target in targets:
            if target not in self.registry.types or self.registry.get(target, inner_name.split(":")[0]) is None:
                continue
            chains.append(Chain(name, target, self._param((target,), inner_name, value)))
        if not chains:
            raise _Unsupported(f"No target type of '{name}' has a search parameter '{inner_name}'")
        return _or(chains)

    def _has(self, resource_types: tuple[str, ...], raw_name: str, value: str) -> Term:
        parts = raw_name.split(":", 3)
        if len(parts) != 4 or not all(parts[1:]):
            raise bad_request(f"'{raw_name}' must look like _has:Type:reference:parameter", raw_name)
        _, source, ref, inner_name = parts
        if source not in self.registry.types:
            raise _Unsupported(f"_has names '{source}', which this server does not store")
        ref_param = self._lookup((source,), ref)
        if ref_param.type != "reference":
            raise bad_request(f"'{ref}' is not a reference parameter of {source}", raw_name)
        inner = self._param((source,), inner_name, value)
        return _or([Has(source, ref, inner, t) for t in resource_types])

    # ----------------------------------------------------------- result params

    def _result_param(self, out: ParsedSearch, types: tuple[str, ...], raw_name: str, value: str) -> None:
        name, _, modifier = raw_name.partition(":")
        if name == "_count":
            out.count = self.parse_count(value)
        elif name == "_total":
            if value not in ("none", "estimate", "accurate"):
                raise bad_request("_total must be one of none, estimate, accurate", "_total")
            out.total = value
            out.applied.append((raw_name, value))
        elif name == "_sort":
            out.sort = self._sort(types, value)
            out.applied.append((raw_name, value))
        elif name in ("_include", "_revinclude"):
            include = self._include(types, name, modifier, value)
            (out.includes if name == "_include" else out.revincludes).append(include)
            out.applied.append((raw_name, value))
        elif name == "_summary":
            out.summary = parse_summary(value)
            out.applied.append((raw_name, value))
        elif name == "_elements":
            out.elements = parse_elements([value])
            out.applied.append((raw_name, value))
        # _format, _pretty, _cursor and _type are read by the HTTP layer

    def parse_count(self, value: str) -> int:
        if not (value.isascii() and value.isdigit()):  # '²'.isdigit() is true, int('²') fails
            raise bad_request(f"_count must be a non-negative integer, got '{value}'", "_count")
        count = int(value)
        if count > self.max_count:
            raise bad_request(f"_count={count} exceeds this server's maximum page size of {self.max_count}", "_count")
        return count

    def _sort(self, types: tuple[str, ...], value: str) -> tuple[SortKey, ...]:
        keys = []
        for item in split_commas(value):
            item = item.strip()
            descending = item.startswith("-")
            name = item.lstrip("-")
            if name in ("_id", "_lastUpdated"):
                keys.append(SortKey(name, "token" if name == "_id" else "date", descending))
                continue
            param = self._lookup(types, name)
            if param.type not in KINDS or param.type == "composite":
                raise _Unsupported(f"Sorting by {param.type} parameter '{name}' is not supported")
            keys.append(SortKey(name, KINDS[param.type], descending))
        return tuple(keys)

    def _include(self, types: tuple[str, ...], name: str, modifier: str, value: str) -> Include:
        iterate = modifier in ("iterate", "recurse")
        if modifier and not iterate:
            raise _Unsupported(f"{name}:{modifier} is not supported")
        if value == "*":  # _include: every reference of the matches; _revinclude: everything referring to them
            return Include(types[0] if name == "_include" else "*", None, None, iterate)
        parts = value.split(":")
        if len(parts) not in (2, 3) or not all(parts):
            raise bad_request(f"{name} must look like Type:parameter[:TargetType] or *, got '{value}'", name)
        source, pname = parts[0], parts[1]
        target = parts[2] if len(parts) == 3 else None
        if source not in self.registry.types:
            raise _Unsupported(f"{name} names '{source}', which this server does not store")
        if pname == "*":
            return Include(source, None, target, iterate)
        param = self._lookup((source,), pname)
        if param.type != "reference":
            raise bad_request(f"{name}: '{pname}' is not a reference parameter of {source}", name)
        return Include(source, pname, target, iterate)


def _or(terms: list[Term]) -> Term:
    return terms[0] if len(terms) == 1 else AnyOf(tuple(terms))


def type_filter(types: tuple[str, ...]) -> Term:
    return TypeIs(types)
