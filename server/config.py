"""Server settings: where data lives and the limits that protect the server."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_STORE = "sqlite:///./data/lienthong.db"


@dataclass(frozen=True, slots=True)
class Settings:
    store_url: str = DEFAULT_STORE
    #: largest request body accepted, in bytes (413 beyond)
    max_request_bytes: int = 32 * 1024 * 1024
    #: deepest JSON nesting accepted (400 beyond); R4 resources rarely exceed 15
    max_json_depth: int = 64
    #: page size when the client does not give ``_count``
    default_count: int = 20
    #: largest ``_count`` accepted (400 beyond)
    max_count: int = 1000
    #: most entries in one batch or transaction Bundle (413 beyond)
    max_bundle_entries: int = 10_000
    #: writes of Patient, Encounter, Observation, DocumentReference must conform to a
    #: Vietnamese core profile (env LIENTHONG_REQUIRE_PROFILES=1, ``serve --require-profiles``)
    require_profiles: bool = False
    #: strings and markdown that look like embedded HTML tags (``<script>``, ``<img onerror=…>``)
    #: are refused on writes (422) and are errors in $validate: a defence against stored XSS in
    #: pages that show the data (env LIENTHONG_SECURITY_CHECKS=1, ``serve --security-checks``)
    security_checks: bool = False
    #: an unknown or unsupported search parameter is refused with 400 (``strict``) or ignored
    #: and reported in an OperationOutcome entry (``lenient``); a request's ``Prefer: handling=``
    #: overrides it (env LIENTHONG_SEARCH_HANDLING, ``serve --search-handling``)
    search_handling: str = "strict"
    #: referential integrity, as HAPI by default (:mod:`server.fhir.integrity`): a local reference
    #: to a missing resource is refused on write (422), a delete of a resource that others refer to
    #: is refused (409). Off for bulk loads whose order cannot be controlled (env
    #: LIENTHONG_INTEGRITY_ON_WRITE=0 / LIENTHONG_INTEGRITY_ON_DELETE=0, ``serve --no-integrity-on-write``
    #: / ``--no-integrity-on-delete``)
    integrity_on_write: bool = True
    integrity_on_delete: bool = True

    # ------------------------------------------------------------- access control
    #: bearer tokens required on /fhir (env LIENTHONG_AUTH=off, ``serve --auth off``: loopback only)
    auth: bool = True
    #: ``iss`` of the tokens this server issues, and the ``aud`` they (and external ones) must carry
    token_issuer: str = "urn:lienthong"
    audience: str = "urn:lienthong:fhir"
    #: lifetime of access tokens, refresh tokens and authorization codes, in seconds
    access_token_ttl: int = 900
    refresh_token_ttl: int = 8 * 3600
    code_ttl: int = 60
    #: an external OpenID Connect issuer whose tokens are accepted too (its JWKS is fetched)
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    #: the web workspace (``/app/``): a session ends after this many idle seconds, and at the
    #: latest when its refresh token does (``refresh_token_ttl``)
    app_idle_ttl: int = 1800
    #: the workspace's client id at the external OpenID issuer (``oidc_issuer``); when set, its
    #: sign-in page offers that identity provider beside the local accounts
    workspace_oidc_client: str | None = None
    #: origins allowed by CORS (none: CORS off)
    cors_origins: tuple[str, ...] = ()
    #: write an AuditEvent for every interaction (off only to measure its cost)
    audit: bool = True

    def __post_init__(self) -> None:
        if self.search_handling not in ("strict", "lenient"):
            raise ValueError(f"search_handling must be strict or lenient, got {self.search_handling!r}")

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Settings from ``LIENTHONG_*`` environment variables, then explicit overrides."""
        env: dict[str, object] = {}
        if "LIENTHONG_STORE" in os.environ:
            env["store_url"] = os.environ["LIENTHONG_STORE"]
        for name in ("max_request_bytes", "max_json_depth", "default_count", "max_count", "max_bundle_entries"):
            key = "LIENTHONG_" + name.upper()
            if key in os.environ:
                env[name] = int(os.environ[key])
        for name in ("require_profiles", "security_checks", "integrity_on_write", "integrity_on_delete", "auth", "audit"):
            key = "LIENTHONG_" + name.upper()
            if key in os.environ:
                env[name] = _flag(os.environ[key])
        for name in ("token_issuer", "audience", "oidc_issuer", "oidc_audience", "search_handling", "workspace_oidc_client"):
            key = "LIENTHONG_" + name.upper()
            if os.environ.get(key):
                env[name] = os.environ[key]
        for name in ("access_token_ttl", "refresh_token_ttl", "code_ttl", "app_idle_ttl"):
            key = "LIENTHONG_" + name.upper()
            if key in os.environ:
                env[name] = int(os.environ[key])
        if os.environ.get("LIENTHONG_CORS_ORIGINS"):
            env["cors_origins"] = tuple(o.strip() for o in os.environ["LIENTHONG_CORS_ORIGINS"].split(",") if o.strip())
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)  # type: ignore[arg-type]


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")
