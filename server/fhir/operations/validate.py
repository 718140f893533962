"""``$validate`` (type and instance level): an OperationOutcome of what is wrong, if anything.

Validation findings are the answer (200), not an HTTP error; only a request that cannot be
understood is (400: not JSON, wrong type, unknown mode, id mismatch; 404: mode=delete on a
resource that does not exist). With ``require_profiles`` on, the outcome also holds what the
mandatory profiles would refuse, so a client sees exactly why a write would fail; likewise
with ``security_checks`` (HTML-like tags in strings and markdown).
"""

from __future__ import annotations

from typing import Any

from ..outcome import FhirError, Issue, bad_request, operation_outcome
from ..profiling import default_registry, validate
from ..profiling.mandatory import MANDATORY_TYPES, required_profiles
from ..repository import Repository
from ..validation import known_resource_types

MODES = ("create", "update", "delete", "profile")
NO_ISSUES = "No issues detected during validation"


def parameter_values(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, value) of each ``Parameters.parameter``: ``resource``, else the ``value[x]``."""
    out: list[tuple[str, Any]] = []
    params = body.get("parameter") or []
    if not isinstance(params, list):
        raise bad_request("Parameters.parameter must be an array", "Parameters.parameter", code="structure")
    for i, p in enumerate(params):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise bad_request(f"Parameters.parameter[{i}] needs a name", f"Parameters.parameter[{i}]")
        if "resource" in p:
            out.append((p["name"], p["resource"]))
            continue
        value = next((v for k, v in p.items() if k.startswith("value") and len(k) > 5), None)
        out.append((p["name"], value))
    return out


def _one(name: str, *sources: list[Any]) -> Any:
    values = [v for src in sources for v in src]
    distinct = list(dict.fromkeys(map(repr, values)))
    if len(distinct) > 1:
        raise bad_request(f"'{name}' is given more than once with different values", name)
    return values[0] if values else None


def read_request(body: Any, query: list[tuple[str, str]]) -> tuple[Any, str | None, list[str]]:
    """(resource or None, mode, profiles) from a resource or Parameters body and the query."""
    resource: Any = None
    from_params: dict[str, list[Any]] = {"mode": [], "profile": []}
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        for name, value in parameter_values(body):
            if name == "resource":
                resource = value
            elif name in from_params:
                from_params[name].append(value)
    elif body is not None:
        resource = body
    mode = _one("mode", from_params["mode"], [v for k, v in query if k == "mode"])
    if mode is not None and mode not in MODES:
        raise bad_request(f"mode '{mode}' is not one of {', '.join(MODES)}", "mode")
    profiles = [p for p in from_params["profile"] + [v for k, v in query if k == "profile"] if p]
    if any(not isinstance(p, str) for p in profiles):
        raise bad_request("profile must be a canonical URL", "profile")
    return resource, mode, list(dict.fromkeys(profiles))


async def run_validate(repo: Repository, type_: str, id_: str | None, body: Any, query: list[tuple[str, str]]) -> dict[str, Any]:
    if type_ not in known_resource_types():
        raise FhirError.of(404, "not-supported", f"'{type_}' is not a FHIR R4 resource type")
    resource, mode, profiles = read_request(body, query)
    if id_ is not None and repo.access.restricted:
        await repo.read(type_, id_)  # a token limited to some resources validates only those it can see
    if mode == "delete":
        if id_ is None:
            raise bad_request("mode=delete needs the instance: POST [base]/{type}/{id}/$validate", "mode")
        await repo.read(type_, id_)  # 404 / 410 as a read would
        return operation_outcome([Issue("informational", f"{type_}/{id_} exists and may be deleted; this server has no rules that forbid it", severity="information")])
    if resource is None:
        raise bad_request("A resource to validate is needed: the body, or the 'resource' parameter of a Parameters body", "resource")
    if not isinstance(resource, dict):
        raise bad_request("The resource to validate must be a JSON object", "resource", code="structure")
    if resource.get("resourceType") != type_:
        raise bad_request(f"resourceType '{resource.get('resourceType')}' does not match the type in the URL ('{type_}')", f"{type_}.resourceType", code="processing")
    body_id = resource.get("id")
    if id_ is not None and body_id is not None and body_id != id_:
        raise bad_request(f"The resource id '{body_id}' does not match the id in the URL ('{id_}')", f"{type_}.id", code="processing")
    if mode == "update" and body_id is None:
        raise bad_request("mode=update needs the resource's id (equal to the id in the URL)", f"{type_}.id", code="processing")
    registry = default_registry()
    issues: list[Issue] = []
    known = []
    for url in profiles:
        if registry.get(url) is None:
            issues.append(Issue("not-supported", f"{type_}: the profile {url} is not known to this server (rule: profile; profile: {url})", (type_,)))
        else:
            known.append(url)
    unknown = "warning"
    if repo.settings.require_profiles and mode != "profile" and type_ in MANDATORY_TYPES:
        extra, refused = required_profiles(resource, registry)
        known += extra
        issues += refused
        unknown = "error"
    secure = repo.settings.security_checks
    issues = validate(resource, known, registry=registry, unknown_profile=unknown, security_checks=secure,
                      no_html_in_markdown=secure, max_depth=repo.settings.max_json_depth) + issues
    if not issues:
        issues = [Issue("informational", NO_ISSUES, severity="information")]
    return operation_outcome(issues)
