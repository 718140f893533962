"""Coded values in the reader's language: the project's code systems carry Vietnamese designations
(treatment result, discharge type, encounter type…), so a code is shown as its CodeSystem names it
in the page's language, and as the record wrote it when the system is not one of the project's."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..fhir import terminology
from ..fhir.outcome import FhirError
from . import present


@lru_cache(maxsize=4096)
def _display(system: str, code: str, lang: str) -> str | None:
    try:
        params = terminology.lookup(system, code, display_language=lang)
    except FhirError:
        return None
    return next((p["valueString"] for p in params["parameter"] if p["name"] == "display"), None)


def coding(value: dict[str, Any] | None, lang: str) -> str:
    """A Coding as a word: its display in ``lang`` from the code system, else as written."""
    if not value:
        return ""
    if value.get("system") and value.get("code"):
        found = _display(str(value["system"]), str(value["code"]), lang)
        if found:
            return found
    return str(value.get("display") or value.get("code") or "")


def concept(value: dict[str, Any] | None, lang: str) -> str:
    """A CodeableConcept as a word: its text, else its first coding as :func:`coding` says it."""
    if not value:
        return ""
    if value.get("text"):
        return str(value["text"])
    for c in value.get("coding") or []:
        word = coding(c, lang)
        if word:
            return word
    return present.concept(value)
