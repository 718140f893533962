"""Bindings to the project's ValueSets: required → error, extensible → warning.

Membership is decided by ``server.fhir.terminology.value_set_contains``; when it cannot decide
(``None``: a value set drawing on a code system this server does not hold) the finding is
information, never a guess.
"""

from __future__ import annotations

from typing import Any, Callable

from ..outcome import FhirError, Issue
from .instance import finding

#: (value set URL, system, code) -> True / False / None (undecidable)
Contains = Callable[[str, str | None, str], "bool | None"]


def terminology_contains(value_set: str, system: str | None, code: str) -> bool | None:
    """The project terminology's answer (imported late: terminology reads profiles/ on first use)."""
    from ..terminology import value_set_contains

    return value_set_contains(value_set, system, code)


#: the membership test in use (tests replace it to bind to their own value sets)
membership: Contains = terminology_contains


def _codes(value: Any) -> tuple[list[tuple[str | None, str]], bool]:
    """(system, code) pairs a value carries, and whether it is a CodeableConcept."""
    if isinstance(value, str):
        return [(None, value)], False
    if isinstance(value, dict):
        if "coding" in value or ("text" in value and "code" not in value):
            codings = value.get("coding")
            pairs = [(c.get("system") if isinstance(c.get("system"), str) else None, c["code"])
                     for c in (codings if isinstance(codings, list) else []) if isinstance(c, dict) and isinstance(c.get("code"), str)]
            return pairs, True
        if isinstance(value.get("code"), str):
            return [(value.get("system") if isinstance(value.get("system"), str) else None, value["code"])], False
    return [], False


def check(el: dict[str, Any], value: Any, path: str, profile: str) -> list[Issue]:
    binding = el.get("binding")
    if not isinstance(binding, dict) or binding.get("strength") not in ("required", "extensible"):
        return []
    vs = binding.get("valueSet")
    if not isinstance(vs, str):
        return []
    vs = vs.split("|", 1)[0]
    severity = "error" if binding["strength"] == "required" else "warning"
    pairs, concept = _codes(value)
    if not pairs:
        return [finding("binding", severity, "code-invalid", path, f"no code is given, and a code from {vs} is {'required' if severity == 'error' else 'expected'} ({binding['strength']} binding)", profile)]
    answers: list[bool | None] = []
    for system, code in pairs:
        try:
            answers.append(membership(vs, system, code))
        except FhirError as err:
            return [finding("binding", "warning", "not-supported", path, f"the value set {vs} cannot be used: {err}", profile)]
    if any(a is True for a in answers):
        return []
    if all(a is None for a in answers):
        return [finding("binding", "information", "informational", path, f"membership of {_show(pairs)} in {vs} could not be decided", profile)]
    what = "none of the codes" if concept and len(pairs) > 1 else "the code"
    return [finding("binding", severity, "code-invalid", path, f"{what} {_show(pairs)} is not in the value set {vs} ({binding['strength']} binding)", profile)]


def _show(pairs: list[tuple[str | None, str]]) -> str:
    return ", ".join(f"{s}|{c}" if s else c for s, c in pairs)
