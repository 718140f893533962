"""Local accounts: people who sign in on the built-in login page (authorization code + PKCE).

Kept as ``user`` records with an argon2id hash of the password (argon2-cffi's default
parameters, re-hashed on sign-in when those defaults change). A role decides the most a
person's tokens may carry, whatever the client asks for:

- ``doctor``: ``patient/*.cruds user/*.cruds``, never the audit trail;
- ``admin``: the same, plus ``user/AuditEvent.rs``.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..storage.base import Store
from .access import AUDIT_TYPE
from .scopes import Grant, parse_scopes

KIND = "user"
ROLES = ("doctor", "admin")
_BASE = "patient/*.cruds user/*.cruds"
ROLE_SCOPES = {"doctor": _BASE, "admin": f"{_BASE} user/{AUDIT_TYPE}.rs"}
MIN_PASSWORD = 10

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}$")
_FHIR_USER = re.compile(r"^(Practitioner|PractitionerRole|Patient|RelatedPerson|Person)/[A-Za-z0-9\-.]{1,64}$")
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so both answers take as long."""
    return _hasher.hash(secrets.token_urlsafe(16))


class UserError(ValueError):
    """An account that cannot be created; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    fhir_user: str | None = None
    created: str = ""

    @classmethod
    def of(cls, name: str, body: dict[str, Any]) -> "User":
        return cls(name=name, role=body["role"], fhir_user=body.get("fhir_user"), created=body.get("created", ""))


def allowed_grants(role: str) -> list[Grant]:
    """The most a token of this role may carry."""
    grants, _ = parse_scopes(ROLE_SCOPES[role])
    return grants


def within_role(role: str, grants: list[Grant]) -> list[Grant]:
    """Drops what the role must never have (``narrow`` with ``user/*`` would let a doctor ask
    for ``user/AuditEvent.rs`` by name)."""
    if role == "admin":
        return grants
    return [g for g in grants if g.type != AUDIT_TYPE]


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UserError(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    return name


def check_fhir_user(ref: str | None) -> str | None:
    if ref is not None and not _FHIR_USER.match(ref):
        raise UserError(f"fhirUser {ref!r} must be a relative reference such as Practitioner/123 (Practitioner, PractitionerRole, Patient, RelatedPerson or Person)")
    return ref


def new_password() -> str:
    return secrets.token_urlsafe(15)


async def add_user(store: Store, name: str, role: str, password: str | None = None, fhir_user: str | None = None) -> str | None:
    """Create or replace an account; returns the generated password when none was given."""
    check_name(name)
    if role not in ROLES:
        raise UserError(f"role {role!r}: choose one of {', '.join(ROLES)}")
    check_fhir_user(fhir_user)
    generated = None
    if password is None:
        password = generated = new_password()
    elif len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    body: dict[str, Any] = {"role": role, "hash": await asyncio.to_thread(_hasher.hash, password), "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if fhir_user:
        body["fhir_user"] = fhir_user
    await store.put_record(KIND, name, body)
    return generated


async def get_user(store: Store, name: str) -> User | None:
    if not name or not _NAME.match(name):
        return None
    body = await store.get_record(KIND, name)
    return User.of(name, body) if body is not None else None


async def list_users(store: Store) -> list[User]:
    return [User.of(key, body) for key, body in await store.list_records(KIND)]


async def remove_user(store: Store, name: str) -> bool:
    return await store.take_record(KIND, name) is not None


async def check_password(store: Store, name: str, password: str) -> User | None:
    """The account if the password is right, else ``None`` (the same work either way)."""
    body = await store.get_record(KIND, name) if name and _NAME.match(name) else None
    stored = body["hash"] if body is not None else await asyncio.to_thread(_dummy_hash)
    try:  # argon2 takes tens of milliseconds: off the event loop
        await asyncio.to_thread(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if body is None:
        return None
    if _hasher.check_needs_rehash(stored):
        await store.put_record(KIND, name, {**body, "hash": await asyncio.to_thread(_hasher.hash, password)})
    return User.of(name, body)


async def ensure_dev_admin(store: Store) -> str | None:
    """On a store without local accounts: an ``admin`` with a fresh password (returned), else ``None``."""
    if await store.list_records(KIND):
        return None
    password = new_password()
    body = {"role": "admin", "hash": await asyncio.to_thread(_hasher.hash, password), "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if not await store.add_record(KIND, "admin", body):
        return None
    return password
