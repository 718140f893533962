"""The elements of an instance with their R4 types, read off the compiled structure table.

Rules that depend on what an element is rather than on a profile (where an extension may be
used, HTML-like text in strings, example URLs) need each element's type and its place: the
path with indexes (``Patient.name[0].family``), the path without them from the nearest resource
(``Patient.name.family``) and the path in the type that defines it (``HumanName.family``).
Elements the table does not know, or JSON of the wrong shape, are skipped: the structural
validation reports them. The walk keeps its own stack, so no input can exhaust Python's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple

from ..structure.table import Field, Structure, structure

EXTENSION_KEYS = frozenset({"extension", "modifierExtension"})


@dataclass(frozen=True, slots=True)
class Element:
    value: Any  # a primitive's JSON value (None when only its '_' companion is given), else the object
    path: str  # Patient.name[0].family
    literal: str  # Patient.name.family: from the nearest resource, without indexes
    definition: str  # HumanName.family: the element's path in the type defining it
    type: str  # string, HumanName, Patient, BackboneElement, Extension
    name: str  # the JSON key it is under ("" for a resource at the top)
    parent: "Element | None"
    resource: dict[str, Any]  # the resource it is in (FHIRPath's %resource)
    root: dict[str, Any]  # a contained resource's container, else ``resource`` (%rootResource)

    @property
    def key(self) -> str:
        """Its type in the structure table: the type, or a backbone's own path (``Patient.contact``)."""
        return self.definition if self.type == "BackboneElement" else self.type

    def types(self) -> list[str]:
        """Its type and the types that type derives from (``Age``, ``Quantity``, ``Element``)."""
        bases = structure().bases
        out = [self.type]
        while out[-1] in bases and len(out) < 8:
            out.append(bases[out[-1]])
        if out[-1] != "Resource" and "Element" not in out:
            out.append("Element")
        return out


_Task = tuple  # (Element, TypeMeta | None, the object whose fields are its children | None)


def elements(resource: dict[str, Any]) -> Iterator[Element]:
    """Every element of ``resource`` (contained resources and extension values included), in
    document order, each before what it holds."""
    table = structure()
    rtype = resource.get("resourceType")
    meta = table.resource_meta(rtype) if isinstance(rtype, str) else None
    if meta is None:
        return
    top = Element(resource, rtype, rtype, rtype, rtype, "", None, resource, resource)
    stack: list[_Task] = [(top, meta, resource)]
    while stack:
        here, meta, obj = stack.pop()
        yield here
        if meta is None or obj is None:
            continue
        owner = here.definition if meta is table.primitive_extension else meta.type_name
        children: list[_Task] = []
        for key, value in obj.items():
            if not isinstance(key, str):
                continue
            name = key[1:] if key[:1] == "_" else key
            f = meta.fields.get(name)
            if f is None or (key[:1] == "_" and f.prim is None):
                continue
            if f.prim is not None:
                if key[:1] == "_" and name in obj:
                    continue  # read with its value
                children += _primitives(table, f, obj, owner, here)
            else:
                children += _complex(table, f, value, owner, here)
        stack.extend(reversed(children))


class Node(NamedTuple):
    """A complex element (not a primitive) as the rules on types see it."""

    value: dict[str, Any]
    key: str  # its type in the table: "Period", "Patient", the backbone "Patient.contact"
    path: str  # FHIRPath-like: "Patient.identifier[1].period"
    resource: dict[str, Any]  # %resource
    root: dict[str, Any]  # %rootResource
    parent: str  # the key of the node it is in ("" for the resource walked)

    @property
    def is_contained(self) -> bool:
        return self.value is self.resource and self.resource is not self.root


class Walk:
    """One resource walked once: its elements, and its complex elements as nodes. ``validate`` makes
    one and hands it to every rule module, so a resource is walked once however many rules read it."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.elements: tuple[Element, ...] = tuple(elements(resource))
        self.nodes: tuple[Node, ...] = tuple(
            Node(el.value, el.key, el.path, el.resource, el.root, el.parent.key if el.parent else "")
            for el in self.elements if isinstance(el.value, dict) and el.type and el.type[0].isupper())


def nodes(resource: dict[str, Any], walk: Walk | None = None) -> tuple[Node, ...]:
    """The complex elements of ``resource`` (objects: resources, data types, backbones, extensions),
    in document order: what the rules that hold for a type wherever it occurs walk (per-1 on every
    Period). ``walk``: the resource walked already."""
    return (walk or Walk(resource)).nodes


def _items(value: Any, path: str) -> list[tuple[Any, str]]:
    if isinstance(value, list):
        return [(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return [(value, path)]


def _primitives(table: Structure, f: Field, obj: dict, owner: str, here: Element) -> list[_Task]:
    values, companions = obj.get(f.name), obj.get("_" + f.name)
    count = max(len(values) if isinstance(values, list) else 1, len(companions) if isinstance(companions, list) else 1)
    out: list[_Task] = []
    for i in range(count):
        value = _at(values, i, f.is_list)
        companion = _at(companions, i, f.is_list)
        if value is None and not isinstance(companion, dict):
            continue
        path = f"{here.path}.{f.name}" + (f"[{i}]" if f.is_list else "")
        el = Element(value, path, f"{here.literal}.{f.name}", f"{owner}.{_element_name(f)}", f.prim or "", f.name, here, here.resource, here.root)
        out.append((el, table.primitive_extension, companion) if isinstance(companion, dict) else (el, None, None))
    return out


def _at(value: Any, i: int, is_list: bool) -> Any:
    if is_list:
        return value[i] if isinstance(value, list) and i < len(value) else None
    return None if isinstance(value, list) or i else value


def _complex(table: Structure, f: Field, value: Any, owner: str, here: Element) -> list[_Task]:
    out: list[_Task] = []
    for item, path in _items(value, f"{here.path}.{f.name}"):
        if not isinstance(item, dict):
            continue
        if f.is_resource:
            rtype = item.get("resourceType")
            inner = table.resource_meta(rtype) if isinstance(rtype, str) else None
            if inner is not None:  # contained: %rootResource stays the container; a Bundle entry is a resource of its own
                el = Element(item, path, rtype, rtype, rtype, f.name, here, item, here.root if f.name == "contained" else item)
                out.append((el, inner, item))
            continue
        inner = table.field_meta(f)
        backbone = "." in inner.type_name
        definition = inner.type_name if backbone else f"{owner}.{_element_name(f)}"
        el = Element(item, path, f"{here.literal}.{f.name}", definition, "BackboneElement" if backbone else inner.type_name, f.name, here,
                     here.resource, here.root)
        out.append((el, inner, item))
    return out


def _element_name(f: Field) -> str:
    return f"{f.choice}[x]" if f.choice else f.name
