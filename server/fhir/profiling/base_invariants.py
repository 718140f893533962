"""The base R4 invariants (``server/fhir/data/r4-invariants.json``) on every node of a resource.

They are data: key, context, severity, human text and the official expression, for every
resource and data type. A context is a type of the compiled structure table (``Period``,
``DomainResource``, the backbone ``Questionnaire.item``) or one element below one
(``Organization.telecom``). The resource is walked with that table, so each node's type is known:
a Period's per-1 holds wherever a Period occurs, a Quantity's qty-3 on an Age too (its base),
a Questionnaire.item's que-* on nested items (the same backbone). Contained resources and the
resources inside others (Bundle entries, Parameters) are walked too, each as its own
``%resource`` (a contained one has its container as ``%rootResource``, and none of
DomainResource's invariants: they are about narrative and contained resources, which a contained
resource does not have). Those the engine cannot evaluate carry a ``skip`` reason and are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as _files
from typing import Any, Callable

from ..outcome import Issue
from ..structure.table import TypeMeta, structure
from .constraints import invariant
from .typed import Walk, nodes

BASE = "http://hl7.org/fhir/StructureDefinition/"
#: the types every backbone element derives from
_BACKBONE_BASES = ("BackboneElement", "Element")


@dataclass(frozen=True, slots=True)
class Rule:
    key: str
    severity: str
    human: str
    expression: str
    context: str
    owner: str  # the table type whose nodes carry it
    element: str | None  # the element of ``owner`` it sits on, if not the node itself

    @property
    def profile(self) -> str:
        return BASE + self.context.split(".", 1)[0]


@lru_cache(maxsize=1)
def definitions() -> tuple[dict[str, Any], ...]:
    text = _files.files("server.fhir").joinpath("data/r4-invariants.json").read_text("utf-8")
    return tuple(json.loads(text)["invariant"])


def evaluated() -> tuple[dict[str, Any], ...]:
    return tuple(d for d in definitions() if "skip" not in d)


@lru_cache(maxsize=1)
def _official() -> frozenset[tuple[str, str]]:
    return frozenset((d["key"], d["expression"]) for d in definitions())


def covers(key: str, expression: str) -> bool:
    """Whether a profile's constraint is a base invariant as R4 publishes it (profiles copy them into
    their snapshots): evaluated here on every node of its type, or skipped here for a reason."""
    return (key, expression) in _official()


def owner_of(context: str, types: dict[str, Any]) -> tuple[str, str | None]:
    """The table type an invariant's context is evaluated on, and the element below it (if any)."""
    if context in types:
        return context, None
    owner, _, element = context.rpartition(".")
    if owner not in types:
        raise ValueError(f"invariant context {context} is not in the structure table")
    return owner, element


@lru_cache(maxsize=1)
def rules_by_owner() -> dict[str, tuple[Rule, ...]]:
    types = structure().types
    out: dict[str, list[Rule]] = {}
    for d in evaluated():
        owner, element = owner_of(d["context"], types)
        expression = d["corrected"]["expression"] if "corrected" in d else d["expression"]
        out.setdefault(owner, []).append(Rule(d["key"], d["severity"], d["human"], expression, d["context"], owner, element))
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=None)
def rules_for(key: str) -> tuple[Rule, ...]:
    """The rules on a node of table type ``key``: its own, then those of the types it derives from."""
    types, by_owner = structure().types, rules_by_owner()
    chain, current = [], key
    while current in types and current not in chain:
        chain.append(current)
        spec = types[current]
        current = spec.get("base") or (_BACKBONE_BASES[0] if spec["kind"] == "backbone" else "")
    if chain and types[chain[-1]]["kind"] == "backbone":
        chain += _BACKBONE_BASES
    return tuple(r for k in chain for r in by_owner.get(k, ()))


def _targets(rule: Rule, value: dict[str, Any], key: str, path: str, meta: TypeMeta) -> list[tuple[Any, str, str]]:
    """What ``rule`` is evaluated on in a node: the node itself, or the values of its element."""
    if rule.element is None:
        return [(value, key, path)]
    if rule.element.endswith("[x]"):
        names = meta.choices.get(rule.element[:-3], ())
    else:
        names = (rule.element,) if rule.element in meta.fields else ()
    out: list[tuple[Any, str, str]] = []
    for name in names:
        if name not in value:
            continue
        f = meta.fields[name]
        base = f.prim or f.type_key or "Resource"
        child = value[name]
        if isinstance(child, list):
            out += [(v, base, f"{path}.{name}[{i}]") for i, v in enumerate(child) if v is not None]
        elif child is not None:
            out.append((child, base, f"{path}.{name}"))
    return out


def engine_views(resource: dict[str, Any]) -> dict[int, Any]:
    """id(object) -> the same object without the ``_name`` companions of primitives that have a
    value, for every object of ``resource`` that has any below it.

    fhirpathpy 2.2.4 reads ``name`` and ``_name`` as two items, so ``name.matches(...)``, ``count()``
    or ``start <= end`` go wrong as soon as a primitive carries an extension. The invariants see
    the copy; the walk (paths, the extensions' own invariants) reads the original.
    """
    views: dict[int, Any] = {}

    def view(value: Any) -> Any:
        if isinstance(value, list):
            items = [view(v) for v in value]
            return items if any(a is not b for a, b in zip(items, value)) else value
        if not isinstance(value, dict):
            return value
        out = {k: view(v) for k, v in value.items() if not (k.startswith("_") and _has_values(value.get(k[1:])))}
        if len(out) == len(value) and all(out[k] is value[k] for k in out):
            return value
        views[id(value)] = out
        return out

    try:
        view(resource)
    except RecursionError:  # deeper than the structural validation lets through: no views
        return {}
    return views


def _has_values(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(v is not None for v in value)
    return value is not None


def _ext_1(node: Any) -> bool | None:
    """ext-1 ``extension.exists() != value.exists()``: plain when exactly one of the two is there."""
    if not isinstance(node, dict):
        return None
    has_value = any(k.startswith(("value", "_value")) for k in node)
    has_extension = bool(node.get("extension"))
    return True if has_value != has_extension else None


def _no_contained(node: Any) -> bool | None:
    """dom-2..dom-5 are about contained resources: they hold where there are none."""
    return True if isinstance(node, dict) and not node.get("contained") else None


def _ref_1(node: Any) -> bool | None:
    """ref-1 is about ``#`` references to contained resources: it holds for any other reference."""
    if not isinstance(node, dict):
        return None
    reference = node.get("reference")
    return True if reference is None or (isinstance(reference, str) and not reference.startswith("#")) else None


#: invariants whose answer is plain from the JSON in their commonest case, decided there without the
#: FHIRPath engine (about half of all evaluations on mapped data); each says True (holds) or None
#: (the engine decides, so every finding still comes from the official expression).
#: test_base_invariants holds each to the engine's answer on sampled content.
SHORTCUTS: dict[str, Callable[[Any], bool | None]] = {
    "ext-1": _ext_1, "ref-1": _ref_1, "dom-2": _no_contained, "dom-3": _no_contained, "dom-4": _no_contained, "dom-5": _no_contained,
}


def check(resource: dict[str, Any], walk: Walk | None = None) -> list[Issue]:
    s = structure()
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or rtype not in s.resource_types:
        return []
    issues: list[Issue] = []
    views = engine_views(resource)
    for node in nodes(resource, walk):
        value, key, path, res, root, _ = node
        rules = rules_for(key)
        if not rules:
            continue
        meta = s.meta(key)
        res_view, root_view = views.get(id(res), res), views.get(id(root), root)
        if node.is_contained:  # "contained resources do not have narrative" (R4, DomainResource.text), nor contained ones
            rules = tuple(r for r in rules if r.owner != "DomainResource")
        for rule in rules:
            shortcut = SHORTCUTS.get(rule.key)
            for target, base, where in _targets(rule, value, key, path, meta):
                if shortcut is not None and shortcut(target):
                    continue
                found = invariant(rule.key, rule.severity, rule.expression, rule.human, views.get(id(target), target), where, base,
                                  res_view, rule.profile, root_view)
                if found is not None:
                    issues.append(found)
    return issues
