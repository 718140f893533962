"""Terminology over the project's CodeSystems and ValueSets (profiles/): $lookup, $validate-code and
value-set membership for the profile validator. Pure functions; the HTTP layer wraps them.

Decisions (where servers differ):
- Unknown CodeSystem or ValueSet, or a version this server does not hold -> 404 ``not-found``
  (as HAPI). Missing or malformed input -> 400 ``invalid``.
- $lookup of a code the CodeSystem does not list -> 404 ``not-found`` (the code is the thing not
  found). For ``content: not-present`` systems no code can be looked up (the list is kept outside
  the project), and for ``fragment`` systems an unlisted code may still exist: the diagnostics say so.
- Membership that cannot be decided (a not-present/fragment system and an unlisted code):
  ``value_set_contains`` returns None; ``validate_code`` answers result=true with a message that the
  code was accepted unchecked (FHIR allows a message with result=true for hints and warnings).
- A display that matches neither the display nor a designation of the concept -> result=false.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

import profiles

from .outcome import bad_request, not_found

__all__ = ["lookup", "validate_code", "value_set_contains"]


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, dict], dict[str, dict]]:
    """(CodeSystem url -> resource, ValueSet url -> resource), built once."""
    systems: dict[str, dict] = {}
    sets: dict[str, dict] = {}
    for res in profiles.served():
        if res["resourceType"] == "CodeSystem":
            systems[res["url"]] = res
        elif res["resourceType"] == "ValueSet":
            sets[res["url"]] = res
    return systems, sets


@lru_cache(maxsize=None)
def _concepts(system_url: str) -> dict[str, dict]:
    return {c["code"]: c for c in _index()[0][system_url].get("concept", [])}


def _split_canonical(url: str, version: str | None) -> tuple[str, str | None]:
    """'url|version' -> (url, version); an explicit version argument must agree with the suffix."""
    if "|" in url:
        url, suffix = url.split("|", 1)
        if version is not None and version != suffix:
            raise bad_request(f"The version in '{url}|{suffix}' differs from the version parameter '{version}'")
        version = suffix
    return url, version


def _known(kind: str, found: dict[str, dict], canonical: str, version: str | None, unknown: str) -> dict:
    """The resource with this canonical (and version, if given); 404 otherwise."""
    url, version = _split_canonical(canonical, version)
    res = found.get(url)
    if res is None:
        raise not_found(unknown.format(url=url))
    if version is not None and version != res.get("version"):
        raise not_found(f"{kind} '{url}' version '{version}' is not known (this server has version {res.get('version')})")
    return res


def _code_system(system: str, version: str | None) -> dict:
    return _known("Code system", _index()[0], system, version,
                  "Unknown code system '{url}': this server knows only the project's code systems")


def _value_set(url: str, version: str | None) -> dict:
    return _known("Value set", _index()[1], url, version, "Unknown value set '{url}'")


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise bad_request(f"'{name}' must be a non-empty string", name)
    return value


def _display(concept: dict, language: str | None) -> str | None:
    """The display in the asked language: Vietnamese designations for 'vi' (and 'vi-VN'), else the display."""
    if language and language.lower().split("-")[0] == "vi":
        for d in concept.get("designation", []):
            if d.get("language", "").lower().split("-")[0] == "vi":
                return d["value"]
    return concept.get("display")


def lookup(system: str, code: str, version: str | None = None, display_language: str | None = None) -> dict:
    """CodeSystem/$lookup: a Parameters with name, version, display and the designations."""
    cs = _code_system(_text(system, "system"), version)
    code = _text(code, "code")
    concept = _concepts(cs["url"]).get(code)
    if concept is None:
        content = cs.get("content")
        if content == "not-present":
            raise not_found(f"Code system '{cs['url']}' lists no codes on this server (content not-present: the list is "
                            f"kept outside the project), so code '{code}' cannot be looked up")
        why = " (the list is open, so the code may still exist)" if content == "fragment" else ""
        raise not_found(f"Code '{code}' is not in code system '{cs['url']}'{why}")
    params: list[dict[str, Any]] = [{"name": "name", "valueString": cs["name"]}]
    if cs.get("version"):
        params.append({"name": "version", "valueString": cs["version"]})
    display = _display(concept, display_language)
    if display is not None:
        params.append({"name": "display", "valueString": display})
    for d in concept.get("designation", []):
        part: list[dict[str, Any]] = []
        if d.get("language"):
            part.append({"name": "language", "valueCode": d["language"]})
        if d.get("use"):
            part.append({"name": "use", "valueCoding": d["use"]})
        part.append({"name": "value", "valueString": d["value"]})
        params.append({"name": "designation", "part": part})
    return {"resourceType": "Parameters", "parameter": params}


def _include_contains(include: dict, system: str, code: str) -> bool | None:
    if include.get("system") != system:
        return False
    if "concept" in include:
        return any(c.get("code") == code for c in include["concept"])
    if include.get("filter") or include.get("valueSet"):
        return None  # not used by the project's value sets; undecidable rather than wrong
    cs = _index()[0].get(system)
    if cs is None:
        return None
    if code in _concepts(system):
        return True
    return False if cs.get("content") == "complete" else None


def _contains(vs: dict, system: str | None, code: str) -> bool | None:
    compose = vs.get("compose", {})
    systems = [i.get("system") for i in compose.get("include", [])] if system is None else [system]
    answers = [_include_contains(i, s, code) for s in systems if s for i in compose.get("include", [])]
    if any(a is True for a in answers):
        if any(_include_contains(e, s, code) is True for s in systems if s for e in compose.get("exclude", [])):
            return False
        return True
    return None if any(a is None for a in answers) else False


def value_set_contains(value_set_url: str, system: str | None, code: str) -> bool | None:
    """Whether (system, code) is in the value set; None when that cannot be decided here.

    Raises FhirError (404) for an unknown value set. Without a system, any included system counts.
    """
    vs = _value_set(_text(value_set_url, "url"), None)
    if not isinstance(code, str) or not code:
        return False
    return _contains(vs, system or None, code)


def _codings(system: str | None, code: str | None, display: str | None, coding: dict | None,
             codeable_concept: dict | None) -> list[dict]:
    if codeable_concept is not None:
        if not isinstance(codeable_concept, dict) or not isinstance(codeable_concept.get("coding", []), list):
            raise bad_request("'codeableConcept' must be a CodeableConcept", "codeableConcept")
        found = [c for c in codeable_concept.get("coding", []) if isinstance(c, dict)]
        if not found:
            raise bad_request("'codeableConcept' has no coding to validate", "codeableConcept")
        return found
    if coding is not None:
        if not isinstance(coding, dict):
            raise bad_request("'coding' must be a Coding", "coding")
        return [coding]
    if code is None:
        raise bad_request("Give code (with system), coding or codeableConcept", "code")
    return [{"system": system, "code": code, **({"display": display} if display is not None else {})}]


def _only_system(vs: dict) -> str | None:
    systems = {i.get("system") for i in vs.get("compose", {}).get("include", [])}
    return systems.pop() if len(systems) == 1 else None


def _check_one(vs: dict, c: dict) -> tuple[bool | None, str | None, str]:
    """(membership, display, message) of one coding."""
    code, system = c.get("code"), c.get("system") or _only_system(vs)
    if not isinstance(code, str) or not code:
        return False, None, "A coding has no code"
    if not isinstance(system, str):
        return False, None, f"Code '{code}' has no system, and value set '{vs['url']}' includes several"
    inside = _contains(vs, system, code)
    concept = _concepts(system).get(code) if system in _index()[0] else None
    shown = concept.get("display") if concept else None
    if inside is False:
        return False, None, f"Code '{code}' of system '{system}' is not in value set '{vs['url']}'"
    if inside is None:
        return None, None, (f"Code '{code}' of system '{system}' was accepted unchecked: this server does not hold the "
                            "whole code system (its list is kept outside the project)")
    wanted = c.get("display")
    if wanted is not None and concept is not None:
        allowed = [concept.get("display")] + [d.get("value") for d in concept.get("designation", [])]
        if wanted not in allowed:
            shown_list = " or ".join(f"'{a}'" for a in allowed if a)
            return False, shown, f"Display '{wanted}' is wrong for code '{code}' of system '{system}'; expected {shown_list}"
    return True, shown, ""


def validate_code(url: str | None, system: str | None, code: str | None, display: str | None = None,
                  coding: dict | None = None, codeable_concept: dict | None = None,
                  value_set_version: str | None = None) -> dict:
    """ValueSet/$validate-code: a Parameters with result, message (when false or unchecked) and display."""
    if not url:
        raise bad_request("'url' (the value set) is required", "url")
    vs = _value_set(_text(url, "url"), value_set_version)
    results = [_check_one(vs, c) for c in _codings(system, code, display, coding, codeable_concept)]
    best = next((r for r in results if r[0] is True), None) or next((r for r in results if r[0] is None), None)
    params: list[dict[str, Any]] = []
    if best is not None:
        params.append({"name": "result", "valueBoolean": True})
        if best[2]:
            params.append({"name": "message", "valueString": best[2]})
        if best[1] is not None:
            params.append({"name": "display", "valueString": best[1]})
    else:
        params.append({"name": "result", "valueBoolean": False})
        params.append({"name": "message", "valueString": "; ".join(_unique(r[2] for r in results))})
        shown = next((r[1] for r in results if r[1] is not None), None)
        if shown is not None:
            params.append({"name": "display", "valueString": shown})
    return {"resourceType": "Parameters", "parameter": params}


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

