"""Compile the FHIR R4 StructureDefinitions into the compact table the validator reads.

    python -m server.fhir.structure.compile PROFILES_RESOURCES PROFILES_TYPES [--out FILE]

Each argument is either a definitions Bundle (``profiles-resources.json``,
``profiles-types.json`` of the R4 ``definitions.json.zip``) or a folder of single
StructureDefinition files (the ``package/`` folder of the ``hl7.fhir.r4.core`` package); only
the base specializations are read (resources, complex types, primitive types), from their
snapshots. The output (default ``server/fhir/data/r4-structure.json``) is committed, so the
server never needs the definitions themselves.

Where the committed table came from (FHIR 4.0.1, build 9346c8cc45, CC0):

* types: ``fhir-crucible/fhir_models``, ``lib/fhir_models/definitions/structures/profiles-types.json``
  at commit d5a09480080a50c410d440d8a87b766c292fc7bb (the official Bundle, unchanged);
* resources: ``google/fhir``, ``spec/hl7.fhir.core/4.0.1/package/StructureDefinition-*.json``
  at commit 74fce9530cd710d1fa27bcad0e4b4dbd5031b16d (added in d9d10d004fa664b8fc5bdc2c08178f42784fe14c:
  the ``hl7.fhir.r4.core`` 4.0.1 package, one file per definition; its types are identical to
  the Bundle above, element by element).

To rebuild, get those two (or the official ``definitions.json.zip`` of R4) outside the
repository and run, e.g.::

    python -m server.fhir.structure.compile /tmp/r4/package /tmp/r4/profiles-types.json

Table layout (short keys keep it small)::

    {"fhirVersion": "4.0.1",
     "primitives": {"date": {"json": "string", "regex": "...", "base": "Element"}, ...},
     "types": {"Patient": {"kind": "resource", "base": "DomainResource",
                           "elements": [["name", 0, "*", ["HumanName"]], ...]},
               "Patient.contact": {"kind": "backbone", "elements": [...]}, ...}}

An element is ``[name, min, max, types]`` plus an optional flag: ``"a"`` for XML attributes
(``Element.id``, ``Extension.url``), which JSON cannot extend with a ``_name`` companion.
``name`` keeps ``[x]`` for choices, whose ``types`` are the choices in order. A type is a
primitive or complex type name, ``Resource`` (any resource), or the path of a backbone element
(``Patient.contact``); a content reference (``Questionnaire.item.item``) names the path it
reuses (``Questionnaire.item``).

Two rules are not read from the snapshots, on purpose:

* ``resource-id``: the 4.0.1 snapshots type every resource's ``id`` as ``System.String`` (a known
  technical error of that build); the resource pages, and every server, use ``id``. So the
  root ``id`` of a resource gets ``id`` (and, like other ``System.*`` elements, no companion).
* ``json``: how a primitive is written in JSON (true/false, number, string) is the JSON
  format page's rule, not in the definitions; ``PRIMITIVE_JSON`` spells it out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
SYSTEM_PREFIX = "http://hl7.org/fhirpath/System."
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "r4-structure.json"

#: JSON representation of primitives (R4 json.html#primitive); everything else is a string
PRIMITIVE_JSON = {
    "boolean": "boolean",
    "integer": "integer",
    "unsignedInt": "integer",
    "positiveInt": "integer",
    "decimal": "number",
}
_KINDS = ("resource", "complex-type", "primitive-type")

Element = list[Any]  # [name, min, max, types] or [name, min, max, types, flag]


# --------------------------------------------------------------------------- reading


def read_definitions(path: str | Path) -> Iterator[dict[str, Any]]:
    """StructureDefinitions from a Bundle file, a single definition, or a folder of them."""
    p = Path(path)
    files = sorted(p.glob("StructureDefinition-*.json")) if p.is_dir() else [p]
    for f in files:
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
        if doc.get("resourceType") == "Bundle":
            yield from (e["resource"] for e in doc.get("entry", ()) if isinstance(e.get("resource"), dict))
        else:
            yield doc


def base_definitions(definitions: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The base specializations by type name; profiles, extensions and logical models dropped."""
    out: dict[str, dict[str, Any]] = {}
    for sd in definitions:
        if sd.get("resourceType") != "StructureDefinition" or sd.get("kind") not in _KINDS:
            continue
        if sd.get("derivation", "specialization") != "specialization":
            continue
        out[sd["type"]] = sd
    return out


# --------------------------------------------------------------------------- primitives


def compile_primitive(sd: dict[str, Any]) -> dict[str, Any]:
    """JSON kind, regex (from the ``value`` element's type) and base type of one primitive."""
    name = sd["type"]
    entry: dict[str, Any] = {"json": PRIMITIVE_JSON.get(name, "string"), "base": _last(sd.get("baseDefinition", ""))}
    for el in sd["snapshot"]["element"]:
        if el["path"] == f"{name}.value":
            for t in el.get("type", ()):
                for ext in t.get("extension", ()):
                    if ext.get("url") == REGEX_EXT:
                        entry["regex"] = ext["valueString"]
        elif el["path"] == f"{name}.extension" and el.get("max") == "0":
            entry["extensions"] = False  # xhtml: no '_div' in JSON
    return entry


# --------------------------------------------------------------------------- complex types, resources


def _last(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def _type_code(el: dict[str, Any], t: dict[str, Any]) -> str:
    """A type's name; ``System.String`` and friends become the FHIR type they stand for."""
    code = t["code"]
    if code.startswith(SYSTEM_PREFIX):
        for ext in t.get("extension", ()):
            if ext.get("url") == FHIR_TYPE_EXT:
                return ext.get("valueUrl") or ext.get("valueUri") or "string"
        return "string"
    return code


def compile_structure(sd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The element tables of one resource or complex type: its root and every backbone element."""
    root = sd["type"]
    elements = sd["snapshot"]["element"]
    paths = {el["path"] for el in elements}
    parents = {p.rsplit(".", 1)[0] for p in paths if "." in p}
    tables: dict[str, dict[str, Any]] = {}
    head: dict[str, Any] = {"kind": "resource" if sd["kind"] == "resource" else "complex-type"}
    if sd.get("abstract"):
        head["abstract"] = True
    if sd.get("baseDefinition"):
        head["base"] = _last(sd["baseDefinition"])
    tables[root] = {**head, "elements": []}
    for el in elements:
        path = el["path"]
        if "." not in path:
            continue
        parent, name = path.rsplit(".", 1)
        if path in parents:  # has children: a backbone element, its own table
            tables.setdefault(path, {"kind": "backbone", "elements": []})
            types = [path]
        elif "contentReference" in el:
            types = [el["contentReference"].split("#", 1)[-1]]
        else:
            types = [_type_code(el, t) for t in el.get("type", ())]
        if parent == root and name == "id" and sd["kind"] == "resource":
            types = ["id"]  # rule resource-id (see the module docstring)
        row: Element = [name, int(el.get("min", 0)), str(el.get("max", "1")), types]
        if "xmlAttr" in el.get("representation", ()) or any(
            t.get("code", "").startswith(SYSTEM_PREFIX) for t in el.get("type", ())
        ):
            row.append("a")
        tables.setdefault(parent, {"kind": "backbone", "elements": []})["elements"].append(row)
    return tables


# --------------------------------------------------------------------------- the table


def compile_table(definitions: Iterable[dict[str, Any]]) -> dict[str, Any]:
    base = base_definitions(definitions)
    primitives = {n: compile_primitive(sd) for n, sd in sorted(base.items()) if sd["kind"] == "primitive-type"}
    types: dict[str, dict[str, Any]] = {}
    for name, sd in sorted(base.items()):
        if sd["kind"] != "primitive-type":
            types.update(compile_structure(sd))
    version = {sd.get("fhirVersion") for sd in base.values()} - {None}
    return {
        "about": "FHIR R4 element tables and primitive formats, compiled from the 4.0.1 StructureDefinitions "
                 "by server/fhir/structure/compile.py (see its docstring for the sources and how to rebuild)",
        "fhirVersion": ",".join(sorted(version)) or "4.0.1",
        "primitives": primitives,
        "types": dict(sorted(types.items())),
    }


def dumps(table: dict[str, Any]) -> str:
    """One type per line: small, and a rebuild diffs line by line."""
    head = {k: v for k, v in table.items() if k not in ("primitives", "types")}
    lines = ["{"]
    lines += [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    for section in ("primitives", "types"):
        items = list(table[section].items())
        lines.append(f"{json.dumps(section)}: {{")
        for i, (k, v) in enumerate(items):
            comma = "," if i < len(items) - 1 else ""
            lines.append(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}{comma}")
        lines.append("}," if section == "primitives" else "}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("profiles_resources", help="profiles-resources.json, or a folder of StructureDefinition-*.json")
    ap.add_argument("profiles_types", help="profiles-types.json, or a folder of StructureDefinition-*.json")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"output file (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    definitions = [*read_definitions(args.profiles_types), *read_definitions(args.profiles_resources)]
    table = compile_table(definitions)
    text = dumps(table)
    Path(args.out).write_text(text, encoding="utf-8")
    kinds = [t["kind"] for t in table["types"].values()]
    print(f"{args.out}: {len(table['primitives'])} primitives, {kinds.count('complex-type')} complex types, "
          f"{kinds.count('resource')} resources, {kinds.count('backbone')} backbone elements; {len(text):,} bytes",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
