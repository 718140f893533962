"""Derive ``server/fhir/data/r4-extensions.json``: R4's extension definitions, in short.

    python -m server.fhir.profiling.compile_extensions SOURCE [--dstu2 DIR] [--stu3 DIR] [--out FILE]

SOURCE is ``extension-definitions.json`` of the R4 ``definitions.json.zip`` (a Bundle) or the
``package/`` folder of ``hl7.fhir.r4.core`` 4.0.1 (StructureDefinition-*.json). Run by hand at
build time; the server and the tests read the output only. Each extension is reduced by
:func:`.extensions.summarize` to what the validator checks: contexts, modifier flag, value
types, sub-extensions with their cardinality.

``--dstu2`` and ``--stu3`` (the ``package/`` folders of ``hl7.fhir.core`` 1.0.2 and 3.0.1) add the
cross-version extensions that stand for a modifier element of those versions
(``http://hl7.org/fhir/1.0/StructureDefinition/extension-Patient.animal``): such an extension
is a modifier extension, and for a backbone element its sub-extensions are the element's
children. Other cross-version extensions are not described (the validator accepts them).

The committed file came from ``google/fhir``, ``spec/hl7.fhir.core/4.0.1/package/`` at commit
74fce9530cd710d1fa27bcad0e4b4dbd5031b16d (the ``hl7.fhir.r4.core`` 4.0.1 package; 396 extensions:
the 393 of ``extension-definitions.json`` and the json-, xml- and rdf-type extensions of
ElementDefinition.type.code), with ``--dstu2`` and ``--stu3`` from ``spec/hl7.fhir.core/1.0.2/package/``
and ``spec/hl7.fhir.core/3.0.1/package/`` of the same commit.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterable

from ..structure.compile import read_definitions
from .rules.extensions import summarize

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "r4-extensions.json"
CORE = "http://hl7.org/fhir/StructureDefinition/"
#: contexts the R4 definitions omit although R4's own content uses the extensions there
#: (the reference validator corrects the same ones): url -> contexts added
ERRATA = {
    CORE + "structuredefinition-fhir-type": ["ElementDefinition.type"],
    CORE + "regex": ["ElementDefinition.type"],
    CORE + "structuredefinition-normative-version": ["Element"],
    CORE + "capabilitystatement-expectation": ["Element"],
    CORE + "capabilitystatement-prohibited": ["Element"],
}
ABOUT = (
    "The extension definitions of FHIR R4 (4.0.1), reduced to what the validator checks "
    "(server/fhir/profiling/extensions.py; derived by server/fhir/profiling/compile_extensions.py from the "
    "hl7.fhir.r4.core 4.0.1 package): 'context' the element contexts (a path from a type or resource, or a "
    "type name), 'modifier' true for modifier extensions, 'value' the allowed value types ('*': any; absent: "
    "none, a complex extension), 'extension' the sub-extensions by url with 'min', 'max' and their own "
    "'value'/'extension' (absent: not constrained; empty: none allowed). Contexts added where R4's own content "
    "uses an extension beyond its stated context (as the reference validator does): "
    + "; ".join(f"{u.rsplit('/', 1)[-1]}: {', '.join(c)}" for u, c in ERRATA.items())
    + ". 'crossVersion': by FHIR version ('1.0' DSTU2, '3.0' STU3), the cross-version extensions "
    "(http://hl7.org/fhir/{version}/StructureDefinition/extension-{path}) of that version's modifier elements, "
    "described the same way (their values are not typed: '*'). Source: the hl7.fhir.core packages 4.0.1, 1.0.2, "
    "3.0.1 (CC0)."
)
#: FHIR version as it appears in cross-version extension URLs -> command-line option
XVER = {"1.0": "dstu2", "3.0": "stu3"}
_ALWAYS_MODIFIERS = frozenset({"modifierExtension", "implicitRules"})


def compile_extensions(definitions: Iterable[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sd in definitions:
        if sd.get("resourceType") != "StructureDefinition" or sd.get("type") != "Extension" or sd.get("derivation") != "constraint":
            continue
        summary = summarize(sd)
        for ctx in ERRATA.get(sd["url"], []):
            summary.setdefault("context", [])
            if ctx not in summary["context"]:
                summary["context"].append(ctx)
        out[sd["url"]] = summary
    return {"about": ABOUT, "fhirVersion": "4.0.1", "extension": dict(sorted(out.items())), "crossVersion": {}}


def cross_version(definitions: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The modifier elements of one earlier FHIR version, as the extensions that stand for them."""
    out: dict[str, Any] = {}
    for sd in definitions:
        if sd.get("resourceType") != "StructureDefinition" or sd.get("kind") not in ("resource", "complex-type", "datatype"):
            continue
        if sd.get("constrainedType") or sd.get("derivation") == "constraint":
            continue  # a profile (DSTU2 says constrainedType, STU3 derivation)
        els = [e for e in (sd.get("snapshot") or {}).get("element") or [] if isinstance(e, dict) and isinstance(e.get("path"), str)]
        for el in els:
            path = el["path"]
            if "." not in path or el.get("isModifier") is not True or path.rsplit(".", 1)[-1] in _ALWAYS_MODIFIERS:
                continue
            children = {}
            for child in els:
                name = child["path"][len(path) + 1:]
                if child["path"].startswith(path + ".") and "." not in name and name not in ("id", "extension", "modifierExtension"):
                    children[name.replace("[x]", "")] = {"value": "*", "min": child.get("min", 0), "max": child.get("max", "*")}
            out[path.replace("[x]", "")] = {"modifier": True, "extension": children} if children else {"modifier": True, "value": "*"}
    return dict(sorted(out.items()))


def dumps(data: dict[str, Any]) -> str:
    """One extension per line: small, and a rebuild diffs line by line."""
    lines = ["{", f'"about": {json.dumps(data["about"], ensure_ascii=False)},', f'"fhirVersion": {json.dumps(data["fhirVersion"])},', '"extension": {']
    items = list(data["extension"].items())
    for i, (url, summary) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"{json.dumps(url)}: {json.dumps(summary, ensure_ascii=False, separators=(',', ':'))}{comma}")
    lines.append("},")
    lines.append('"crossVersion": {')
    versions = list(data["crossVersion"].items())
    for i, (version, found) in enumerate(versions):
        comma = "," if i < len(versions) - 1 else ""
        lines.append(f"{json.dumps(version)}: {json.dumps(found, ensure_ascii=False, separators=(',', ':'))}{comma}")
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="extension-definitions.json, or a folder of StructureDefinition-*.json")
    for version, option in XVER.items():
        ap.add_argument(f"--{option}", help=f"the hl7.fhir.core package folder of FHIR {version}")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"output file (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    data = compile_extensions(read_definitions(args.source))
    for version, option in XVER.items():
        if getattr(args, option):
            data["crossVersion"][version] = cross_version(read_definitions(getattr(args, option)))
    text = dumps(data)
    Path(args.out).write_text(text, encoding="utf-8")
    xver = ", ".join(f"{len(v)} of FHIR {k}" for k, v in data["crossVersion"].items())
    print(f"{args.out}: {len(data['extension'])} extensions, cross-version: {xver or 'none'}; {len(text):,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
