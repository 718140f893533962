"""OperationOutcome: the one way the server reports a problem to a client.

Every layer raises :class:`FhirError` with one or more :class:`Issue`; the HTTP layer turns
it into an ``OperationOutcome`` with the error's status code. An issue names the element
(``expression``, a FHIRPath-style path such as ``Patient.name[0].family``) and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One entry of an OperationOutcome (``code`` is from the R4 ``issue-type`` value set)."""

    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: Severity = "error"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            out["expression"] = list(self.expression)
        return out


@dataclass(slots=True)
class FhirError(Exception):
    """A client-visible failure: HTTP ``status`` plus the issues that explain it."""

    status: int
    issues: list[Issue] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(i.diagnostics for i in self.issues) or f"HTTP {self.status}"

    @classmethod
    def of(cls, status: int, code: str, diagnostics: str, *expression: str) -> "FhirError":
        return cls(status, [Issue(code, diagnostics, tuple(expression))])

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


#: at most this many issues in one OperationOutcome (and in one resource's validation): a hostile
#: body must not buy a response, or a walk, out of proportion to anything a client can act on
MAX_ISSUES = 100

#: how the note that closes a cut list of issues begins (:func:`is_limit_note`)
_LIMIT_NOTE = "Too many issues: "


def limit_note(shown: int, more: int | None = None, expression: tuple[str, ...] = (), stopped: bool = True) -> Issue:
    """The one issue that ends a list cut at ``shown`` issues: how many more there were, and/or,
    where checking stopped, that there may be more."""
    text = _LIMIT_NOTE
    if more is not None:
        text += f"{more} more issue(s) not shown after the first {shown}"
    if stopped:
        text += "; checking stopped early, there may be more" if more is not None else f"checking stopped after {shown} issues; there may be more"
    return Issue("too-costly", text + ". Fix these and send it again", expression)


def is_limit_note(issue: Issue) -> bool:
    """The note of :func:`limit_note`: it says the list was cut, not what is wrong."""
    return issue.code == "too-costly" and issue.diagnostics.startswith(_LIMIT_NOTE)


def bounded(issues: list[Issue], limit: int = MAX_ISSUES) -> list[Issue]:
    """``issues``, or their first ``limit`` and a note saying how many more there were."""
    if len(issues) <= limit + 1:
        return issues
    rest = issues[limit:]
    notes = sum(1 for i in rest if is_limit_note(i))
    return [*issues[:limit], limit_note(limit, len(rest) - notes, stopped=notes > 0)]


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    items = [i.to_json() for i in bounded(list(issues))]
    if not items:
        items = [Issue("informational", "All OK", severity="information").to_json()]
    return {"resourceType": "OperationOutcome", "issue": items}


# Shorthands for the common statuses, so call sites read as the spec does.
def bad_request(diagnostics: str, *expression: str, code: str = "invalid") -> FhirError:
    return FhirError.of(400, code, diagnostics, *expression)


def not_found(diagnostics: str) -> FhirError:
    return FhirError.of(404, "not-found", diagnostics)


def gone(diagnostics: str) -> FhirError:
    return FhirError.of(410, "deleted", diagnostics)


def conflict(diagnostics: str) -> FhirError:
    return FhirError.of(409, "conflict", diagnostics)


def precondition_failed(diagnostics: str) -> FhirError:
    return FhirError.of(412, "conflict", diagnostics)


def unprocessable(issues: list[Issue]) -> FhirError:
    return FhirError(422, issues)
