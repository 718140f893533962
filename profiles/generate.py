"""Write the project's conformance resources (FHIR R4 JSON) into this directory, plus the package
manifest, its index and docs/profiles.md.

    python -m profiles.generate          # rewrite the committed files
    python -m profiles.generate --check  # exit 1 if a committed file is stale

What each kind of resource is made from lives in profiles/gen/ (one module per kind). Every
resource is under the canonical base https://lienthong.dev/fhir, and the mappings read every URL
back from these files (profiles.urls()), so each URL is written exactly once: there.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from profiles.gen import core, docs, extensions, package, terminology

HERE = Path(__file__).parent
DOCS = HERE.parent / "docs" / "profiles.md"
MANIFEST = "package.json"
INDEX = ".index.json"


def build() -> dict[str, dict]:
    """File name -> resource, for every conformance resource of the project."""
    resources: list[dict] = terminology.naming_systems()
    systems = terminology.code_systems()
    resources += systems
    resources += [terminology.value_set(cs) for cs in systems]
    resources += extensions.extensions()
    resources += core.profiles()
    out = {f"{r['resourceType']}-{r['id']}.json": r for r in resources}
    assert len(out) == len(resources), "duplicate resource file names"
    return out


def render(resource: dict) -> str:
    return json.dumps(resource, ensure_ascii=False, indent=1) + "\n"


def outputs() -> dict[Path, str]:
    """Every generated file (resources, manifest, index, docs) -> its text."""
    res = build()
    out = {HERE / name: render(r) for name, r in res.items()}
    out[HERE / MANIFEST] = render(package.manifest())
    out[HERE / INDEX] = render(package.index(res))
    out[DOCS] = docs.render(res)
    return out


def _leftovers(wanted: dict[Path, str]) -> list[Path]:
    return [p for p in HERE.glob("*.json") if p not in wanted]  # pathlib's glob includes .index.json


def _name(p: Path) -> str:
    return str(p.relative_to(HERE.parent))


def stale() -> list[str]:
    """Names of files that are missing, differ from what the generator writes, or are left over."""
    wanted = outputs()
    bad = [_name(p) for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    return sorted(bad + [_name(p) for p in _leftovers(wanted)])


def main(argv: list[str]) -> int:
    if "--check" in argv:
        bad = stale()
        for n in bad:
            print(f"stale: {n}")
        return 1 if bad else 0
    wanted = outputs()
    for p in _leftovers(wanted):
        p.unlink()
    for p, text in wanted.items():
        p.write_text(text, encoding="utf-8")
    print(f"wrote {len(wanted)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
