"""Composite search parameters: two components searched together on one element.

An R4 composite definition has an expression selecting the elements (``Observation``,
``Observation.component``, ``DocumentReference.relatesTo``) and two components, each the
id of another definition (its type) plus an expression relative to the selected element::

    code-value-quantity = clinical-code (token, "code") $ Observation-value-quantity (quantity, "value.as(Quantity)")

Encoding. Both values must come from the SAME element (one component's code with that
component's value), and an index row holds one value. So the first component's value goes
into the parameter name and the row keeps the second component's kind:

* first component a token (every Coding of it, with a code): keys ``code`` (matches any
  system) and ``system|code`` (``|code`` when the coding has no system);
* first component a reference: key = the reference target (see :mod:`.references`);
* each row of the second component is stored under ``f"{composite}${key}"`` for every key,
  e.g. ``QuantityValue("code-value-quantity$http://loinc.org|8480-6", 168.6, "http://unitsofmeasure.org", "mm[Hg]")``
  and ``QuantityValue("code-value-quantity$8480-6", …)``.

A query ``http://loinc.org|8480-6$gt100`` is then the second component's own term
(``quantity_term``) on the parameter ``code-value-quantity$http://loinc.org|8480-6``.
A first component given as ``system|`` (any code of a system) cannot be expressed this way
and is rejected as not supported.

The R4 ``DocumentReference-relationship`` lists its component expressions the wrong way
round (the reference ``relatesto`` with ``code``, the token ``relation`` with ``target``);
when a component's own definition is exactly ``<composite expression>.<path>``, that path is
used, which corrects it and changes nothing for the other composites.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Iterator

from ...storage.index import AnyOf, IndexValue, ReferenceValue, Term, TokenValue
from ..outcome import bad_request
from .dates import date_term
from .fhirpath_lite import Path, compile_expression, evaluate
from .numbers import number_term, quantity_term
from .references import normalize, reference_term
from .registry import SearchParam, _definitions, definition_by_id
from .strings import string_term
from .tokens import token_term
from .uris import uri_term

from .values import EXTRACTORS

_ROOT = "Composite"



@dataclass(frozen=True, slots=True)
class CompositeSpec:
    code: str
    first_kind: str  # token | reference
    first_paths: tuple[Path, ...]
    first_targets: tuple[str, ...]
    second_kind: str
    second_paths: tuple[Path, ...]
    second_targets: tuple[str, ...]


def _relative_paths(expression: str) -> tuple[Path, ...] | None:
    branches = [b.strip() for b in expression.split("|") if b.strip()]
    compiled = compile_expression(" | ".join(f"{_ROOT}.{b}" for b in branches)) if branches else None
    if not compiled or set(compiled) != {_ROOT}:
        return None
    return tuple(compiled[_ROOT])


def _component_expression(composite_expression: str, component: dict[str, Any], definition: dict[str, Any]) -> str:
    own = definition.get("expression") or ""
    head = composite_expression.strip() + "."
    if "|" not in own and "|" not in composite_expression and own.startswith(head):
        return own[len(head):]
    return component.get("expression") or ""


@cache
def composite_spec(definition: str) -> CompositeSpec | None:
    """The compiled components of the composite with this definition id or URL (``None``
    when it is not a two-component composite this module can index)."""
    d = definition_by_id(definition)
    if d is None or d.get("type") != "composite":
        return None
    components = d.get("component") or []
    if len(components) != 2:
        return None
    parts = []
    for component in components:
        cdef = definition_by_id(component.get("definition", ""))
        if cdef is None or cdef.get("type") not in EXTRACTORS:
            return None
        paths = _relative_paths(_component_expression(d.get("expression") or "", component, cdef))
        if not paths:
            return None
        parts.append((cdef["type"], paths, tuple(cdef.get("target") or ())))
    (k1, p1, t1), (k2, p2, t2) = parts
    if k1 not in ("token", "reference"):
        return None
    return CompositeSpec(d["code"], k1, p1, t1, k2, p2, t2)


def _spec_of(param: SearchParam | str, resource_type: str | None) -> CompositeSpec:
    if isinstance(param, SearchParam):
        spec = composite_spec(param.definition)
        if spec is None:
            raise bad_request(f"Composite parameter '{param.code}' is not supported", param.code, code="not-supported")
        return spec
    specs = {
        composite_spec(d["id"])
        for d in _definitions()
        if d["code"] == param and d["type"] == "composite" and (resource_type is None or resource_type in d["base"])
    }
    shapes = {(s.first_kind, s.first_targets, s.second_kind, s.second_targets) if s else None for s in specs}
    if len(shapes) != 1 or None in shapes:
        raise bad_request(f"Composite parameter '{param}' is not supported", param, code="not-supported")
    return next(iter(specs))  # type: ignore[return-value]


# ----------------------------------------------------------------------- extraction


def _first_keys(spec: CompositeSpec, node: Any) -> list[str]:
    keys: list[str] = []
    for value in evaluate(spec.first_paths, node):
        for row in EXTRACTORS[spec.first_kind]("", value):
            if isinstance(row, TokenValue):
                if row.param == "" and row.code:
                    keys.append(row.code)
                    keys.append(f"{row.system or ''}|{row.code}")
            elif isinstance(row, ReferenceValue):
                keys.append(row.target)
    return list(dict.fromkeys(keys))


def _renamed(row: IndexValue, name: str) -> IndexValue:
    cls = type(row)
    return cls(name, *(getattr(row, f) for f in cls.__slots__[1:]))  # type: ignore[attr-defined]


def composite_values(param: SearchParam, node: Any) -> Iterator[IndexValue]:
    """The rows one element selected by the composite's expression contributes."""
    spec = composite_spec(param.definition)
    if spec is None or not isinstance(node, dict):
        return
    values = evaluate(spec.second_paths, node)
    if not values:  # the cheaper half first: most elements lack one of the two
        return
    keys = _first_keys(spec, node)
    if not keys:
        return
    extractor = EXTRACTORS[spec.second_kind]
    for value in values:
        for row in extractor("", value):
            if row.param != "":  # :identifier / :of-type side rows
                continue
            for key in keys:
                yield _renamed(row, f"{param.code}${key}")


# -------------------------------------------------------------------------- parsing


def _query_keys(spec: CompositeSpec, code: str, first: str) -> list[str]:
    if spec.first_kind == "token":
        if "|" in first:
            system, _, value = first.partition("|")
            if not value:
                raise bad_request(f"'{code}': a first component of the form system| (any code) is not supported", code, code="not-supported")
            return [f"{system}|{value}"]
        return [first]
    target = normalize(first)
    if target is None:
        raise bad_request(f"'{first}' is not a reference this server can search for ('{code}')", code)
    if "/" in target or ":" in target or not spec.first_targets:
        return [target]
    return [f"{t}/{target}" for t in spec.first_targets]


def composite_term(param: SearchParam | str, value: str, resource_type: str | None = None) -> Term:
    """ONE composite query value ``first$second`` as a term (see the module notes).

    ``param`` is the :class:`SearchParam` (preferred) or its code; with a code, the
    definitions of that code (for ``resource_type`` when given) must agree on the
    component types. 400 for a value without ``$`` or an invalid component.
    """
    spec = _spec_of(param, resource_type)
    code = spec.code
    first, sep, second = value.partition("$")
    if not sep or not first or not second:
        raise bad_request(f"'{code}' takes first$second (e.g. http://loinc.org|8480-6$gt100), got '{value}'", code)
    terms = [_second_term(spec, f"{code}${key}", second) for key in _query_keys(spec, code, first)]
    return terms[0] if len(terms) == 1 else AnyOf(tuple(terms))


def _second_term(spec: CompositeSpec, name: str, value: str) -> Term:
    kind = spec.second_kind
    term: Term | None
    if kind == "token":
        term = token_term(name, "", value)
    elif kind == "string":
        term = string_term(name, "", value)
    elif kind == "date":
        term = date_term(name, value)
    elif kind == "quantity":
        term = quantity_term(name, value)
    elif kind == "number":
        term = number_term(name, value)
    elif kind == "uri":
        term = uri_term(name, "", value)
    else:
        term = reference_term(name, "", value, spec.second_targets)
    assert term is not None
    return term
