"""Run the official FHIR test cases (github.com/FHIR/fhir-test-cases) that concern this server, and
report how many it passes. The collection stays outside the repository: give its path.

  python benchmarks/fhir_test_cases.py PATH [--show-failures]

Suites:
  patch   r4/patch/fhir-patch-tests.xml: FHIRPath Patch, input + Parameters -> expected output
          (every case, "forwards" and "both" alike: this server applies patches, it does not
          make them)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.fhir.fhirxml import from_xml  # noqa: E402
from server.fhir.outcome import FhirError  # noqa: E402
from server.fhir.patch import apply_fhirpath_patch  # noqa: E402


def _only_child(el: ET.Element | None) -> bytes | None:
    if el is None:
        return None
    children = [c for c in el if isinstance(c.tag, str)]
    return ET.tostring(children[0]) if children else None


def patch_cases(root: Path) -> list[tuple[str, str | None]]:
    """(case name, None when passed or the reason it failed) for every patch case."""
    tree = ET.parse(root / "r4" / "patch" / "fhir-patch-tests.xml")
    results = []
    for case in tree.getroot().iter("case"):
        name = case.get("name", "?")
        try:
            source = from_xml(_only_child(case.find("input")) or b"")
            diff = from_xml(_only_child(case.find("diff")) or b"")
            expected_xml = _only_child(case.find("output"))
            got = apply_fhirpath_patch(source, diff)
            if expected_xml is None:
                results.append((name, "expected an error, got a result"))
                continue
            expected = from_xml(expected_xml)
            results.append((name, None if got == expected else f"got {got}\n      expected {expected}"))
        except FhirError as err:
            reason = "; ".join(i.diagnostics for i in err.issues)
            results.append((name, None if case.find("output") is None else f"error: {reason}"))
    return results


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path, help="a checkout of FHIR/fhir-test-cases")
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args(argv)
    results = patch_cases(args.path)
    passed = sum(1 for _, failure in results if failure is None)
    print(f"patch: {passed}/{len(results)} cases pass ({100 * passed / len(results):.0f}%)")
    if args.show_failures:
        for name, failure in results:
            if failure is not None:
                print(f"  FAIL {name}: {failure}")


if __name__ == "__main__":
    main()
