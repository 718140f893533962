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
        if "LIENTHONG_REQUIRE_PROFILES" in os.environ:
            env["require_profiles"] = os.environ["LIENTHONG_REQUIRE_PROFILES"].strip().lower() in ("1", "true", "yes", "on")
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)  # type: ignore[arg-type]
