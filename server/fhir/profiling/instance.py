"""Reading instance JSON the way element paths address it, with FHIRPath-like paths."""

from __future__ import annotations

from typing import Any, Iterator

from ..outcome import Issue, Severity

Item = tuple[Any, str]  # a value and its path, e.g. ({"system": …}, "Patient.identifier[1]")


def element_values(parent: Any, name: str, parent_path: str) -> list[Item]:
    """The occurrences of element ``name`` in ``parent`` (choices: ``value[x]`` matches ``valueQuantity``…)."""
    if not isinstance(parent, dict):
        return []
    if name.endswith("[x]"):
        prefix = name[:-3]
        keys = [k for k in parent if k.startswith(prefix) and len(k) > len(prefix) and k[len(prefix)].isupper()]
    else:
        keys = [name] if name in parent else ([f"_{name}"] if f"_{name}" in parent else [])
    out: list[Item] = []
    for key in keys:
        value = parent[key]
        shown = key.lstrip("_")
        if isinstance(value, list):
            out.extend((v, f"{parent_path}.{shown}[{i}]") for i, v in enumerate(value) if v is not None)
        elif value is not None:
            out.append((value, f"{parent_path}.{shown}"))
    return out


def values_at(value: Any, path: str) -> list[Any]:
    """Values at a dotted relative path (``$this`` = the value itself); lists are flattened."""
    current = [value]
    if path in ("$this", ""):
        return current
    for part in path.split("."):
        nxt: list[Any] = []
        for v in current:
            if isinstance(v, dict) and part in v:
                got = v[part]
                nxt.extend(got if isinstance(got, list) else [got])
        current = nxt
    return current


def walk_keyed(node: Any, keys: frozenset[str], path: str) -> Iterator[Item]:
    """Every dict found under one of ``keys`` anywhere below ``node`` (iterative, depth-safe)."""
    stack: list[Item] = [(node, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, dict):
            for k, v in current.items():
                sub = f"{where}.{k}"
                if isinstance(v, list):
                    for i, item in enumerate(v):
                        if k in keys and isinstance(item, dict):
                            yield item, f"{sub}[{i}]"
                        stack.append((item, f"{sub}[{i}]"))
                else:
                    if k in keys and isinstance(v, dict):
                        yield v, sub
                    stack.append((v, sub))
        elif isinstance(current, list):
            for i, item in enumerate(current):
                stack.append((item, f"{where}[{i}]"))


def finding(rule: str, severity: Severity, code: str, path: str, text: str, profile: str) -> Issue:
    """One validator finding: names the path, the rule and the profile, as the issue asks."""
    return Issue(code, f"{path}: {text} (rule: {rule}; profile: {profile})", (path,), severity)
