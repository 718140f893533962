"""Mandatory Vietnamese core profiles for writes (setting ``require_profiles``).

A write of a core type must conform to the core profiles it claims in ``meta.profile``, or,
claiming none, to the default profile of its type. Where a type has several profiles
(Observation: laboratory or vital signs; DocumentReference: transfer letter, discharge paper,
record summary) the default is the one whose pattern on the selecting element the resource
carries (``SELECTOR``, data); if none or several apply the write is refused, saying why.
"""

from __future__ import annotations

from typing import Any

from ..outcome import Issue
from .elements import fixed_or_pattern
from .instance import element_values
from .registry import ProfileRegistry, default_registry
from .validator import claimed_profiles, profile_chain, validate
from .values import contains

#: resource types whose writes must conform to a Vietnamese core profile
MANDATORY_TYPES = frozenset({"Patient", "Encounter", "Observation", "DocumentReference"})
#: the element whose fixed/pattern values tell the core profiles of one type apart
SELECTOR = {"Observation": "category", "DocumentReference": "type"}
CORE_PREFIX = "lienthong-"


def core_profiles(rtype: str, registry: ProfileRegistry | None = None) -> list[dict[str, Any]]:
    registry = registry or default_registry()
    return [sd for sd in registry.resource_profiles(rtype) if str(sd.get("id", "")).startswith(CORE_PREFIX)]


def _selects(sd: dict[str, Any], resource: dict[str, Any], element: str, registry: ProfileRegistry) -> bool:
    """Whether ``resource`` carries the fixed/pattern values the profile sets on ``element`` (set
    by the profile or, where it sets none, by the nearest profile it derives from: our laboratory
    result takes its category from VN Core's)."""
    for layer in profile_chain(registry, sd, [], sd["type"], sd["url"]):
        node = registry.tree(layer).children.get(element)
        if node is None:
            continue
        wanted = [p for p in [fixed_or_pattern(node.element), *(fixed_or_pattern(s.element) for s in node.slices.values())] if p is not None]
        if wanted:
            found = [v for v, _ in element_values(resource, element, sd["type"])]
            return all(any(contains(_codes_only(value), f) for f in found) for _, value in wanted)
    return False


def _codes_only(value: Any) -> Any:
    """A CodeableConcept's codings by system and code only: the profile is chosen by its codes, and
    the validation then says exactly what else it requires (VN Core fixes display and text too)."""
    if isinstance(value, dict) and isinstance(value.get("coding"), list):
        return {"coding": [{k: c[k] for k in ("system", "code") if k in c} for c in value["coding"] if isinstance(c, dict)]}
    return value


def default_profile(resource: dict[str, Any], registry: ProfileRegistry | None = None) -> tuple[str | None, str]:
    """(profile URL, "") or (None, why no single default applies)."""
    registry = registry or default_registry()
    rtype = str(resource.get("resourceType"))
    candidates = core_profiles(rtype, registry)
    if len(candidates) == 1:
        return candidates[0]["url"], ""
    if not candidates:
        return None, f"no Vietnamese core profile exists for {rtype}"
    element = SELECTOR.get(rtype)
    applying = [sd for sd in candidates if element and _selects(sd, resource, element, registry)]
    if len(applying) == 1:
        return applying[0]["url"], ""
    names = ", ".join(sd["url"] for sd in candidates)
    if not applying:
        return None, f"the {rtype} claims no profile in meta.profile and its {element} matches none of the Vietnamese core profiles ({names}); set {element} as one of them requires, or name the profile in meta.profile"
    return None, f"the {rtype} matches several Vietnamese core profiles ({', '.join(sd['url'] for sd in applying)}); name one in meta.profile"


def required_profiles(resource: dict[str, Any], registry: ProfileRegistry | None = None) -> tuple[list[str], list[Issue]]:
    """The profiles a write of ``resource`` must pass beyond those it claims, and why it cannot."""
    registry = registry or default_registry()
    rtype = resource.get("resourceType")
    if rtype not in MANDATORY_TYPES:
        return [], []
    claimed = claimed_profiles(resource)
    if claimed:
        core = {sd["url"] for sd in core_profiles(rtype, registry)}
        if any(u.split("|", 1)[0] in core for u in claimed):
            return [], []
        where = f"{rtype}.meta.profile"
        return [], [Issue("invalid", f"{where}: Vietnamese core profiles are mandatory on this server; the {rtype} claims none of {', '.join(sorted(core))} (rule: profile)", (where,))]
    url, why = default_profile(resource, registry)
    if url is None:
        return [], [Issue("invalid", f"{rtype}: Vietnamese core profiles are mandatory on this server, but {why} (rule: profile)", (rtype,))]
    return [url], []


def problems(resource: dict[str, Any], registry: ProfileRegistry | None = None) -> list[Issue]:
    """Every error that stops ``resource`` from being stored when profiles are mandatory."""
    if resource.get("resourceType") not in MANDATORY_TYPES:
        return []
    extra, issues = required_profiles(resource, registry)
    if issues and not extra and not claimed_profiles(resource):
        return issues  # no profile applies: nothing more to check against
    # a vendor's own extension is legal FHIR: unknown extensions are warnings here (not refused)
    issues += validate(resource, extra, registry=registry, unknown_profile="error", unknown_extension="warning")
    return [i for i in issues if i.severity in ("error", "fatal")]
