"""Who is asking, and what they may do: the one object every FHIR request carries.

An :class:`Access` comes from a verified token (or, for the operator's own tools and
``--auth off``, is :data:`FULL`). It answers two questions, and only these:

- may this principal perform interaction X on type T at all (``can``/``require``: 403);
- which resources of type T may it see or change (``term``: a query term over the search
  index, built from the patient compartment and the scopes' ``?param=value`` restrictions).

Everything else (filtering queries, checking versions read by id, refusing writes) is done
once, at the storage boundary, by :mod:`server.auth.guard`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..fhir.compartment import compartment_term, in_compartment
from ..fhir.outcome import FhirError
from ..fhir.search.registry import SearchRegistry
from ..storage.index import All, AnyOf, Term
from .scopes import Grant

#: interactions as SMART v2 letters
INTERACTION_LETTER = {"create": "c", "read": "r", "vread": "r", "history": "r", "update": "u", "delete": "d", "search": "s", "operation": "r"}

#: the type whose resources only the server writes and only auditors read
AUDIT_TYPE = "AuditEvent"


class Deny:
    """The term that matches nothing (no grant covers the type)."""

    def __repr__(self) -> str:
        return "DENY"


DENY = Deny()

#: resolves a scope restriction (``category=laboratory``) on a type to a query term
Restrict = Callable[[str, tuple[tuple[str, str], ...]], Term | None]


@dataclass(frozen=True, slots=True)
class Access:
    """The principal of one request and its grants."""

    grants: tuple[Grant, ...] = ()
    #: the patient in context (``launch/patient``, or the token's ``patient`` claim)
    patient: str | None = None
    client_id: str | None = None
    user: str | None = None
    role: str | None = None
    fhir_user: str | None = None
    #: facilities (MACSKCB codes) a vendor client may write for; ``None``: not limited
    facilities: frozenset[str] | None = None
    token_id: str | None = None
    #: the server's own tools (CLI, example loading, ``--auth off``): every interaction
    full: bool = False
    scope_text: str = ""
    #: extra attributes for the audit trail (issuer of an external token, …)
    notes: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def who(self) -> str:
        """A short name for logs and audit: user, client, or the server itself."""
        if self.user:
            return f"user {self.user}"
        if self.client_id:
            return f"client {self.client_id}"
        return "server" if self.full else "anonymous"

    @property
    def restricted(self) -> bool:
        """Whether any grant limits the resources it sees (patient context or a restriction)."""
        return not self.full and any(g.context == "patient" or g.restriction for g in self.grants)

    def _grants_for(self, type_: str, letters: str) -> list[Grant]:
        out = []
        for g in self.grants:
            if not g.covers(type_) or not (g.letters & set(letters)):
                continue
            if type_ == AUDIT_TYPE and g.type == "*" and self.role != "admin":
                continue  # the audit trail needs an explicit AuditEvent scope, or the admin role
            out.append(g)
        return out

    def can(self, type_: str, letter: str) -> bool:
        if type_ == AUDIT_TYPE and letter in "cud":
            return False  # nobody writes the audit trail but the server
        return self.full or bool(self._grants_for(type_, letter))

    def require(self, type_: str, interaction: str) -> None:
        """403 unless some grant allows ``interaction`` (``read``, ``search``, ``create``…) on ``type_``."""
        letter = INTERACTION_LETTER[interaction]
        if self.can(type_, letter):
            return
        if type_ == AUDIT_TYPE and letter in "cud":
            raise FhirError.of(403, "forbidden", f"AuditEvents are written by the server only; {interaction} is not allowed to anybody")
        have = self.scope_text or "no resource scopes"
        raise FhirError.of(403, "forbidden", f"The token's scopes ({have}) do not allow {interaction} of {type_} (needs e.g. {self._example(type_, letter)})")

    def require_any(self, type_: str, *interactions: str) -> None:
        """403 unless one of ``interactions`` is allowed (a PUT may create or update): checked
        before the body is read, so a refused write costs no validation and reveals nothing."""
        if not any(self.can(type_, INTERACTION_LETTER[i]) for i in interactions):
            self.require(type_, interactions[0])

    def require_facilities(self, codes: list[str | None], what: str) -> None:
        """403 unless every code is one of the facilities this client may write for."""
        if self.facilities is None:
            return
        foreign = sorted({c or "(none given)" for c in codes if c not in self.facilities})
        if foreign:
            allowed = ", ".join(sorted(self.facilities)) or "no facility"
            raise FhirError.of(403, "forbidden", f"{what} is for facility {', '.join(foreign)}; this client may write for {allowed} only")

    def _example(self, type_: str, letter: str) -> str:
        context = next((g.context for g in self.grants), "system")
        return f"{context}/{type_}.{letter}"

    def term(self, registry: SearchRegistry, restrict: Restrict, type_: str, letters: str) -> Term | Deny | None:
        """Which resources of ``type_`` the grants with any of ``letters`` reach: ``None`` for all,
        :data:`DENY` for none, else a term over the search index."""
        if self.full:
            return None
        grants = self._grants_for(type_, letters)
        if not grants:
            return DENY
        terms: list[Term] = []
        for g in grants:
            parts: list[Term] = []
            if g.context == "patient":
                if self.patient is None or not in_compartment(registry, type_):
                    continue  # no patient in context, or a type no patient's compartment holds
                parts.append(compartment_term(registry, self.patient, (type_,)))
            if g.restriction:
                r = restrict(type_, g.restriction)
                if r is not None:
                    parts.append(r)
            if not parts:
                return None  # one grant reaches every resource of the type
            terms.append(parts[0] if len(parts) == 1 else All(tuple(parts)))
        if not terms:
            return DENY
        return terms[0] if len(terms) == 1 else AnyOf(tuple(terms))


#: the server's own tools and ``--auth off``
FULL = Access(full=True, scope_text="(full access)")
