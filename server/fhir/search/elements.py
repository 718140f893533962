"""``_summary`` and ``_elements``: which top-level elements of each resource a client gets.

Summary elements come from the R4B model metadata (``isSummary`` in the specification).
A trimmed resource carries the ``SUBSETTED`` tag, as the specification asks, so nobody
mistakes it for the whole resource.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from ..outcome import bad_request

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED", "display": "Resource encoded in summary mode"}
SUMMARY_MODES = ("true", "text", "data", "count", "false")
_ALWAYS = ("resourceType", "id", "meta")


@cache
def summary_elements(resource_type: str) -> frozenset[str]:
    """JSON names of the summary elements of a type (choice elements under each concrete name)."""
    model = get_fhir_model_class(resource_type)
    return frozenset(model.summary_elements_sequence()) | frozenset(_ALWAYS)


@cache
def required_elements(resource_type: str) -> frozenset[str]:
    model = get_fhir_model_class(resource_type)
    names = set()
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra or {}
        if isinstance(extra, dict) and (extra.get("element_required") or field.is_required()):
            names.add(field.alias or name)
    return frozenset(names)


def parse_summary(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in SUMMARY_MODES:
        raise bad_request(f"_summary must be one of {', '.join(SUMMARY_MODES)}; got '{value}'", "_summary")
    return None if value == "false" else value


def parse_elements(values: list[str]) -> frozenset[str] | None:
    names = {n.strip() for v in values for n in v.split(",") if n.strip()}
    return frozenset(names) or None


def _tagged(resource: dict[str, Any], keep: frozenset[str] | set[str]) -> dict[str, Any]:
    out = {k: v for k, v in resource.items() if k in keep}
    meta = dict(out.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    out["meta"] = meta
    return out


def trim(resource: dict[str, Any], summary: str | None, elements: frozenset[str] | None) -> dict[str, Any]:
    """The resource as ``_summary``/``_elements`` ask (``elements`` wins when both are given)."""
    rtype = resource.get("resourceType", "")
    if elements is not None:
        return _tagged(resource, set(elements) | set(_ALWAYS) | required_elements(rtype))
    if summary == "true":
        return _tagged(resource, summary_elements(rtype))
    if summary == "text":
        return _tagged(resource, {"text", *_ALWAYS} | required_elements(rtype))
    if summary == "data":
        return _tagged(resource, set(resource) - {"text"})
    return resource
