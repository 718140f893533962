"""Run the official FHIR test cases (github.com/FHIR/fhir-test-cases) that concern this server, and
report how many it passes. The collection stays outside the repository: give its path.

  python benchmarks/fhir_test_cases.py PATH [--show-failures]

Suites:
  patch      r4/patch/fhir-patch-tests.xml: FHIRPath Patch, input + Parameters -> expected output
             (every case, "forwards" and "both" alike: this server applies patches, it does not
             make them)
  validator  validator/manifest.json: the R4 cases (version 4.0) that need no package, no
             supporting or profile files, no logical model and no terminology server (modules
             tx and tx-advanced, or marked tx-dependent, are left out); a case agrees when
             $validate's verdict (any error or fatal issue, or none) is the reference (Java)
             validator's expected one. A file that cannot be read (JSON or XML) counts as an error.
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


#: manifest option -> keyword of ``server.fhir.profiling.validate``
OPTIONS = {"security-checks": "security_checks", "noHtmlInMarkdown": "no_html_in_markdown", "examples": "examples"}


def validator_cases(root: Path) -> list[tuple[str, str | None]]:
    """(case name, None when $validate agrees with the expected verdict, or what differs)."""
    from server import jsonio
    from server.fhir.intake import parse_json
    from server.fhir.profiling import default_registry, validate

    manifest = jsonio.loads((root / "validator" / "manifest.json").read_bytes())
    results = []
    for case in manifest["test-cases"]:
        if not _eligible(case):
            continue
        expected_file = root / "validator" / "outcomes" / case["java"] if isinstance(case.get("java"), str) else None
        if expected_file is None or not expected_file.exists():
            continue
        source = root / "validator" / case["file"]
        if not source.exists():  # not in this checkout (a partial copy): not counted
            continue
        expected = jsonio.loads(expected_file.read_bytes())
        expected_error = any(i.get("severity") in ("error", "fatal") for i in expected.get("issue", []))
        raw = source.read_bytes()
        try:
            resource = from_xml(raw) if case["file"].endswith(".xml") else parse_json(raw)
            options = {kw: case[name] for name, kw in OPTIONS.items() if isinstance(case.get(name), bool)}
            issues = validate(resource, [], registry=default_registry(), **options)
            found_error = any(i.severity in ("error", "fatal") for i in issues)
            ours = "; ".join(i.diagnostics for i in issues if i.severity in ("error", "fatal"))[:300]
        except FhirError as err:
            found_error, ours = True, "; ".join(i.diagnostics for i in err.issues)[:300]
        if found_error == expected_error:
            results.append((case["name"], None))
        else:
            theirs = "; ".join(i.get("details", {}).get("text", "") for i in expected.get("issue", []) if i.get("severity") in ("error", "fatal"))[:300]
            results.append((case["name"], f"expected {'an error' if expected_error else 'no error'} ({theirs or 'none'}); ours: {ours or 'none'}"))
    return results


def _eligible(case: dict) -> bool:
    return (case.get("version") == "4.0" and case.get("use-test", True) is not False
            and not any(case.get(k) for k in ("packages", "supporting", "supporting5", "profile", "profiles", "logical", "tx-dependent", "package-map"))
            and case.get("module") not in ("tx", "tx-advanced", "cda", "cdshooks", "shc")
            and str(case.get("file", "")).endswith((".json", ".xml")))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path, help="a checkout of FHIR/fhir-test-cases")
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args(argv)
    for suite, run in (("patch", patch_cases), ("validator", validator_cases)):
        results = run(args.path)
        passed = sum(1 for _, failure in results if failure is None)
        print(f"{suite}: {passed}/{len(results)} cases agree ({100 * passed / len(results):.1f}%)")
        if args.show_failures:
            for name, failure in results:
                if failure is not None:
                    print(f"  FAIL {name}: {failure}")


if __name__ == "__main__":
    main()
