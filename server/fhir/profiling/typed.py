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
from typing import Any, Iterator

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

    def types(self) -> list[str]:
        """Its type and the types that type derives from (``Age``, ``Quantity``, ``Element``)."""
        bases = structure().bases
        out = [self.type]
        while out[-1] in bases and len(out) < 8:
            out.append(bases[out[-1]])
        if out[-1] != "Resource" and "Element" not in out:
            out.append("Element")
        return out


_Task = tuple  # (object, TypeMeta, Element)


def elements(resource: dict[str, Any]) -> Iterator[Element]:
    """Every element of ``resource`` (contained resources and extension values included), parents first."""
    table = structure()
    rtype = resource.get("resourceType")
    meta = table.resource_meta(rtype) if isinstance(rtype, str) else None
    if meta is None:
        return
    top = Element(resource, rtype, rtype, rtype, rtype, "", None)
    yield top
    stack: list[_Task] = [(resource, meta, top)]
    while stack:
        obj, meta, here = stack.pop()
        owner = here.definition if meta is table.primitive_extension else meta.type_name
        found: list[Element] = []
        tasks: list[_Task] = []
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
                found += _primitives(table, f, obj, owner, here, tasks)
            else:
                found += _complex(table, f, value, owner, here, tasks)
        stack.extend(reversed(tasks))  # in document order
        yield from found


def _items(value: Any, path: str) -> list[tuple[Any, str]]:
    if isinstance(value, list):
        return [(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return [(value, path)]


def _primitives(table: Structure, f: Field, obj: dict, owner: str, here: Element, stack: list[_Task]) -> list[Element]:
    values, companions = obj.get(f.name), obj.get("_" + f.name)
    count = max(len(values) if isinstance(values, list) else 1, len(companions) if isinstance(companions, list) else 1)
    out = []
    for i in range(count):
        value = _at(values, i, f.is_list)
        companion = _at(companions, i, f.is_list)
        if value is None and not isinstance(companion, dict):
            continue
        path = f"{here.path}.{f.name}" + (f"[{i}]" if f.is_list else "")
        el = Element(value, path, f"{here.literal}.{f.name}", f"{owner}.{_element_name(f)}", f.prim or "", f.name, here)
        out.append(el)
        if isinstance(companion, dict):
            stack.append((companion, table.primitive_extension, el))
    return out


def _at(value: Any, i: int, is_list: bool) -> Any:
    if is_list:
        return value[i] if isinstance(value, list) and i < len(value) else None
    return None if isinstance(value, list) or i else value


def _complex(table: Structure, f: Field, value: Any, owner: str, here: Element, stack: list[_Task]) -> list[Element]:
    out = []
    for item, path in _items(value, f"{here.path}.{f.name}"):
        if not isinstance(item, dict):
            continue
        if f.is_resource:
            rtype = item.get("resourceType")
            inner = table.resource_meta(rtype) if isinstance(rtype, str) else None
            if inner is not None:
                el = Element(item, path, rtype, rtype, rtype, f.name, here)
                out.append(el)
                stack.append((item, inner, el))
            continue
        inner = table.field_meta(f)
        backbone = "." in inner.type_name
        definition = inner.type_name if backbone else f"{owner}.{_element_name(f)}"
        el = Element(item, path, f"{here.literal}.{f.name}", definition, "BackboneElement" if backbone else inner.type_name, f.name, here)
        out.append(el)
        stack.append((item, inner, el))
    return out


def _element_name(f: Field) -> str:
    return f"{f.choice}[x]" if f.choice else f.name
