"""FHIR XML (http://hl7.org/fhir/R4/xml.html) to and from the JSON form the server keeps.

Both directions are driven by the compiled R4 table the validator uses
(:mod:`server.fhir.structure`): it gives every type's elements in the order XML requires,
their cardinality (a JSON array or not), which are primitives (``<x value="…"/>``, with an
``_x`` companion in JSON for their id and extensions), which are choices (``value[x]`` →
``valueQuantity``), which hold a whole resource (``contained``, ``Bundle.entry.resource``)
and which are XML attributes (an element's ``id``, ``Extension.url``). The narrative's
``div`` is XHTML, carried as a string in JSON and as XHTML elements in XML.

Why not a library: the Python FHIR model library speaks R4B and builds a model per resource;
this needs only the R4 table the server already has. Parsing untrusted XML goes through
``defusedxml`` (no entities, no DTDs, no external references).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from .. import jsonio
from .outcome import FhirError, Issue
from .structure.formats import BOOL, INT, NUM
from .structure.table import Field, Structure, TypeMeta, structure

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_F = "{" + FHIR_NS + "}"
_X = "{" + XHTML_NS + "}"
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


# ------------------------------------------------------------------------------ writing


def to_xml(resource: dict[str, Any], *, pretty: bool = False) -> bytes:
    """``resource`` (FHIR JSON as a dict) as FHIR XML, UTF-8 with an XML declaration."""
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
    _Writer(structure(), out, pretty).resource(resource, 0, root=True)
    return ("\n" if pretty else "").join(out).encode("utf-8")


def _esc(text: str, quote: bool = False) -> str:
    text = _INVALID_XML_CHARS.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;") if quote else text


def _primitive_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return jsonio.dumps(value).decode() if math.isfinite(value) else str(value)
    return str(value)


class _Writer:
    def __init__(self, table: Structure, out: list[str], pretty: bool) -> None:
        self.table = table
        self.out = out
        self.pretty = pretty

    def _indent(self, depth: int) -> str:
        return "  " * depth if self.pretty else ""

    def resource(self, body: dict[str, Any], depth: int, root: bool = False) -> None:
        rtype = body.get("resourceType")
        meta = self.table.resource_meta(rtype) if isinstance(rtype, str) else None
        if meta is None:
            raise ValueError(f"not a resource type of FHIR R4: {rtype!r}")
        ns = f' xmlns="{FHIR_NS}"' if root else ""
        self.out.append(f"{self._indent(depth)}<{rtype}{ns}>")
        self.children(meta, body, depth + 1, resource=True)
        self.out.append(f"{self._indent(depth)}</{rtype}>")

    def children(self, meta: TypeMeta, obj: dict[str, Any], depth: int, resource: bool = False) -> None:
        """The elements of ``obj`` in the order the type defines (attributes are written by the caller)."""
        for f in meta.fields.values():  # built from the element rows: the order XML requires
            if _is_attribute(meta, f, resource):
                continue
            value, companion = obj.get(f.name), obj.get("_" + f.name)
            if value is None and companion is None:
                continue
            values = value if isinstance(value, list) else [value]
            companions = companion if isinstance(companion, list) else [companion] * len(values)
            if len(companions) < len(values):
                companions = [*companions, *[None] * (len(values) - len(companions))]
            if value is None:
                values = [None] * len(companions)
            for item, extra in zip(values, companions):
                self.element(f, item, extra, depth)

    def element(self, f: Field, value: Any, extra: Any, depth: int) -> None:
        pad = self._indent(depth)
        if f.prim is not None:
            if f.prim == "xhtml":
                self.out.append(pad + _xhtml(value))
                return
            attrs = ""
            if isinstance(extra, dict) and isinstance(extra.get("id"), str):
                attrs += f' id="{_esc(extra["id"], True)}"'
            if value is not None:
                attrs += f' value="{_esc(_primitive_text(value), True)}"'
            extensions = extra.get("extension") if isinstance(extra, dict) else None
            if not extensions:
                self.out.append(f"{pad}<{f.name}{attrs}/>")
                return
            self.out.append(f"{pad}<{f.name}{attrs}>")
            ext = self.table.primitive_extension.fields["extension"]
            for item in extensions:
                self.element(ext, item, None, depth + 1)
            self.out.append(f"{pad}</{f.name}>")
            return
        if f.is_resource:
            self.out.append(f"{pad}<{f.name}>")
            self.resource(value, depth + 1)
            self.out.append(f"{pad}</{f.name}>")
            return
        meta = self.table.field_meta(f)
        attrs = ""
        if isinstance(value.get("id"), str):
            attrs += f' id="{_esc(value["id"], True)}"'
        if meta.is_extension and isinstance(value.get("url"), str):
            attrs += f' url="{_esc(value["url"], True)}"'
        start = len(self.out)
        self.out.append(f"{pad}<{f.name}{attrs}>")
        self.children(meta, value, depth + 1)
        if len(self.out) == start + 1:
            self.out[start] = f"{pad}<{f.name}{attrs}/>"
        else:
            self.out.append(f"{pad}</{f.name}>")


def _is_attribute(meta: TypeMeta, f: Field, resource: bool) -> bool:
    """``id`` of an element (not of a resource) and ``Extension.url`` are XML attributes."""
    return (f.name == "id" and not resource) or (f.name == "url" and meta.is_extension)


def _xhtml(value: Any) -> str:
    """The narrative div as XHTML elements (well-formed, in the XHTML namespace)."""
    text = value if isinstance(value, str) else ""
    try:
        div = SafeET.fromstring(text)
    except Exception:  # not well-formed: keep the words, escaped
        return f'<div xmlns="{XHTML_NS}">{_esc(text)}</div>'
    return _write_xhtml(div, top=True)


def _write_xhtml(el: Element, top: bool = False) -> str:
    tag = el.tag.split("}", 1)[1] if el.tag.startswith("{") else el.tag
    attrs = "".join(f' {_xhtml_attr_name(k)}="{_esc(v, True)}"' for k, v in el.attrib.items())
    if top:
        attrs = f' xmlns="{XHTML_NS}"' + attrs
    inner = _esc(el.text or "") + "".join(_write_xhtml(child) + _esc(child.tail or "") for child in el)
    return f"<{tag}{attrs}>{inner}</{tag}>" if inner else f"<{tag}{attrs}/>"


def _xhtml_attr_name(name: str) -> str:
    if name.startswith("{http://www.w3.org/XML/1998/namespace}"):
        return "xml:" + name.split("}", 1)[1]
    return name.split("}", 1)[1] if name.startswith("{") else name


# ------------------------------------------------------------------------------ reading


def from_xml(data: bytes | str) -> dict[str, Any]:
    """FHIR XML as the JSON form (a dict). Anything that is not FHIR XML of a known type
    raises :class:`FhirError` 400 naming every element it could not read."""
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml's refusals and expat's syntax errors alike
        raise FhirError.of(400, "structure", f"The body is not well-formed XML: {exc}") from None
    reader = _Reader(structure())
    body = reader.resource(root, "")
    if reader.issues:
        raise FhirError(400, reader.issues)
    return body


class _Reader:
    def __init__(self, table: Structure) -> None:
        self.table = table
        self.issues: list[Issue] = []

    def problem(self, path: str, text: str) -> None:
        self.issues.append(Issue("structure", text, (path,) if path else ()))

    def resource(self, el: Element, path: str) -> dict[str, Any]:
        if not el.tag.startswith(_F):
            self.problem(path, f"<{el.tag}> is not in the FHIR namespace ({FHIR_NS})")
            return {}
        rtype = el.tag[len(_F):]
        meta = self.table.resource_meta(rtype)
        if meta is None:
            self.problem(path or rtype, f"'{rtype}' is not a resource type of FHIR R4")
            return {}
        body: dict[str, Any] = {"resourceType": rtype}
        self.children(meta, el, body, path + rtype if not path else f"{path}", resource=True)
        return body

    def children(self, meta: TypeMeta, el: Element, obj: dict[str, Any], path: str, resource: bool = False) -> None:
        for name, value in el.attrib.items():
            if name == "id" and not resource:
                obj["id"] = value
            elif name == "url" and meta.is_extension:
                obj["url"] = value
            elif not name.startswith("{"):  # namespaced attributes (xsi:schemaLocation) are allowed
                self.problem(f"{path}.@{name}", f"Unknown attribute '{name}' on {path}")
        for child in el:
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            if child.tag.startswith(_X) and child.tag[len(_X):] == "div" and "div" in meta.fields:
                obj["div"] = _write_xhtml(child, top=True)
                continue
            if not child.tag.startswith(_F):
                self.problem(f"{path}", f"<{child.tag}> is not in the FHIR namespace")
                continue
            name = child.tag[len(_F):]
            f = meta.fields.get(name)
            if f is None or _is_attribute(meta, f, resource):
                self.problem(f"{path}.{name}", f"Unknown element '{name}' in {meta.type_name}")
                continue
            here = f"{path}.{name}"
            if f.prim is not None:
                self.primitive(f, child, obj, here)
            elif f.is_resource:
                inner = [c for c in child if isinstance(c.tag, str)]
                if len(inner) != 1:
                    self.problem(here, f"{here} must hold exactly one resource")
                    continue
                _put(obj, f, self.resource(inner[0], here), self, here)
            else:
                value: dict[str, Any] = {}
                self.children(self.table.field_meta(f), child, value, here)
                _put(obj, f, value, self, here)
        _drop_null_only_values(obj)

    def primitive(self, f: Field, el: Element, obj: dict[str, Any], path: str) -> None:
        raw = el.attrib.get("value")
        value = None if raw is None else self.convert(f, raw, path)
        extra: dict[str, Any] = {}
        for name, attr in el.attrib.items():
            if name == "id":
                extra["id"] = attr
            elif name != "value" and not name.startswith("{"):
                self.problem(f"{path}.@{name}", f"Unknown attribute '{name}' on {path}")
        ext_field = self.table.primitive_extension.fields["extension"]
        for child in el:
            if not isinstance(child.tag, str):
                continue
            if child.tag == _F + "extension":
                ext: dict[str, Any] = {}
                self.children(self.table.field_meta(ext_field), child, ext, f"{path}.extension")
                extra.setdefault("extension", []).append(ext)
            else:
                self.problem(path, f"<{child.tag}> is not allowed in the primitive {path}")
        if value is None and not extra:
            self.problem(path, f"{path} has neither a value nor extensions")
            return
        if f.is_list:
            values = obj.setdefault(f.name, [])
            companions = obj.get("_" + f.name)
            if extra and companions is None:
                companions = obj["_" + f.name] = [None] * len(values)
            values.append(value)
            if companions is not None:
                companions.append(extra or None)
            return
        if f.name in obj or "_" + f.name in obj:
            self.problem(path, f"{path} appears more than once; it allows one")
            return
        if value is not None:
            obj[f.name] = value
        if extra:
            obj["_" + f.name] = extra

    def convert(self, f: Field, raw: str, path: str) -> Any:
        if f.jkind == BOOL:
            if raw not in ("true", "false"):
                self.problem(path, f"'{raw}' is not a boolean (true or false)")
            return raw == "true"
        if f.jkind in (INT, NUM):
            # as jsonio reads JSON: whole numbers as int, the rest as Decimal (its precision kept)
            if re.fullmatch(r"-?[0-9]+", raw):
                return int(raw)
            if f.jkind == NUM and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", raw):
                return Decimal(raw)
            self.problem(path, f"'{raw}' is not {'an integer' if f.jkind == INT else 'a decimal number'}")
            return raw
        return raw


def _drop_null_only_values(obj: dict[str, Any]) -> None:
    """A repeating primitive whose every position has only extensions is written as the ``_name``
    array alone, without a value array of nulls, as HL7's own JSON examples write it."""
    for key in [k for k in obj if k.startswith("_") and isinstance(obj[k], list)]:
        values = obj.get(key[1:])
        if isinstance(values, list) and all(v is None for v in values):
            del obj[key[1:]]


def _put(obj: dict[str, Any], f: Field, value: Any, reader: _Reader, path: str) -> None:
    if f.is_list:
        obj.setdefault(f.name, []).append(value)
    elif f.name in obj:
        reader.problem(path, f"{path} appears more than once; it allows one")
    else:
        obj[f.name] = value
