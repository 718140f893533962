"""Extract the invariants of every R4 resource and data type into ``data/r4-invariants.json``.

    python -m server.fhir.profiling.compile_invariants PACKAGE [--out FILE]

PACKAGE is the ``package/`` folder of ``hl7.fhir.r4.core`` 4.0.1 (or a definitions Bundle such as
``profiles-resources.json``; give several to read several). Run at build time only: the server
and the tests read the committed data file, never the definitions.

Where the committed file came from: ``google/fhir``, ``spec/hl7.fhir.core/4.0.1/package/
StructureDefinition-*.json`` at commit 74fce9530cd710d1fa27bcad0e4b4dbd5031b16d (the same
definitions the structure table is compiled from, see :mod:`server.fhir.structure.compile`).

Only the base specializations are read (resources and complex types, abstract ones included:
``Element``, ``DomainResource``...; profiles such as ``SimpleQuantity`` are not types and are
left out). A constraint belongs to the type that defines it (no ``source``, or the type's own
url); those a snapshot copies from a base type are read once, at the base. Keys, severities,
human texts and expressions are copied unchanged; ``context`` is the element path the
constraint sits on. ``SKIP`` (below) says which expressions the engine cannot evaluate, and
why; the test beside the data proves that list right.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..structure.compile import read_definitions

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "r4-invariants.json"
_ENGINE = "fhirpathpy 2.2.4"

#: key -> why the official expression is not evaluated (``server/fhir/profiling/test_base_invariants.py``
#: proves that these are exactly the expressions the engine fails on)
SKIP: dict[str, str] = {
    "ele-1": "not evaluated on every node, which would double the cost of the invariants: the structure validation "
             "reports the elements with neither a value nor children (empty objects, arrays and strings, nulls); an "
             "element whose only child is its id goes unreported",
    "dom-3": f"{_ENGINE} applies as() only to a single item, and the official expression applies it to "
             "%resource.descendants(), so it fails on any resource with contained resources",
    "txt-1": f"{_ENGINE} does not implement htmlChecks(); the structure validation checks the narrative rules itself "
             "(server/fhir/structure/formats.py)",
    "txt-2": f"{_ENGINE} does not implement htmlChecks(); the structure validation checks the narrative rules itself "
             "(server/fhir/structure/formats.py)",
    "ctm-1": f"{_ENGINE} does not implement resolve()",
}

#: key -> (published expression, corrected one, why): an R4 expression that says less than its own
#: human text, evaluated as later FHIR versions corrected it (as the reference validator does)
CORRECTIONS: dict[str, tuple[str, str, str]] = {
    "que-12": ("enableWhen.count() > 2 implies enableBehavior.exists()",
               "enableWhen.count() > 1 implies enableBehavior.exists()",
               "the rule is 'more than one enableWhen', but R4's expression counts from three; R4B (4.3.0) and R5 "
               "count from two, and so does the reference validator on R4 content"),
    "que-7": ("operator = 'exists' implies (answer is Boolean)",
              "operator = 'exists' implies (answer is boolean)",
              "'Boolean' is FHIRPath's System type, and an answer is a FHIR boolean, so R4's expression fails on every "
              "valid 'exists' condition in an engine that keeps the two apart, as fhirpathpy does; R4B (4.3.0) and R5 "
              "name the FHIR type"),
    "tim-9": ("offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not()))",
              "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())",
              "when repeats, and 'in' takes one item: with several when and an offset R4's expression cannot be "
              "evaluated (HL7 Jira FHIR-37729); R5 tests each when"),
}

ABOUT = (
    "Invariants (ElementDefinition.constraint) of the FHIR R4 (4.0.1) base definitions: every resource and "
    "complex data type, the abstract ones included (Element, Extension, DomainResource), extracted by "
    "server/fhir/profiling/compile_invariants.py (see its docstring for the source). Keys, severities, human "
    "texts and expressions are the official ones, unchanged. 'context' is the element the expression is "
    "evaluated on: a type ('Period': every Period, wherever it occurs; 'DomainResource': every resource "
    "derived from it; a type's invariants also hold for the types derived from it, e.g. Quantity's for Age), "
    "a backbone element ('Questionnaire.item', and the items nested in it), or an element below one of "
    "those ('Organization.telecom'). 'corrected' replaces an expression that says less than its own human text, "
    "as later FHIR versions corrected it (the official one stays in 'expression'). 'skip' gives the reason an official expression is not evaluated: "
    f"{_ENGINE} cannot evaluate it (server/fhir/profiling/test_base_invariants.py proves that this list is "
    "exactly the expressions the engine fails on)."
)


def base_types(definitions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resource and complex-type specializations (abstract ones included), in name order."""
    found = {}
    for sd in definitions:
        if sd.get("resourceType") != "StructureDefinition" or sd.get("kind") not in ("resource", "complex-type"):
            continue
        if sd.get("derivation", "specialization") != "specialization":
            continue
        found[sd["type"]] = sd
    return [found[k] for k in sorted(found)]


def own_invariants(sd: dict[str, Any]) -> list[dict[str, Any]]:
    """The constraints ``sd`` defines itself, in element order, each once."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for el in sd["snapshot"]["element"]:
        for c in el.get("constraint", ()):
            if c.get("source", sd["url"]) != sd["url"] or not c.get("expression"):
                continue
            if (c["key"], c["expression"]) in seen:  # ele-1 on Element.extension, ext-1 on Extension.extension:
                continue  # the same rule as on the type, which every extension already has
            seen.add((c["key"], c["expression"]))
            entry = {"key": c["key"], "context": el["path"], "severity": c["severity"], "human": c["human"],
                     "expression": c["expression"]}
            if c["key"] in CORRECTIONS:
                published, corrected, why = CORRECTIONS[c["key"]]
                if c["expression"] != published:
                    raise ValueError(f"{c['key']}: the expression is not the one the correction is for: {c['expression']}")
                entry["corrected"] = {"expression": corrected, "why": why}
            if c["key"] in SKIP:
                entry["skip"] = SKIP[c["key"]]
            out.append(entry)
    return out


def compile_invariants(definitions: Iterable[dict[str, Any]]) -> dict[str, Any]:
    types = base_types(definitions)
    # the general types first (they apply to most nodes), then the others by name
    general = ("Element", "Extension", "Resource", "DomainResource")
    ordered = [sd for name in general for sd in types if sd["type"] == name] + [sd for sd in types if sd["type"] not in general]
    versions = {sd.get("fhirVersion") for sd in types} - {None}
    return {
        "about": ABOUT,
        "fhirVersion": ",".join(sorted(versions)) or "4.0.1",
        "invariant": [inv for sd in ordered for inv in own_invariants(sd)],
    }


def dumps(data: dict[str, Any]) -> str:
    """One invariant per line: a rebuild diffs line by line."""
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in data.items() if k != "invariant"]
    lines.append('  "invariant": [')
    rows = [f"    {json.dumps(inv, ensure_ascii=False)}" for inv in data["invariant"]]
    lines.append(",\n".join(rows))
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="+", help="the package/ folder, or definitions Bundles")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"output file (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    data = compile_invariants(sd for source in args.sources for sd in read_definitions(source))
    text = dumps(data)
    Path(args.out).write_text(text, encoding="utf-8")
    severities = [inv["severity"] for inv in data["invariant"]]
    print(f"{args.out}: {len(severities)} invariants ({severities.count('error')} errors, "
          f"{severities.count('warning')} warnings, {sum('skip' in i for i in data['invariant'])} skipped); "
          f"{len(text):,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
