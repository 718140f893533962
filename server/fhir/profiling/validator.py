"""``validate``: base type, base R4 invariants and rules, then every claimed or requested profile.

Never raises: whatever the input, the answer is a list of issues. A failure inside the
validator itself becomes one ``exception`` issue rather than a 5xx.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

from ..outcome import Issue
from ..validation import validate_resource
from . import base_invariants
from .rules import (absolute_urls, attachments, bundle_references, bundle_rules, enable_when, example_urls, extensions, narrative_links,
                    search_definitions, security)
from .instance import finding
from .registry import ProfileRegistry, default_registry
from .typed import Walk
from .walker import ProfileWalk

log = logging.getLogger("lienthong")

#: R4's rules beyond the base invariants and the extensions, each a module's
#: ``check(resource, walk) -> issues`` (``walk``: the resource walked once, for those that read it)
RULE_FAMILIES: tuple[Callable[[dict[str, Any], Walk], list[Issue]], ...] = (
    absolute_urls.check, attachments.check, enable_when.check, search_definitions.check,
    bundle_rules.check, bundle_references.check, narrative_links.check)


def claimed_profiles(resource: Any) -> list[str]:
    meta = resource.get("meta") if isinstance(resource, dict) else None
    found = meta.get("profile") if isinstance(meta, dict) else None
    return [p for p in found if isinstance(p, str)] if isinstance(found, list) else []


def validate(
    resource: Any,
    profiles: Iterable[str] | None = None,
    *,
    registry: ProfileRegistry | None = None,
    unknown_profile: str = "warning",
    unknown_extension: str = "error",
    security_checks: bool = False,
    no_html_in_markdown: bool = False,
    examples: bool = True,
    max_depth: int = 64,
) -> list[Issue]:
    """Every issue of ``resource`` against its base type, its extensions' definitions and its
    profiles (``meta.profile`` + ``profiles``).

    ``unknown_profile`` is the severity of a profile URL the server does not know ("warning"
    as HAPI does; "error" when profiles are mandatory); ``unknown_extension`` that of an
    extension whose definition it does not know ("error" as the reference validator; "warning"
    where a vendor's own extension must not stop a write). Off by default, as options of the
    reference validator: ``security_checks`` (HTML-like tags in strings are errors),
    ``no_html_in_markdown`` (likewise in markdown), ``examples=False`` (example.org… URLs are errors).
    """
    try:
        issues = list(validate_resource(resource, max_depth=max_depth))
    except Exception:  # pragma: no cover - validate_resource promises not to raise
        log.exception("base validation failed")
        return [Issue("exception", "The validator failed on this content; this is a server bug")]
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return issues
    if any(i.code == "too-costly" for i in issues):
        return issues  # too deep to walk again
    malformed = any(i.code == "structure" for i in issues)
    try:
        walk = Walk(resource)  # once, for every rule module
        found = _not_reported(base_invariants.check(resource, walk), issues)
        registry = registry or default_registry()
        found += extensions.check(resource, registry, unknown=unknown_extension, examples=examples, walk=walk)
        found += security.check(resource, strings=security_checks, markdown=no_html_in_markdown, walk=walk)
        if not examples:
            found += example_urls.check(resource, walk=walk)
        for family in RULE_FAMILIES:
            found += family(resource, walk)
        found += profile_issues(resource, profiles, registry=registry, unknown_profile=unknown_profile)
    except Exception as exc:
        log.exception("profile validation failed")
        return issues + [Issue("exception", f"The profile validator failed on this content ({type(exc).__name__}); this is a server bug")]
    if malformed:  # an invariant the engine cannot evaluate on malformed content says nothing new
        found = [i for i in found if not (i.code == "not-supported" and "could not be evaluated" in i.diagnostics)]
    return issues + found


def _not_reported(found: list[Issue], already: list[Issue]) -> list[Issue]:
    """Base invariants the structural walk has already reported (it checks ext-1) are dropped."""
    seen = {(e, key) for i in already for e in i.expression for key in _keys(i.diagnostics)}
    return [i for i in found if not any((e, key) in seen for e in i.expression for key in _keys(i.diagnostics))]


def _keys(text: str) -> list[str]:
    import re

    return re.findall(r"\b([a-z]{2,5}-\d+)\b", text)


def profile_issues(resource: dict[str, Any], profiles: Iterable[str] | None = None, *, registry: ProfileRegistry | None = None, unknown_profile: str = "warning") -> list[Issue]:
    registry = registry or default_registry()
    rtype = resource["resourceType"]
    urls = list(dict.fromkeys([*claimed_profiles(resource), *(profiles or [])]))
    issues: list[Issue] = []
    for url in urls:
        sd = registry.get(url)
        if sd is None:
            issues.append(finding("profile", unknown_profile, "not-supported", rtype, f"the profile {url} is not known to this server, so the resource was not checked against it", url))  # type: ignore[arg-type]
            continue
        if sd.get("type") != rtype or sd.get("kind") != "resource":
            issues.append(finding("profile", "error", "invalid", rtype, f"the profile is for {sd.get('type')}, not {rtype}", url))
            continue
        for layer in profile_chain(registry, sd, issues, rtype, url):
            issues += ProfileWalk(registry, layer, resource).run([(resource, rtype)])
    return issues


_CORE_BASE = "http://hl7.org/fhir/StructureDefinition/"


def profile_chain(registry: ProfileRegistry, sd: dict[str, Any], issues: list[Issue], rtype: str, url: str) -> list[dict[str, Any]]:
    """``sd`` and the profiles it derives from (``baseDefinition``), down to the core type. A base
    profile the server does not know (VN Core's IPS bases) is said, as information: its own
    constraints were not checked."""
    chain, seen = [sd], {sd["url"]}
    while True:
        base = chain[-1].get("baseDefinition")
        if not isinstance(base, str) or base == _CORE_BASE + str(chain[-1].get("type")):
            return chain  # the core type: checked by the base validation
        found = registry.get(base)
        if found is None or found["url"] in seen:
            if found is None:
                issues.append(finding("profile", "information", "informational", rtype,
                                      f"the profile {chain[-1]['url']} derives from {base}, which this server does not have: "
                                      "the constraints of that base were not checked", url))
            return chain
        chain.append(found)
        seen.add(found["url"])
