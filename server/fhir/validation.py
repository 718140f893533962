"""Strict structural validation of FHIR R4 resources, reporting every problem at once.

Why not just pydantic: the ``fhir.resources`` models are lax for a server. They coerce
``"yes"`` to ``true`` and ``"12"`` to ``12``, accept two ``value[x]`` types at once, empty
objects and arrays, and do not check required bindings. So validation runs in three steps:

1. a strict, iterative walk over the JSON, driven by metadata derived once per model class
   from the pydantic fields (JSON shape and types, unknown elements, choices, ``_name``
   companions, nulls, required elements, required bindings, nesting depth);
2. pydantic itself, only for what it does well (date/time/code/string formats), on a copy
   from which everything the walk rejected has been removed, so it neither crashes nor
   repeats the walk's findings;
3. the union, each issue carrying a FHIRPath-like ``expression`` such as
   ``Patient.name[0].given[1]`` or ``Observation.value[x]``.

Nothing here raises: any input, however malformed or deep, yields a list of issues.
"""

from __future__ import annotations

import binascii
import json
import re
import sys
import threading
import types
import typing
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from fhir.resources.R4B import fhirtypes as _fhirtypes
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource as _ResourceModel
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase
from pydantic import ValidationError

from .outcome import Issue

__all__ = ["validate_resource", "known_resource_types"]

_DATA_DIR = Path(__file__).with_name("data")
_BINDING_FILES = ("required-bindings.json", "datatype-required-bindings.json")

# JSON kinds a primitive must be written as.
_BOOL, _INT, _NUM, _STR = 1, 2, 3, 4
_INT_RANGES = {
    "integer": (-(2**31), 2**31 - 1),
    "unsignedInt": (0, 2**31 - 1),
    "positiveInt": (1, 2**31 - 1),
    "integer64": (-(2**63), 2**63 - 1),
}
# How a field can carry a bound code.
_CODE, _CODING, _CONCEPT = 1, 2, 3
_MAX_STRING = 1024 * 1024
_ABSTRACT_RESOURCES = frozenset({"Resource", "DomainResource"})
_RESOURCE_NAME = re.compile(r"[A-Z][A-Za-z0-9]{0,63}\Z")
_ELEMENT_NAME = re.compile(r"_?[A-Za-z][A-Za-z0-9]*\Z")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}\Z")
_OID = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+\Z")
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_WHITESPACE = re.compile(r"\s")

_FORMATS = {
    "boolean": "JSON true or false",
    "integer": "a JSON integer from -2147483648 to 2147483647",
    "unsignedInt": "a JSON integer from 0 to 2147483647",
    "positiveInt": "a JSON integer from 1 to 2147483647",
    "integer64": "a JSON integer",
    "decimal": "a JSON number such as 62.50",
    "string": "a non-empty JSON string",
    "markdown": "a non-empty JSON string",
    "code": "a JSON string without leading/trailing whitespace or runs of whitespace",
    "id": "1-64 characters from A-Z, a-z, 0-9, '-' and '.'",
    "uri": "a URI without whitespace",
    "url": "a URL without whitespace",
    "canonical": "a canonical URL without whitespace, optionally ending in |version",
    "oid": "an OID URI such as urn:oid:1.2.3.4",
    "uuid": "a lower-case UUID URI such as urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
    "base64Binary": "base64-encoded data",
    "date": "a date: YYYY, YYYY-MM or YYYY-MM-DD, e.g. 1980-02-03",
    "dateTime": "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss] with a time zone (Z or +07:00)",
    "instant": "YYYY-MM-DDThh:mm:ss[.sss] with a time zone (Z or +07:00)",
    "time": "a time of day hh:mm:ss[.sss] without a time zone",
    "xhtml": "an XHTML <div> element as a JSON string",
}
# Formats the walk checks completely; pydantic's opinion on them is ignored (its uuid
# check, for one, wrongly insists on version 4).
_WALK_FORMATS = frozenset(
    {"boolean", "integer", "unsignedInt", "positiveInt", "integer64", "id", "oid", "uuid", "base64Binary"}
)
_CHECKED_STRINGS = frozenset({"id", "uri", "url", "canonical", "oid", "uuid", "base64Binary"})
_PYDANTIC_WALK_MESSAGES = (
    "Any of one field value is expected",  # choice conflicts
    "Expect any of field value",  # missing required choice
    "One of field value is required",  # empty "_name" companion
)


# --------------------------------------------------------------------------- metadata


@dataclass(slots=True, eq=False)
class _Field:
    """One element of a model, as the walk needs it (derived once, then read-only)."""

    name: str
    is_list: bool
    required: bool
    choice: str | None
    prim: str | None  # FHIR primitive type name, None for complex elements
    choice_required: bool = False
    jkind: int = 0  # JSON kind for primitives
    model: type | None = None  # datatype/backbone model for complex elements
    is_resource: bool = False  # holds any resource (contained, Bundle.entry.resource, ...)
    has_companion: bool = False  # a ``_name`` sibling is allowed
    low: int = 0
    high: int = 0
    coded: int = 0
    checked: bool = False  # the walk checks this string type's format (or its code binding)
    codes: frozenset[str] | None = None
    value_set: str = ""
    meta: "_Meta | None" = None  # resolved lazily for complex elements


@dataclass(slots=True, eq=False)
class _Meta:
    """Everything the walk needs about one model class."""

    type_name: str  # canonical element path: "Patient", "Patient.contact", "HumanName"
    fields: dict[str, _Field]
    choices: dict[str, tuple[str, ...]]
    required: tuple[_Field, ...]
    required_choices: tuple[str, ...]
    lower: dict[str, str] = field(default_factory=dict)
    is_extension: bool = False


_LOCK = threading.RLock()
_RAW: dict[type, tuple[_Field, ...]] = {}
_METAS: dict[type, _Meta] = {}
_MODULE_PATHS: dict[str, dict[type, tuple[str, ...]]] = {}
_RESOURCE_MODELS: dict[str, type] = {}
_NOT_RESOURCES: set[str] = set()
_KNOWN: frozenset[str] | None = None
_BINDINGS: dict[str, tuple[frozenset[str], str]] | None = None
_PRIMITIVE_EXTENSION: _Meta | None = None


def _strip_optional(ann: Any) -> Any:
    origin = typing.get_origin(ann)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return ann


def _split_list(ann: Any) -> tuple[bool, Any]:
    """``Optional[List[Optional[X]]]`` -> ``(True, X)``; ``Optional[X]`` -> ``(False, X)``."""
    ann = _strip_optional(ann)
    if typing.get_origin(ann) is list:
        return True, _strip_optional(typing.get_args(ann)[0])
    return False, ann


def _primitive_name(ann: Any) -> str | None:
    """The FHIR primitive type of an annotation, from fhir_core's marker classes."""
    if ann is bool:
        return "boolean"
    if typing.get_origin(ann) is typing.Annotated:
        for marker in ann.__metadata__:
            name = getattr(marker, "__visit_name__", None)
            if isinstance(name, str):
                return name
        if typing.get_args(ann)[0] is uuid.UUID:
            return "uuid"
    return None


def _json_kind(prim: str) -> int:
    if prim == "boolean":
        return _BOOL
    if prim in _INT_RANGES:
        return _INT
    if prim == "decimal":
        return _NUM
    return _STR


def _parse_field(name: str, info: Any, companions: set[str]) -> _Field:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    is_list, inner = _split_list(info.annotation)
    choice = extra.get("one_of_many")
    required = bool(info.is_required() or extra.get("element_required")) and not choice
    f = _Field(name, is_list, required, choice, _primitive_name(inner))
    f.choice_required = bool(choice and extra.get("one_of_many_required"))
    if f.prim is not None:
        f.jkind = _json_kind(f.prim)
        f.low, f.high = _INT_RANGES.get(f.prim, (0, 0))
        f.has_companion = "_" + name in companions
        f.coded = _CODE if f.prim == "code" else 0
    elif isinstance(inner, type) and issubclass(inner, FhirBase):
        model = inner.get_model_klass()
        f.is_resource = model.__name__ == "Resource"
        f.model = None if f.is_resource else model
        f.coded = {"Coding": _CODING, "CodeableConcept": _CONCEPT}.get(model.__name__, 0)
    else:  # pragma: no cover - every R4B field is one of the above (tested)
        raise TypeError(f"unsupported annotation {info.annotation!r} for {name}")
    return f


def _raw_fields(cls: type) -> tuple[_Field, ...]:
    """The JSON elements of a model class, without bindings (those need the class's path)."""
    cached = _RAW.get(cls)
    if cached is not None:
        return cached
    infos = cls.model_fields
    companions = {i.alias for n, i in infos.items() if n.endswith("__ext") and i.alias}
    out = []
    for name, info in infos.items():
        if name == "fhir_comments" or name.endswith("__ext"):
            continue
        out.append(_parse_field(info.alias or name, info, companions))
    _RAW[cls] = result = tuple(out)
    return result


def _module_paths(module_name: str) -> dict[type, tuple[str, ...]]:
    """Element paths of every model class of one module (``PatientContact`` ->
    ``Patient.contact``), shortest first, found breadth-first from the module's main class.

    A class reused elsewhere in its resource (``Invoice.totalPriceComponent`` reuses
    ``Invoice.lineItem.priceComponent``) gets every path, so a binding listed under any of
    them applies; a path never revisits a class, so recursion (``item.item``) ends."""
    cached = _MODULE_PATHS.get(module_name)
    if cached is not None:
        return cached
    module = sys.modules[module_name]
    base = module_name.rsplit(".", 1)[-1]
    roots = [
        v for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, FHIRAbstractModel)
        and v.__module__ == module_name and v.__name__.lower() == base
    ]
    found: dict[type, list[str]] = {root: [root.__name__] for root in roots}
    queue = [(root, root.__name__, frozenset({root})) for root in roots]
    while queue:
        cls, path, seen = queue.pop(0)
        for f in _raw_fields(cls):
            child = f.model
            if child is not None and child.__module__ == module_name and child not in seen:
                found.setdefault(child, []).append(f"{path}.{f.name}")
                queue.append((child, f"{path}.{f.name}", seen | {child}))
    paths = {cls: tuple(p) for cls, p in found.items()}
    _MODULE_PATHS[module_name] = paths
    return paths


def _bindings() -> dict[str, tuple[frozenset[str], str]]:
    """Required bindings by element path, from the resource and datatype data files."""
    global _BINDINGS
    if _BINDINGS is None:
        table: dict[str, tuple[frozenset[str], str]] = {}
        for name in _BINDING_FILES:
            with open(_DATA_DIR / name, encoding="utf-8") as fh:
                for path, spec in json.load(fh).items():
                    table[path] = (frozenset(spec["codes"]), spec.get("valueSet", ""))
        _BINDINGS = table
    return _BINDINGS


def _meta(cls: type) -> _Meta:
    """Walk metadata of a model class, built once and cached."""
    meta = _METAS.get(cls)
    if meta is not None:
        return meta
    with _LOCK:
        meta = _METAS.get(cls)
        if meta is None:
            meta = _build_meta(cls)
            _METAS[cls] = meta
    return meta


def _build_meta(cls: type) -> _Meta:
    paths = _module_paths(cls.__module__).get(cls, (cls.__name__,))
    path = paths[0]
    bindings = _bindings()
    fields: dict[str, _Field] = {}
    choices: dict[str, list[str]] = {}
    choice_required: set[str] = set()
    for raw in _raw_fields(cls):
        f = _Field(**{k: getattr(raw, k) for k in _Field.__slots__})
        bound = _binding_for(bindings, paths, f)
        if bound is not None and f.coded:
            f.codes, f.value_set = bound
        f.checked = f.prim in _CHECKED_STRINGS or (f.prim == "code" and f.codes is not None)
        fields[f.name] = f
        if f.choice:
            choices.setdefault(f.choice, []).append(f.name)
            if f.choice_required:
                choice_required.add(f.choice)
    if cls.__name__ == "FHIRPrimitiveExtension":
        path = "a primitive's '_' companion (which holds only 'id' and 'extension')"
    return _Meta(
        type_name=path,
        fields=fields,
        choices={k: tuple(v) for k, v in choices.items()},
        required=tuple(f for f in fields.values() if f.required),
        required_choices=tuple(sorted(choice_required)),
        lower={n.lower(): n for n in fields},
        is_extension=cls.__name__ == "Extension",
    )


def _binding_for(bindings: dict, paths: tuple[str, ...], f: _Field) -> tuple[frozenset[str], str] | None:
    names = (f.name, f"{f.choice}[x]") if f.choice else (f.name,)
    for path in paths:
        for name in names:
            bound = bindings.get(f"{path}.{name}")
            if bound is not None:
                return bound
    return None


def _field_meta(f: _Field) -> _Meta:
    meta = f.meta
    if meta is None:
        meta = f.meta = _meta(f.model)  # type: ignore[arg-type]
    return meta


def _resource_model(name: str) -> type | None:
    """The model class of a concrete resource type, or None (bounded caches only)."""
    model = _RESOURCE_MODELS.get(name)
    if model is not None or name in _NOT_RESOURCES:
        return model
    if not _RESOURCE_NAME.match(name) or name in _ABSTRACT_RESOURCES:
        return None
    holder = getattr(_fhirtypes, name + "Type", None)
    if not (isinstance(holder, type) and issubclass(holder, FhirBase)):
        return None
    try:
        model = get_fhir_model_class(name)
    except Exception:
        model = None
    if model is None or not issubclass(model, _ResourceModel) or model.__name__ != name:
        _NOT_RESOURCES.add(name)
        return None
    _RESOURCE_MODELS[name] = model
    return model


def known_resource_types() -> frozenset[str]:
    """All concrete resource types the R4B models define (imports them all once, ~2 s)."""
    global _KNOWN
    if _KNOWN is None:
        names = (n[:-4] for n in dir(_fhirtypes) if n.endswith("Type"))
        _KNOWN = frozenset(n for n in names if _resource_model(n) is not None)
    return _KNOWN


# --------------------------------------------------------------------------- messages


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, (Decimal, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _show(value: Any) -> str:
    """A short, safe rendering of a scalar for a message (never of a container)."""
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value) if -(10**30) < value < 10**30 else "a very large integer"
    if isinstance(value, (Decimal, float)):
        text = str(value)
        return text if len(text) <= 40 else "a very long number"
    return _json_type(value)


def _code_list(codes: frozenset[str]) -> str:
    ordered = sorted(codes)
    if len(ordered) > 25:
        return ", ".join(ordered[:25]) + f", ... ({len(ordered)} codes)"
    return ", ".join(ordered)


def _type_label(f: _Field) -> str:
    if f.prim is not None:
        return f.prim
    if f.is_resource:
        return "a resource"
    return _field_meta(f).type_name


# --------------------------------------------------------------------------- the walk

_REMOVE = object()
_Task = tuple  # (object, _Meta, expression, loc, depth, is_resource)


class _Walker:
    """Iterative strict walk: collects issues, plus the locations pydantic must not see."""

    __slots__ = ("issues", "drops", "dropped", "max_depth", "too_deep", "stack")

    def __init__(self, max_depth: int) -> None:
        self.issues: list[Issue] = []
        self.drops: list[tuple[tuple[Any, ...], Any]] = []
        self.dropped: list[str] = []  # expressions whose whole subtree pydantic must not report
        self.max_depth = max_depth
        self.too_deep = False
        self.stack: list[_Task] = []

    # -- bookkeeping

    def issue(self, code: str, expr: str, diagnostics: str) -> None:
        self.issues.append(Issue(code, diagnostics, (expr,)))

    def drop(self, loc: tuple[Any, ...], expr: str, complex_item: bool = True) -> None:
        """Hide a rejected value from pydantic: remove the key, or blank the array slot."""
        if not loc:
            return
        self.dropped.append(expr)
        if isinstance(loc[-1], int):
            self.drops.append((loc, {} if complex_item else None))
        else:
            self.drops.append((loc, _REMOVE))

    def deep(self, expr: str, loc: tuple[Any, ...]) -> None:
        self.drop(loc, expr)
        if not self.too_deep:
            self.too_deep = True
            self.issue(
                "too-costly",
                expr,
                f"Content is nested more than {self.max_depth} levels deep here; "
                "the server does not accept resources nested this deeply",
            )

    # -- driver

    def run(self, obj: dict, meta: _Meta, expr: str) -> None:
        self.stack.append((obj, meta, expr, (), 1, True))
        while self.stack:
            self.visit_object(*self.stack.pop())

    def visit_object(self, obj: dict, meta: _Meta, expr: str, loc: tuple, depth: int, is_resource: bool) -> None:
        children: list[_Task] = []
        groups: dict[str, list[str]] = {}
        fields = meta.fields
        for key, value in obj.items():
            f = fields.get(key)
            if f is None:
                self.special_key(obj, key, value, meta, expr, loc, depth, is_resource, children, groups)
                continue
            if f.choice is not None:
                groups.setdefault(f.choice, []).append(key)
            if f.prim is not None and not f.is_list and value is not None and not isinstance(value, list):
                problem = _primitive_problem(f, value)  # the common case, without building paths
                if problem is not None:
                    self.report(problem, expr + "." + key, loc + (key,))
                continue
            self.value(f, value, obj, expr + "." + key, loc + (key,), depth, children)
        self.check_object(obj, meta, expr, groups)
        if children:
            children.reverse()
            self.stack.extend(children)

    # -- keys that are not plain elements

    def special_key(
        self, obj: dict, key: Any, value: Any, meta: _Meta, expr: str, loc: tuple, depth: int,
        is_resource: bool, children: list, groups: dict[str, list[str]],
    ) -> None:
        """Keys that are not elements of ``meta``: resourceType, ``_name`` companions, unknowns."""
        if not isinstance(key, str):
            self.issue("structure", expr, f"Element names must be strings; got {_json_type(key)} in {meta.type_name}")
            self.drops.append((loc + (key,), _REMOVE))
            return
        if key == "resourceType" and is_resource:
            return
        if key[:1] == "_":
            f = meta.fields.get(key[1:])
            if f is not None and f.has_companion:
                if f.choice is not None and f.name not in obj:
                    groups.setdefault(f.choice, []).append(key)
                self.companion(obj, key, value, f, expr, loc, depth, children)
                return
        self.issue("structure", expr + "." + key, self.unknown_message(key, meta))
        self.drop(loc + (key,), expr + "." + key)

    def unknown_message(self, key: str, meta: _Meta) -> str:
        text = f"Unknown element '{key}': {meta.type_name} has no such element"
        if key == "resourceType":
            return text + "; 'resourceType' belongs only at the top level of a resource"
        if key in meta.choices:
            sample = ", ".join(meta.choices[key][:4])
            return text + f"; '{key}[x]' is a choice, write it with its type suffix, e.g. {sample}"
        base = meta.fields.get(key[1:]) if key[:1] == "_" else None
        if base is not None and base.prim is None:
            return text + (
                f"; '_' companions exist only for primitive elements, and '{base.name}' is {_type_label(base)}"
            )
        if base is not None:
            return text + f"; '{base.name}' cannot carry a '_' companion"
        hint = meta.lower.get(key.lower())
        if hint is not None:
            return text + f"; did you mean '{hint}'? (element names are case-sensitive)"
        return text

    # -- values

    def value(self, f: _Field, value: Any, obj: dict, expr: str, loc: tuple, depth: int, children: list) -> None:
        if f.is_list:
            self.array(f, value, obj, expr, loc, depth, children)
        elif isinstance(value, list):
            self.issue(
                "structure",
                expr,
                f"'{f.name}' does not repeat, so it must be a single {_type_label(f)}, not an array",
            )
            self.drop(loc, expr)
        elif value is None:
            self.issue("structure", expr, f"'{f.name}' is null; omit the element instead of sending null")
            self.drop(loc, expr)
        else:
            self.item(f, value, expr, loc, depth, children)

    def array(self, f: _Field, value: Any, obj: dict, expr: str, loc: tuple, depth: int, children: list) -> None:
        if not isinstance(value, list):
            self.issue(
                "structure",
                expr,
                f"'{f.name}' can repeat, so it must be a JSON array of {_type_label(f)}; got {_json_type(value)}",
            )
            self.drop(loc, expr)
            return
        if not value:
            self.issue("structure", expr, f"'{f.name}' is an empty array; omit the element instead")
            self.drop(loc, expr)
            return
        if depth + 1 > self.max_depth:
            self.deep(expr, loc)
            return
        if f.prim is not None:
            self.primitive_array(f, value, obj.get("_" + f.name), expr, loc)
            return
        for i, item in enumerate(value):
            if item is None:
                self.null_item(f, None, i, f"{expr}[{i}]", loc + (i,))
            else:
                self.item(f, item, f"{expr}[{i}]", loc + (i,), depth + 1, children)

    def primitive_array(self, f: _Field, value: list, companion: Any, expr: str, loc: tuple) -> None:
        for i, item in enumerate(value):
            if item is None:
                self.null_item(f, companion, i, f"{expr}[{i}]", loc + (i,))
                continue
            problem = _primitive_problem(f, item)
            if problem is not None:
                self.report(problem, f"{expr}[{i}]", loc + (i,))

    def null_item(self, f: _Field, companion: Any, i: int, expr: str, loc: tuple) -> None:
        """A null in an array is only a placeholder lining a value up with ``_name[i]``."""
        if f.prim is not None and isinstance(companion, list) and i < len(companion):
            if isinstance(companion[i], dict):
                return
        if f.prim is not None:
            text = (f"'{f.name}[{i}]' is null; a null in a primitive array is only allowed where "
                    f"'_{f.name}[{i}]' carries an extension for that position")
        else:
            text = f"'{f.name}[{i}]' is null; arrays of {_type_label(f)} cannot contain null"
        self.issue("structure", expr, text)
        self.drop(loc, expr, complex_item=f.prim is None)

    def item(self, f: _Field, item: Any, expr: str, loc: tuple, depth: int, children: list) -> None:
        if f.prim is not None:
            self.primitive(f, item, expr, loc)
            return
        if not isinstance(item, dict):
            self.issue(
                "structure",
                expr,
                f"'{f.name}' must be a JSON object ({_type_label(f)}); got {_json_type(item)} {_show(item)}".rstrip(),
            )
            self.drop(loc, expr)
            return
        if depth + 1 > self.max_depth:
            self.deep(expr, loc)
            return
        if f.is_resource:
            self.resource(item, expr, loc, depth + 1, children)
            return
        if not item:
            self.issue(
                "structure",
                expr,
                f"'{f.name}' is an empty object; every element needs content or must be omitted",
            )
            self.drop(loc, expr)
            return
        if f.codes is not None:
            self.coded_binding(f, item, expr)
        children.append((item, _field_meta(f), expr, loc, depth + 1, False))

    def resource(self, item: dict, expr: str, loc: tuple, depth: int, children: list) -> None:
        rt = item.get("resourceType")
        if not isinstance(rt, str):
            what = "has no 'resourceType'" if rt is None else f"has a 'resourceType' that is {_json_type(rt)}"
            self.issue(
                "structure",
                expr,
                f"This resource {what}; a resource must name its type, e.g. \"resourceType\": \"Patient\"",
            )
            self.drop(loc, expr)
            return
        model = _resource_model(rt)
        if model is None:
            self.issue(
                "structure",
                expr + ".resourceType",
                f"Unknown resourceType {_show(rt)}: not a FHIR R4 resource type",
            )
            self.drop(loc, expr)
            return
        children.append((item, _meta(model), expr, loc, depth, True))

    # -- primitives

    def primitive(self, f: _Field, v: Any, expr: str, loc: tuple) -> None:
        problem = _primitive_problem(f, v)
        if problem is not None:
            self.report(problem, expr, loc)

    def report(self, problem: tuple[str, str, bool], expr: str, loc: tuple) -> None:
        code, text, rejected = problem
        self.issue(code, expr, text)
        if rejected:
            self.drop(loc, expr, complex_item=False)

    # -- required bindings

    def binding_issue(self, f: _Field, code: Any, expr: str) -> None:
        self.issue("code-invalid", expr, _binding_text(f, code))

    def coded_binding(self, f: _Field, item: dict, expr: str) -> None:
        """Required binding on a Coding or CodeableConcept. Malformed codes are left to the
        structural checks, which report them at their own path."""
        codes = f.codes or frozenset()
        if f.coded == _CODING:
            code = item.get("code")
            if isinstance(code, str):
                if code not in codes:
                    self.binding_issue(f, code, expr + ".code")
            elif "code" not in item:
                self.issue(
                    "code-invalid",
                    expr,
                    f"'{f.name}' has a required binding to {f.value_set} but no code; use one of: {_code_list(codes)}",
                )
            return
        codings = item.get("coding")
        if codings is not None and not isinstance(codings, list):
            return
        found = [c.get("code") for c in codings or () if isinstance(c, dict)]
        texts = [c for c in found if isinstance(c, str)]
        if any(c in codes for c in texts):
            return
        if len(texts) < len([c for c in found if c is not None]) or len(found) < len(codings or ()):
            return  # some coding is malformed: reported structurally
        if not texts:
            self.issue(
                "code-invalid",
                expr,
                f"'{f.name}' has a required binding to {f.value_set}, "
                f"so it needs a coding with one of: {_code_list(codes)}",
            )
        elif len(found) == 1:
            self.binding_issue(f, texts[0], expr + ".coding[0].code")
        else:
            self.issue(
                "code-invalid",
                expr + ".coding",
                f"None of the codings of '{f.name}' has a code from its required binding {f.value_set}; "
                f"use one of: {_code_list(codes)}",
            )

    # -- primitive extension companions ("_name")

    def companion(
        self, obj: dict, key: str, value: Any, f: _Field, expr: str, loc: tuple, depth: int, children: list
    ) -> None:
        """``_name`` beside primitive ``name``: an object, or for arrays a parallel array."""
        cexpr, cloc = expr + "." + key, loc + (key,)
        base = obj.get(f.name)
        if not f.is_list:
            if isinstance(value, list) or value is None:
                self.issue(
                    "structure",
                    cexpr,
                    f"'{key}' must be an object with 'id' and/or 'extension' for the single value "
                    f"'{f.name}'; got {_json_type(value)}",
                )
                self.drop(cloc, cexpr)
                return
            self.primitive_extension(value, key, base is not None, cexpr, cloc, depth, children)
            return
        if not isinstance(value, list) or not value:
            got = "an empty array" if isinstance(value, list) else _json_type(value)
            self.issue(
                "structure",
                cexpr,
                f"'{key}' must be a non-empty array lining up with '{f.name}' "
                f"(null where a position has no extension); got {got}",
            )
            self.drop(cloc, cexpr)
            return
        if isinstance(base, list) and len(base) != len(value):
            self.issue(
                "structure",
                cexpr,
                f"'{key}' has {len(value)} entries but '{f.name}' has {len(base)}; "
                "the two arrays must have the same length",
            )
            self.drop(cloc, cexpr)
            return
        if depth + 1 > self.max_depth:
            self.deep(cexpr, cloc)
            return
        for i, ext in enumerate(value):
            has_value = isinstance(base, list) and base[i] is not None
            if ext is None:
                if not isinstance(base, list):
                    self.issue(
                        "structure",
                        f"{cexpr}[{i}]",
                        f"'{key}[{i}]' is null and '{f.name}' has no value there; the position carries nothing",
                    )
                continue
            self.primitive_extension(ext, f"{key}[{i}]", has_value, f"{cexpr}[{i}]", cloc + (i,), depth + 1, children)

    def primitive_extension(
        self, ext: Any, label: str, has_value: bool, expr: str, loc: tuple, depth: int, children: list
    ) -> None:
        if not isinstance(ext, dict):
            self.issue(
                "structure",
                expr,
                f"'{label}' must be an object with 'id' and/or 'extension'; got {_json_type(ext)}",
            )
            self.drop(loc, expr, complex_item=False)
            return
        if not ext:
            self.issue("structure", expr, f"'{label}' is an empty object; omit it or give it 'extension'")
            self.drop(loc, expr, complex_item=False)
            return
        if depth + 1 > self.max_depth:
            self.deep(expr, loc)
            return
        extensions = ext.get("extension")
        if not has_value and not (isinstance(extensions, list) and extensions):
            self.issue(
                "structure",
                expr,
                f"'{label}' stands without a value, which is only allowed when it carries extensions",
            )
        children.append((ext, _primitive_extension_meta(), expr, loc, depth + 1, False))

    # -- whole-object rules

    def check_object(self, obj: dict, meta: _Meta, expr: str, groups: dict[str, list[str]]) -> None:
        for f in meta.required:
            if f.name not in obj and "_" + f.name not in obj:
                self.issue(
                    "required",
                    expr + "." + f.name,
                    f"Missing required element '{f.name}' ({_type_label(f)}) in {meta.type_name}",
                )
        for group, keys in groups.items():
            if len(keys) > 1:
                self.issue(
                    "structure",
                    f"{expr}.{group}[x]",
                    f"'{group}[x]' is a choice of types and takes exactly one, "
                    f"but {len(keys)} are present: {', '.join(keys)}",
                )
        for group in meta.required_choices:
            if group not in groups:
                sample = ", ".join(meta.choices[group][:5])
                self.issue(
                    "required",
                    f"{expr}.{group}[x]",
                    f"Missing required element '{group}[x]' in {meta.type_name}; give exactly one of e.g. {sample}",
                )
        if meta.is_extension:
            self.check_extension(obj, expr, groups)

    def check_extension(self, obj: dict, expr: str, groups: dict[str, list[str]]) -> None:
        has_value = "value" in groups
        if has_value and "extension" in obj:
            self.issue("invariant", expr, "An extension has either a value[x] or nested extensions, not both (ext-1)")
        elif not has_value and "extension" not in obj:
            self.issue(
                "invariant",
                expr,
                "An extension needs a value[x] or nested extensions (ext-1); this one has neither",
            )


def _primitive_problem(f: _Field, v: Any) -> tuple[str, str, bool] | None:
    """What is wrong with primitive value ``v`` of element ``f``: (issue code, text, whether
    pydantic must not see the value), or None. Pure, so callers build paths only on failure."""
    kind = f.jkind
    if kind == _STR:
        if not isinstance(v, str):
            return _wrong_json(f, v)
        if not v or v.isspace():
            text = f"'{f.name}' is an empty or whitespace-only string; omit the element or give it a value"
            return "value", text, False
        if f.checked or len(v) > _MAX_STRING:
            return _string_problem(f, v)
        return None
    if kind == _BOOL:
        return None if v is True or v is False else _wrong_json(f, v)
    if kind == _INT:
        if type(v) is not int:
            return _wrong_json(f, v)
        if f.low <= v <= f.high:
            return None
        return "value", f"'{f.name}' is {_show(v)}, out of range for {f.prim}: expected {_FORMATS[f.prim or '']}", False
    if isinstance(v, bool) or not isinstance(v, (int, Decimal, float)):
        return _wrong_json(f, v)
    if not _is_finite(v):
        return "value", f"'{f.name}' is not a finite number; expected {_FORMATS['decimal']}", True
    return None


def _wrong_json(f: _Field, v: Any) -> tuple[str, str, bool]:
    shaped = isinstance(v, (dict, list))
    got = _json_type(v) if shaped else f"{_json_type(v)} {_show(v)}"
    expected = _FORMATS.get(f.prim or "", "a JSON string")
    text = f"'{f.name}' is a FHIR {f.prim}, which must be written as {expected}; got {got}"
    return ("structure" if shaped else "value"), text, True


def _string_problem(f: _Field, v: str) -> tuple[str, str, bool] | None:
    """Format checks the walk owns (pydantic misses or gets them wrong), and code bindings."""
    prim = f.prim or ""
    problem: str | None = None
    if prim == "code":
        if f.codes is not None and v not in f.codes:
            return "code-invalid", _binding_text(f, v), False
        return None
    if prim == "id":
        problem = None if _ID.match(v) else ""
    elif prim in ("uri", "url", "canonical"):
        problem = " (it contains whitespace)" if _WHITESPACE.search(v) else None
    elif prim == "oid":
        problem = None if _OID.match(v) else ""
    elif prim == "uuid":
        problem = None if _UUID.match(v) else ""
    elif prim == "base64Binary":
        problem = None if _is_base64(v) else ""
    elif prim in ("string", "markdown") and len(v) > _MAX_STRING:
        problem = f" (longer than {_MAX_STRING} characters)"
    if problem is None:
        return None
    return "value", f"'{f.name}' {_show(v)} is not a valid {prim}{problem}: expected {_FORMATS[prim]}", False


def _binding_text(f: _Field, code: Any) -> str:
    return (
        f"Code {_show(code)} is not allowed for '{f.name}', which has a required binding to "
        f"{f.value_set}; use one of: {_code_list(f.codes or frozenset())}"
    )


def _primitive_extension_meta() -> _Meta:
    global _PRIMITIVE_EXTENSION
    if _PRIMITIVE_EXTENSION is None:
        _PRIMITIVE_EXTENSION = _meta(get_fhir_model_class("FHIRPrimitiveExtension"))
    return _PRIMITIVE_EXTENSION


def _is_finite(v: int | Decimal | float) -> bool:
    if isinstance(v, Decimal):
        return v.is_finite()
    if isinstance(v, float):
        return v == v and v not in (float("inf"), float("-inf"))
    return True


def _is_base64(text: str) -> bool:
    try:
        binascii.a2b_base64(text, strict_mode=True)
        return True
    except (binascii.Error, ValueError):
        pass
    compact = "".join(text.split())
    try:
        binascii.a2b_base64(compact, strict_mode=True)
        return True
    except (binascii.Error, ValueError):
        return False


# --------------------------------------------------------------------------- pydantic pass


def _sanitized(data: dict, drops: list[tuple[tuple[Any, ...], Any]]) -> dict:
    """A copy of ``data`` without what the walk rejected, copying only the touched branches."""
    root = dict(data)
    copies = {id(root)}
    for loc, replacement in drops:
        cur: Any = root
        try:
            for step in loc[:-1]:
                child = cur[step]
                if id(child) not in copies:
                    child = dict(child) if isinstance(child, dict) else list(child)
                    cur[step] = child
                    copies.add(id(child))
                cur = child
            if replacement is _REMOVE:
                del cur[loc[-1]]
            else:
                cur[loc[-1]] = replacement
        except (KeyError, IndexError, TypeError):
            continue
    return root


def _resolve(loc: Iterable[Any], data: Any, meta: _Meta | None, root: str) -> tuple[str, str | None, str]:
    """Map a pydantic error location to (expression, primitive type, element name),
    following the data so pydantic's internal steps ('root', union tags) drop out."""
    parts = [root]
    cur, f, name = data, None, ""
    for step in loc:
        if isinstance(step, int):
            if isinstance(cur, list) and 0 <= step < len(cur):
                parts.append(f"[{step}]")
                cur = cur[step]
                meta = _meta_of(f, cur, meta)
            continue
        if not isinstance(step, str) or step == "root" or not _ELEMENT_NAME.match(step):
            continue
        known = meta is not None and (step in meta.fields or step[1:] in meta.fields)
        if not (isinstance(cur, dict) and step in cur) and not known:
            continue
        parts.append("." + step)
        name = step
        f = meta.fields.get(step) if meta is not None else None
        cur = cur.get(step) if isinstance(cur, dict) else None
        if step[:1] == "_":
            f, meta = None, _primitive_extension_meta()
        else:
            meta = _meta_of(f, cur, None)
    prim = f.prim if f is not None else None
    return "".join(parts), prim, name


def _meta_of(f: _Field | None, value: Any, fallback: _Meta | None) -> _Meta | None:
    if f is None:
        return fallback
    if f.is_resource:
        rt = value.get("resourceType") if isinstance(value, dict) else None
        model = _resource_model(rt) if isinstance(rt, str) else None
        return _meta(model) if model is not None else None
    return _field_meta(f) if f.model is not None else None


def _translate(err: dict, prim: str | None, name: str) -> tuple[str, str] | None:
    """A pydantic error as (issue code, sentence), or None when the walk owns that check."""
    kind = str(err.get("type", ""))
    message = str(err.get("msg", ""))
    if any(m in message for m in _PYDANTIC_WALK_MESSAGES) or kind.startswith("uuid"):
        return None
    if kind in ("missing", "model_field_validation.missing"):
        return "required", f"Missing required element '{name}'"
    if kind == "extra_forbidden":
        return "structure", f"Unknown element '{name}'"
    if prim is not None:
        if prim in _WALK_FORMATS:
            return None
        detail = ""
        ctx = err.get("ctx")
        if isinstance(ctx, dict) and isinstance(ctx.get("error"), str):
            detail = f" ({ctx['error']})"
        shown = _show(err.get("input"))
        return "value", f"'{name}' {shown} is not a valid {prim}{detail}: expected {_FORMATS.get(prim, prim)}"
    return "invalid", f"'{name}': {message}" if name else message


def _pydantic_issues(
    model: type, data: dict, meta: _Meta, root: str, flagged: list[str], dropped: list[str]
) -> list[Issue]:
    """Format errors only pydantic finds, minus anything at or under a path the walk flagged."""
    try:
        model.model_validate(data)
        return []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    except RecursionError:  # only reachable when the caller raised max_depth far above 64
        return [Issue("too-costly", "Content is nested too deeply to be validated", (root,))]
    except Exception as exc:  # a bug in the models must not become a 500
        text = f"The resource could not be fully validated ({type(exc).__name__}); please report this"
        return [Issue("exception", text, (root,))]
    out: list[Issue] = []
    seen = set(flagged)
    for err in errors:
        path, prim, name = _resolve(err.get("loc", ()), data, meta, root)
        if path in seen or any(path.startswith(p + ".") or path.startswith(p + "[") for p in dropped):
            continue
        translated = _translate(err, prim, name)
        if translated is None:
            continue
        seen.add(path)
        out.append(Issue(translated[0], translated[1], (path,)))
    return out


# --------------------------------------------------------------------------- entry point


def validate_resource(data: object, *, path: str | None = None, max_depth: int = 64) -> list[Issue]:
    """Every structural, format and required-binding problem of ``data`` (empty = valid).

    ``path`` prefixes expressions (default: the resourceType); ``max_depth`` bounds JSON
    nesting. Never raises.
    """
    walker = _Walker(max(1, max_depth) if isinstance(max_depth, int) else 64)
    try:
        return _validate(data, path, walker)
    except Exception as exc:  # last line of defence: report, never raise
        failure = Issue(
            "exception",
            f"The resource could not be fully validated ({type(exc).__name__}); please report this",
            (path,) if path else (),
        )
        return [*walker.issues, failure]


def _validate(data: object, path: str | None, walker: _Walker) -> list[Issue]:
    problem = _resource_type_problem(data, path)
    if problem is not None:
        return [problem]
    assert isinstance(data, dict)
    rtype = data["resourceType"]
    model = _resource_model(rtype)
    assert model is not None
    meta = _meta(model)
    root = path or rtype
    walker.run(data, meta, root)
    issues = walker.issues
    checked = _sanitized(data, walker.drops) if walker.drops else data
    flagged = [e for i in issues for e in i.expression]
    return issues + _pydantic_issues(model, checked, meta, root, flagged, walker.dropped)


def _resource_type_problem(data: object, path: str | None) -> Issue | None:
    """Check (a): a JSON object whose ``resourceType`` names a known resource type."""
    where = (path,) if path else ()
    if not isinstance(data, dict):
        return Issue("structure", f"A FHIR resource must be a JSON object; got {_json_type(data)}", where)
    rt = data.get("resourceType")
    rt_where = (f"{path}.resourceType",) if path else ("resourceType",)
    if rt is None:
        return Issue(
            "required",
            "Missing 'resourceType': a resource must name its type, e.g. \"resourceType\": \"Patient\"",
            rt_where,
        )
    if not isinstance(rt, str):
        return Issue(
            "structure",
            f"'resourceType' must be a string naming a resource type; got {_json_type(rt)}",
            rt_where,
        )
    if _resource_model(rt) is None:
        return Issue(
            "structure",
            f"Unknown resourceType {_show(rt)}: not a FHIR R4 resource type (names are case-sensitive, e.g. Patient)",
            rt_where,
        )
    return None
