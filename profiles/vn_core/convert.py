"""Convert the VN Core source resources (FHIR XML) into this package (FHIR JSON).

    python -m profiles.vn_core.convert SOURCE_DIR

SOURCE_DIR holds the guide's ``input/resources`` files (``*.xml``). Run at build time only: the
server and the tests read the converted package, never the source.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from server import jsonio
from server.fhir.fhirxml import from_xml

PACKAGE = Path(__file__).resolve().parent / "package"
MANIFEST = {
    "name": "fhir.ehealth.gov.vn.core",
    "version": "1.0.0",
    "canonical": "http://fhir.ehealth.gov.vn/core",
    "fhirVersions": ["4.0.1"],
    "type": "fhir.ig",
    "title": "VN Core (Bộ Y tế / Ministry of Health, Viet Nam)",
    "description": "The conformance resources of the Ministry of Health's VN Core guide (continuous build 1.0.0, "
                   "repository hl7vn/vn-core-ig, input/resources), converted from FHIR XML to JSON by the Liên Thông "
                   "project. The package name is the project's: the sources give none.",
    "license": "CC0-1.0",
    "dependencies": {"hl7.fhir.r4.core": "4.0.1"},
}

#: the repairs made, each where the source breaks an R4 rule (the canonical urls are never changed)
REPAIRS = (
    "a resource without an id gets the last segment of its url as its id",
    "an id with characters R4 does not allow in ids ('_') gets '-' instead",
    "an element whose value is an empty string (R4 forbids them) is left out",
    "a narrative with no content (R4's txt-2) is left out",
    "an extension whose definition says it is a modifier without saying why (R4's eld-18), while VN Core's "
    "own profiles use it as a plain extension (extension-race on Patient.extension), is not a modifier",
)
_ID_OK = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def convert(resource: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The resource as packaged, and what was repaired in it."""
    notes = []
    if not resource.get("id") and isinstance(resource.get("url"), str):
        resource = {"resourceType": resource["resourceType"], "id": resource["url"].rsplit("/", 1)[-1],
                    **{k: v for k, v in resource.items() if k != "resourceType"}}
        notes.append(f"no id: given '{resource['id']}' from its url")
    if not _ID_OK.match(resource["id"]):
        fixed = resource["id"].replace("_", "-")
        notes.append(f"id '{resource['id']}' is not a valid FHIR id: '{fixed}'")
        resource = {**resource, "id": fixed}
    text = resource.get("text")
    if isinstance(text, dict) and isinstance(text.get("div"), str) and not re.sub(r"<[^>]*>", "", text["div"]).strip() and "<img" not in text["div"]:
        resource = {k: v for k, v in resource.items() if k != "text"}
        notes.append("empty narrative left out")
    if resource.get("resourceType") == "StructureDefinition" and resource.get("type") == "Extension":
        resource, said = _not_a_modifier(resource)
        notes += said
    empty: list[int] = [0]
    resource = _without_empty_strings(resource, empty)
    if empty[0]:
        notes.append(f"{empty[0]} empty string value(s) left out")
    return resource, notes


def _not_a_modifier(sd: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The root of an extension definition marked isModifier with no isModifierReason (eld-18)."""
    notes = []
    views = {}
    for view in ("differential", "snapshot"):
        elements = (sd.get(view) or {}).get("element")
        if not isinstance(elements, list):
            continue
        fixed = []
        for el in elements:
            if el.get("path") == "Extension" and el.get("isModifier") is True and not el.get("isModifierReason"):
                el = {k: v for k, v in el.items() if k != "isModifier"}
                notes.append(f"isModifier without isModifierReason on the extension's root ({view}) left out: "
                             "VN Core's Patient profile uses it as a plain extension")
            fixed.append(el)
        views[view] = {**sd[view], "element": fixed}
    return {**sd, **views}, notes


def _without_empty_strings(node: Any, count: list[int]) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if isinstance(v, str) and not v.strip():
                count[0] += 1
                continue
            out[k] = _without_empty_strings(v, count)
        return out
    if isinstance(node, list):
        return [_without_empty_strings(v, count) for v in node]
    return node


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path)
    args = ap.parse_args(argv)
    PACKAGE.mkdir(exist_ok=True)
    for old in PACKAGE.glob("*.json"):
        old.unlink()
    repaired: dict[str, list[str]] = {}
    names = []
    for path in sorted(args.source.glob("*.xml")):
        resource, notes = convert(from_xml(path.read_bytes()))
        name = f"{resource['resourceType']}-{resource['id']}.json"
        if name in names:
            raise SystemExit(f"two source files give {name}")
        names.append(name)
        (PACKAGE / name).write_bytes(jsonio.dumps(resource, pretty=True) + b"\n")
        if notes:
            repaired[name] = notes
    (PACKAGE / "package.json").write_text(json.dumps(MANIFEST, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} resources and package.json to {PACKAGE}")
    for name, notes in repaired.items():
        print(f"  repaired {name}: {'; '.join(notes)}")
    (PACKAGE.parent / "REPAIRS.md").write_text(
        "# Repairs made when converting the VN Core sources (written by profiles/vn_core/convert.py)\n\n"
        + "".join(f"- `{name}`: {'; '.join(notes)}\n" for name, notes in repaired.items()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
