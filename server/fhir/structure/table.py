"""The compiled R4 table as the walk reads it: one :class:`TypeMeta` per resource, complex
type and backbone element, built on first use and read-only after.

``data/r4-structure.json`` (see :mod:`.compile`) gives the elements; required bindings come
from ``data/required-bindings.json`` and ``data/datatype-required-bindings.json``, keyed by
element path. A backbone element reused through a content reference
(``Invoice.totalPriceComponent`` reuses ``Invoice.lineItem.priceComponent``) answers to all
its paths, so a binding listed under any of them applies.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .formats import Format, build_formats

__all__ = ["CODE", "CODING", "CONCEPT", "Field", "Structure", "TypeMeta", "structure"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TABLE_FILE = DATA_DIR / "r4-structure.json"
BINDING_FILES = ("required-bindings.json", "datatype-required-bindings.json")

# How an element can carry a bound code.
CODE, CODING, CONCEPT = 1, 2, 3
_CODED = {"code": CODE, "Coding": CODING, "CodeableConcept": CONCEPT}
_PRIMITIVE_EXTENSION = "a primitive's '_' companion (which holds only 'id' and 'extension')"


@dataclass(slots=True, eq=False)
class Field:
    """One JSON property of a type (a choice type expands to one per type: ``valueQuantity``)."""

    name: str
    is_list: bool
    required: bool  # min >= 1 (choices: see TypeMeta.required_choices)
    choice: str | None  # "value" for value[x]
    prim: str | None  # primitive type, None for complex elements
    fmt: Format | None = None
    jkind: int = 0  # JSON kind of primitives (formats.BOOL ... STR)
    type_key: str | None = None  # table key of a complex element: "HumanName", "Patient.contact"
    is_resource: bool = False  # holds any resource (contained, Bundle.entry.resource, ...)
    has_companion: bool = False  # a '_name' sibling is allowed
    coded: int = 0
    codes: frozenset[str] | None = None
    value_set: str = ""
    meta: TypeMeta | None = None  # complex elements, resolved on first use


@dataclass(slots=True, eq=False)
class TypeMeta:
    """Everything the walk needs about one type."""

    type_name: str  # canonical element path: "Patient", "Patient.contact", "HumanName"
    fields: dict[str, Field]
    choices: dict[str, tuple[str, ...]]
    required: tuple[Field, ...]
    required_choices: tuple[str, ...]
    lower: dict[str, str] = field(default_factory=dict)
    is_extension: bool = False


class Structure:
    """Lookups over the table; metas are built lazily (most servers see a dozen types)."""

    def __init__(self, table: dict[str, Any], bindings: dict[str, tuple[frozenset[str], str]]) -> None:
        self.version: str = table.get("fhirVersion", "")
        self.types: dict[str, dict[str, Any]] = table["types"]
        self.formats: dict[str, Format] = build_formats(table["primitives"])
        self.bindings = bindings
        self.aliases = _aliases(self.types)
        #: the base of each type (``Age`` -> ``Quantity``, ``code`` -> ``string``, ``Patient`` -> ``DomainResource``)
        self.bases: dict[str, str] = {k: t["base"] for k, t in {**table["primitives"], **self.types}.items() if t.get("base")}
        self.resource_types: frozenset[str] = frozenset(
            k for k, t in self.types.items() if t["kind"] == "resource" and not t.get("abstract")
        )
        self._metas: dict[str, TypeMeta] = {}
        self._lock = threading.RLock()
        self.primitive_extension = self._build_primitive_extension()

    # -- lookups

    def meta(self, key: str) -> TypeMeta:
        meta = self._metas.get(key)
        if meta is None:
            with self._lock:
                meta = self._metas.get(key)
                if meta is None:
                    meta = self._metas[key] = self._build(key)
        return meta

    def resource_meta(self, name: str) -> TypeMeta | None:
        """The meta of a concrete resource type, or None (abstract, unknown, not a resource)."""
        return self.meta(name) if name in self.resource_types else None

    def field_meta(self, f: Field) -> TypeMeta:
        meta = f.meta
        if meta is None:
            meta = f.meta = self.meta(f.type_key)  # type: ignore[arg-type]
        return meta

    def type_label(self, f: Field) -> str:
        if f.prim is not None:
            return f.prim
        if f.is_resource:
            return "a resource"
        return self.field_meta(f).type_name

    # -- building

    def _build(self, key: str) -> TypeMeta:
        spec = self.types[key]
        paths = (key, *self.aliases.get(key, ()))
        fields: dict[str, Field] = {}
        choices: dict[str, list[str]] = {}
        required_choices: list[str] = []
        for row in spec["elements"]:
            name, low, high, types = row[0], row[1], row[2], row[3]
            attribute = len(row) > 4 and row[4] == "a"
            is_list = high != "1"
            if name.endswith("[x]"):
                group = name[:-3]
                if low >= 1:
                    required_choices.append(group)
                for t in types:
                    f = self._field(group + t[0].upper() + t[1:], t, is_list, False, group, attribute)
                    self._bind(f, paths, (f.name, name))
                    fields[f.name] = f
                    choices.setdefault(group, []).append(f.name)
                continue
            f = self._field(name, types[0], is_list, low >= 1, None, attribute)
            self._bind(f, paths, (name,))
            fields[name] = f
        return TypeMeta(
            type_name=key,
            fields=fields,
            choices={k: tuple(v) for k, v in choices.items()},
            required=tuple(f for f in fields.values() if f.required),
            required_choices=tuple(sorted(required_choices)),
            lower={n.lower(): n for n in fields},
            is_extension=key == "Extension",
        )

    def _field(self, name: str, t: str, is_list: bool, required: bool, choice: str | None, attribute: bool) -> Field:
        fmt = self.formats.get(t)
        f = Field(name, is_list, required, choice, t if fmt is not None else None)
        f.coded = _CODED.get(t, 0)
        if fmt is not None:
            f.fmt, f.jkind = fmt, fmt.jkind
            f.has_companion = fmt.extensions and not attribute
        elif t == "Resource":
            f.is_resource = True
        else:
            f.type_key = t
        return f

    def _bind(self, f: Field, paths: tuple[str, ...], names: tuple[str, ...]) -> None:
        if not f.coded:
            return
        for path in paths:
            for name in names:
                bound = self.bindings.get(f"{path}.{name}")
                if bound is not None:
                    f.codes, f.value_set = bound
                    return

    def _build_primitive_extension(self) -> TypeMeta:
        fields = {
            "id": self._field("id", "string", False, False, None, True),
            "extension": self._field("extension", "Extension", True, False, None, False),
        }
        return TypeMeta(_PRIMITIVE_EXTENSION, fields, {}, (), (), {n.lower(): n for n in fields})


def _aliases(types: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Backbone key -> the other element paths that reuse it by content reference."""
    out: dict[str, list[str]] = {}
    for key, spec in types.items():
        for row in spec["elements"]:
            path = f"{key}.{row[0]}"
            for t in row[3]:
                if "." in t and t != path:
                    out.setdefault(t, []).append(path)
    return out


def load_bindings(files: tuple[str, ...] = BINDING_FILES) -> dict[str, tuple[frozenset[str], str]]:
    """Required bindings by element path, from the resource and datatype data files."""
    table: dict[str, tuple[frozenset[str], str]] = {}
    for name in files:
        with open(DATA_DIR / name, encoding="utf-8") as fh:
            for path, spec in json.load(fh).items():
                table[path] = (frozenset(spec["codes"]), spec.get("valueSet", ""))
    return table


@lru_cache(maxsize=1)
def structure() -> Structure:
    """The server's R4 structure (loaded once, ~10 ms)."""
    with open(TABLE_FILE, encoding="utf-8") as fh:
        table = json.load(fh)
    return Structure(table, load_bindings())
