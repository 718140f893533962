"""Where each invariant of a profile applies, as FHIRPath: the element id ``Patient.identifier:cccd``
becomes ``Patient.identifier.where(system = '…/cccd')`` (a slice selects the repetitions that carry
the values it fixes on its discriminator paths). Used by the tests and by anyone who wants to
evaluate the profiles' invariants without a full validator."""
from __future__ import annotations

from typing import Iterator


def _q(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _coding_tests(pattern: dict) -> list[str]:
    """One test per coding of a CodeableConcept pattern: the instance has a coding with those values."""
    tests = [" and ".join(f"{k} = {_q(v)}" for k, v in c.items()) for c in pattern.get("coding", [])]
    return [f"coding.where({t}).exists()" for t in tests]


def slice_filter(elements: dict[str, dict], slice_id: str) -> str:
    """The FHIRPath condition a repetition meets to belong to the slice ``slice_id``."""
    conds = []
    el = elements[slice_id]
    for t in el.get("type", []):
        for url in t.get("profile", []) if t.get("code") == "Extension" else []:
            conds.append(f"url = {_q(url)}")
    if "patternCodeableConcept" in el:
        conds += _coding_tests(el["patternCodeableConcept"])
    for child_id, child in elements.items():
        if not child_id.startswith(slice_id + ".") or "." in child_id[len(slice_id) + 1:]:
            continue
        name = child_id[len(slice_id) + 1:]
        for key, value in child.items():
            if key.startswith("fixed") and isinstance(value, str):
                conds.append(f"{name} = {_q(value)}")
            elif key == "patternCodeableConcept":
                conds += [f"{name}.{t}" for t in _coding_tests(value)]
    assert conds, f"slice {slice_id} fixes nothing to tell its members apart"
    return " and ".join(conds)


def context(elements: dict[str, dict], element_id: str) -> str:
    """FHIRPath selecting the nodes an element id denotes."""
    parts = element_id.split(".")
    out, so_far = [], []
    for part in parts:
        name, _, slice_name = part.partition(":")
        so_far.append(part)
        out.append(name)
        if slice_name:
            out[-1] = f"{name}.where({slice_filter(elements, '.'.join(so_far))})"
    return ".".join(out)


def invariants(profile: dict) -> Iterator[tuple[dict, str]]:
    """(constraint, FHIRPath that is true when the resource meets it everywhere it applies)."""
    elements = {e["id"]: e for e in profile["differential"]["element"]}
    for el in profile["differential"]["element"]:
        for c in el.get("constraint", []):
            yield c, f"{context(elements, el['id'])}.all({c['expression']})"
