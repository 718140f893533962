"""Which StructureDefinitions the validator knows, by canonical URL, and their element trees.

The default registry reads ``profiles.served()``; tests build their own from fixtures.
Element trees are built once per profile and kept (profiles are immutable at run time).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

from .elements import Node, build_tree


class ProfileRegistry:
    """StructureDefinitions by URL (``url`` and ``url|version`` both resolve)."""

    def __init__(self, definitions: Iterable[dict[str, Any]] = ()) -> None:
        self._by_url: dict[str, dict[str, Any]] = {}
        self._trees: dict[str, Node] = {}
        #: what rule modules derive from a definition, kept with it: (what, url) -> value
        self.derived: dict[tuple[str, str], Any] = {}
        for sd in definitions:
            self.add(sd)

    def add(self, sd: dict[str, Any]) -> None:
        if not isinstance(sd, dict) or sd.get("resourceType") != "StructureDefinition" or not isinstance(sd.get("url"), str):
            return
        self._by_url[sd["url"]] = sd
        if isinstance(sd.get("version"), str):
            self._by_url[f"{sd['url']}|{sd['version']}"] = sd

    def get(self, url: str) -> dict[str, Any] | None:
        if not isinstance(url, str):
            return None
        return self._by_url.get(url) or self._by_url.get(url.split("|", 1)[0])

    def tree(self, sd: dict[str, Any]) -> Node:
        """The element tree of ``sd`` (cached by URL)."""
        key = sd["url"]
        if key not in self._trees:
            self._trees[key] = build_tree(sd)
        return self._trees[key]

    def resource_profiles(self, rtype: str | None = None) -> list[dict[str, Any]]:
        """Profiles (constraints on a resource type), optionally of one type, in URL order."""
        seen: dict[str, dict[str, Any]] = {}
        for sd in self._by_url.values():
            if sd.get("kind") == "resource" and sd.get("derivation", "constraint") == "constraint" and (rtype is None or sd.get("type") == rtype):
                seen[sd["url"]] = sd
        return [seen[u] for u in sorted(seen)]


@lru_cache(maxsize=1)
def default_registry() -> ProfileRegistry:
    """Every StructureDefinition shipped in ``profiles/``, VN Core's included."""
    import profiles

    return ProfileRegistry(r for r in profiles.served() if isinstance(r, dict))
