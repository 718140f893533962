"""The HL7 R4 examples in XML, through the server: XML -> store -> JSON, compared with the JSON example.

  python benchmarks/r4_examples_xml.py EXAMPLES_DIR [--show-failures]

EXAMPLES_DIR holds ``xml/NAME.xml`` and ``json/NAME.json`` pairs of the specification's examples
(one such copy: the ``examples`` folder of the fhir-crucible ``fhir_models`` repository, 4.0.1).
The collection stays outside this repository.

For every pair:
  read     the XML read by the server's reader (``server.fhir.fhirxml.from_xml``) equals the JSON
  stored   a real server (``lienthong serve --no-integrity-on-write`` on a temporary SQLite store:
           the examples refer to each other in no order and to ones not in the folder) takes
           ``PUT /fhir/{type}/{id}`` with the XML body, and ``GET`` as JSON gives the JSON example
           (``meta.versionId`` and ``meta.lastUpdated`` left out of both: the server sets them);
           a type the server does not store, a read-only conformance type (served from profiles/)
           and AuditEvent (written by the server only) are counted apart, not as failures

Two differences between the published builds of the two forms are not counted (both are in the
source files, not made by the server): the XML carries the test-data label ``HTEST`` under
``meta.security`` and the JSON under ``meta.tag`` (left out of both), and one JSON example printed
a decimal through a binary double (66.899999999999991 became 66.89999999999999): decimals are
compared as numbers, and the script names every pair where that was needed. XHTML narratives are
compared as canonical XML.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import canonicalize

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import bearer, machine, running_server  # noqa: E402
from server import jsonio  # noqa: E402
from server.fhir.fhirxml import from_xml  # noqa: E402
from server.fhir.outcome import FhirError  # noqa: E402

XML = {"Content-Type": "application/fhir+xml", "Accept": "application/fhir+json"}


def comparable(resource: Any, numeric: bool = False) -> Any:
    """``resource`` with the build differences above taken out (``numeric``: decimals as numbers)."""
    if isinstance(resource, dict):
        out = {}
        for key, value in resource.items():
            if key == "div" and isinstance(value, str):
                out[key] = canonicalize(value, strip_text=True)
            elif key in ("security", "tag") and isinstance(value, list):
                kept = [comparable(v, numeric) for v in value if not (isinstance(v, dict) and v.get("code") == "HTEST")]
                if kept:
                    out[key] = kept
            else:
                out[key] = comparable(value, numeric)
        if out.get("meta") == {}:
            del out["meta"]
        return out
    if isinstance(resource, list):
        return [comparable(v, numeric) for v in resource]
    if numeric and isinstance(resource, (float, Decimal)):
        return float(resource)
    return resource


def same(got: Any, expected: Any) -> tuple[bool, bool]:
    """(equal, equal only as numbers): decimals as written first, then as numbers."""
    got = jsonio.loads(jsonio.dumps(got))
    if comparable(got) == comparable(expected):
        return True, False
    return comparable(got, True) == comparable(expected, True), True


def first_difference(a: Any, b: Any, path: str = "") -> str:
    if type(a) is not type(b):
        return f"{path or '/'}: {str(a)[:80]} != {str(b)[:80]}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path or '/'}: {str(a)[:80]} != {str(b)[:80]}"


def without_server_meta(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without ``meta.versionId`` and ``meta.lastUpdated``: a server sets both on
    every write (R4 http.html#update), so an example's own values are not kept."""
    meta = {k: v for k, v in resource.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
    out = {k: v for k, v in resource.items() if k != "meta"}
    return {**out, "meta": meta} if meta else out


def pairs(root: Path) -> list[tuple[str, Path, Path]]:
    return [(x.stem, x, root / "json" / f"{x.stem}.json") for x in sorted((root / "xml").glob("*.xml")) if (root / "json" / f"{x.stem}.json").exists()]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path, help="a folder with xml/ and json/ example pairs")
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args(argv)
    found = pairs(args.path)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    numeric: list[str] = []
    not_stored: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = f"sqlite:///{tmp}/examples.db"
        auth = bearer(store)
        # the examples refer to each other and to ones that are not in the folder: a bulk load in no
        # particular order, so the write-time reference check is off (what this measures is the format)
        with running_server(store, args=["--no-integrity-on-write"]) as base, httpx.Client(base_url=base, headers=auth, timeout=60) as http:
            for name, xml_file, json_file in found:
                expected = jsonio.loads(json_file.read_bytes())
                raw = xml_file.read_bytes()
                try:
                    read = from_xml(raw)
                except FhirError as err:
                    failures.append(f"{name}: read: {'; '.join(i.diagnostics for i in err.issues)[:200]}")
                    continue
                equal, loose = same(read, expected)
                if not equal:
                    failures.append(f"{name}: read: {first_difference(jsonio.loads(jsonio.dumps(read)), expected)}")
                    continue
                counts["read"] += 1
                if loose:
                    numeric.append(name)
                rtype, rid = read["resourceType"], read.get("id")
                if not rid:
                    not_stored["no id"] += 1
                    continue
                put = http.put(f"{base}/{rtype}/{rid}", content=raw, headers=XML)
                if put.status_code == 404 and "not supported" in put.text:
                    not_stored[f"{rtype} (not a stored type)"] += 1
                    continue
                if put.status_code == 403 and rtype == "AuditEvent":
                    not_stored["AuditEvent (written by the server only)"] += 1
                    continue
                if put.status_code == 405:
                    not_stored[f"{rtype} (read-only: served from profiles/)"] += 1
                    continue
                if put.status_code >= 300:
                    failures.append(f"{name}: PUT {put.status_code}: {put.text[:200]}")
                    continue
                got = http.get(f"{base}/{rtype}/{rid}", headers={"Accept": "application/fhir+json"}).json()
                equal, _ = same(without_server_meta(got), without_server_meta(expected))
                if equal:
                    counts["stored"] += 1
                else:
                    failures.append(f"{name}: stored: {first_difference(comparable(got), comparable(expected))}")
    storable = len(found) - sum(not_stored.values())
    print(f"machine: {machine()}")
    print(f"pairs: {len(found)}")
    print(f"read from XML equal to the JSON example: {counts['read']}/{len(found)}")
    print(f"stored from XML and read back as the JSON example: {counts['stored']}/{storable} of the types this server stores")
    print(f"not stored: {sum(not_stored.values())} (a type the server does not store, a read-only conformance type, or no id)")
    if args.show_failures:
        print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(not_stored.items())))
    print(f"equal only as numbers (a decimal the JSON example printed through a double): {numeric}")
    if args.show_failures:
        for line in failures:
            print("  FAIL", line)
    elif failures:
        print(f"{len(failures)} failures (--show-failures lists them)")


if __name__ == "__main__":
    main()
