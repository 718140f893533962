"""SMART on FHIR scopes: the v2 grammar, with the v1 forms as aliases.

``patient/Observation.rs?category=laboratory`` reads as: in a patient context, Observations,
read and search, only those whose ``category`` is ``laboratory``. v1 ``read`` is v2 ``rs`` and
v1 ``write`` is ``cud``; ``*`` is every interaction. Scopes that are not resource scopes
(``openid``, ``fhirUser``, ``launch/patient``, ``offline_access``) are kept as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

#: interactions in v2 order: create, read, update, delete, search
LETTERS = "cruds"
CONTEXTS = ("patient", "user", "system")

_V1 = {"read": "rs", "write": "cud", "*": LETTERS}
_RESOURCE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)(?:\?(.+))?$")
#: non-resource scopes this server understands
OTHER_SCOPES = frozenset({"openid", "fhirUser", "profile", "launch", "launch/patient", "offline_access", "online_access"})


class ScopeError(ValueError):
    """A scope that is not SMART grammar (the token endpoint answers ``invalid_scope``)."""


@dataclass(frozen=True, slots=True)
class Grant:
    """One resource scope: who it is for, which type (``*`` any), which interactions."""

    context: str
    type: str
    letters: frozenset[str]
    restriction: tuple[tuple[str, str], ...] = ()

    def covers(self, type_: str) -> bool:
        return self.type == type_ or self.type == "*"

    def allows(self, type_: str, letter: str) -> bool:
        return letter in self.letters and self.covers(type_)

    @property
    def text(self) -> str:
        """The v2 spelling, as the token endpoint grants it."""
        letters = "".join(c for c in LETTERS if c in self.letters)
        query = "&".join(f"{k}={v}" for k, v in self.restriction)
        return f"{self.context}/{self.type}.{letters}" + (f"?{query}" if query else "")


def parse_scope(scope: str) -> Grant | None:
    """A resource scope as a :class:`Grant`; ``None`` for the non-resource scopes."""
    if scope in OTHER_SCOPES:
        return None
    m = _RESOURCE.match(scope)
    if m is None:
        raise ScopeError(f"'{scope}' is not a SMART scope (e.g. patient/Observation.rs, system/*.cruds, user/*.read)")
    context, type_, perm, query = m.groups()
    if perm in _V1:
        letters = _V1[perm]
    elif re.fullmatch("c?r?u?d?s?", perm):
        letters = perm
    else:
        raise ScopeError(f"'{scope}': '{perm}' is neither v2 letters in the order c, r, u, d, s nor v1 read, write or *")
    restriction = tuple(parse_qsl(query, keep_blank_values=True)) if query else ()
    if query and not restriction:
        raise ScopeError(f"'{scope}': the restriction after '?' is not name=value")
    return Grant(context, type_, frozenset(letters), restriction)


def parse_scopes(text: str) -> tuple[list[Grant], list[str]]:
    """Grants and the other scopes of a space-separated scope string."""
    grants: list[Grant] = []
    other: list[str] = []
    for scope in text.split():
        grant = parse_scope(scope)
        if grant is None:
            other.append(scope)
        else:
            grants.append(grant)
    return grants, other


def narrow(requested: list[Grant], allowed: list[Grant]) -> list[Grant]:
    """The part of each requested grant that some allowed grant permits (a client or a role
    can ask for less than it may have, never more). Restrictions of the allowed grant are kept."""
    out: dict[Grant, None] = {}
    for want in requested:
        for have in allowed:
            if have.context != want.context:
                continue
            if want.type != "*" and have.type != "*" and have.type != want.type:
                continue
            letters = want.letters & have.letters
            if not letters:
                continue
            type_ = want.type if want.type != "*" else have.type
            restriction = tuple(dict.fromkeys(want.restriction + have.restriction))
            out[Grant(want.context, type_, frozenset(letters), restriction)] = None
    return list(out)
