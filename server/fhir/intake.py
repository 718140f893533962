"""From request bytes to a resource the repository may store, or every reason it may not."""

from __future__ import annotations

from typing import Any

from .. import jsonio
from .outcome import FhirError, Issue, bad_request, is_limit_note
from .validation import validate_resource


def parse_json(raw: bytes) -> Any:
    """Parse a request body; malformed or absurdly nested JSON is a 400."""
    if not raw.strip():
        raise bad_request("The request body is empty; a FHIR resource in JSON was expected", code="structure")
    try:
        return jsonio.loads(raw)
    except UnicodeDecodeError as exc:
        raise bad_request(f"The request body is not UTF-8: {exc.reason} at byte {exc.start}", code="structure") from None
    except jsonio.JSONDecodeError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", code="structure") from None
    except RecursionError:
        raise bad_request("The JSON nesting is too deep", code="too-costly") from None


#: issue codes that mean the request itself is malformed (400) rather than its content invalid (422)
BAD_REQUEST_CODES = frozenset({"structure", "too-costly", "processing"})


def status_for(issues: list[Issue]) -> int:
    """400 when the body cannot be read as the resource or does not fit the URL, 422 when it breaks a rule
    (the note that checking stopped at the issue limit decides nothing: the issues before it do)."""
    return 400 if any(i.code in BAD_REQUEST_CODES and not is_limit_note(i) for i in issues) else 422


def resource_issues(data: Any, *, type_: str | None, id_: str | None, require_id: bool, path: str | None, max_depth: int) -> list[Issue]:
    """Every problem of ``data`` as the body of an interaction on ``type_`` (and ``id_``)."""
    if not isinstance(data, dict):
        return [Issue("structure", "A FHIR resource must be a JSON object", (path,) if path else ())]
    where = path or str(data.get("resourceType", type_ or "Resource"))
    issues: list[Issue] = []
    rtype = data.get("resourceType")
    if type_ is not None and isinstance(rtype, str) and rtype != type_:
        issues.append(Issue("processing", f"resourceType '{rtype}' does not match the type in the URL ('{type_}')", (f"{where}.resourceType",)))
    body_id = data.get("id")
    if id_ is not None:
        if body_id is None and require_id:
            issues.append(Issue("processing", f"The resource must have an id equal to the id in the URL ('{id_}')", (f"{where}.id",)))
        elif body_id is not None and body_id != id_:
            issues.append(Issue("processing", f"The resource id '{body_id}' does not match the id in the URL ('{id_}')", (f"{where}.id",)))
    issues.extend(validate_resource(data, path=path, max_depth=max_depth))
    return [i for i in issues if i.severity in ("error", "fatal")]


def check_resource(data: Any, *, type_: str | None = None, id_: str | None = None, require_id: bool = False, max_depth: int = 64) -> dict[str, Any]:
    """``data`` if it is a valid resource for the interaction, else a 400/422 :class:`FhirError`."""
    issues = resource_issues(data, type_=type_, id_=id_, require_id=require_id, path=None, max_depth=max_depth)
    if issues:
        raise FhirError(status_for(issues), issues)
    return data
