"""Every extension against its definition, wherever it is: known, in an allowed place, the right kind.

An extension's definition says where it may be used (its contexts), what value it takes,
whether it is a modifier, and for a complex one its sub-extensions. The definitions known are
R4's own (``server/fhir/data/r4-extensions.json``, derived by :mod:`.compile_extensions`) and
those of the registry (this project's and VN Core's); a registry definition is also walked as
a profile on each use, so its bindings, fixed values and invariants apply wherever it is used,
not only where a claimed profile slices it in.

An extension whose definition is not known is reported with the severity the caller gives:
"error" as the reference validator does ($validate), "warning" where a vendor's own extension
must not stop a write. URLs known to be defined elsewhere (``KNOWN_ELSEWHERE``) are not reported.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources as _files
from typing import TYPE_CHECKING, Any, Iterable

from ...outcome import Issue
from ...structure.table import structure
from .rest_urls import is_absolute
from .example_urls import is_example
from ..instance import finding
from ..typed import Element, Walk
from ..walker import ProfileWalk

if TYPE_CHECKING:
    from ..registry import ProfileRegistry

Summary = dict[str, Any]
RULE = "extension"
BASE = "http://hl7.org/fhir/StructureDefinition/Extension"
#: URLs the reference validator knows without a definition here: its own tools' extensions,
#: DICOM's, and the cross-version extensions it builds from other FHIR versions' definitions
#: (``http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property``)
KNOWN_ELSEWHERE = (
    re.compile(r"^http://hl7\.org/fhir/tools/StructureDefinition/"),
    re.compile(r"^https?://([^/]+\.)?nema\.org/"),
    re.compile(r"^http://hl7\.org/fhir/(1\.0|1\.4|3\.0|4\.0|4\.3|5\.0|6\.0)/StructureDefinition/extension-"),
)


# --------------------------------------------------------------------------- definitions


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(_files.files("server.fhir").joinpath("data/r4-extensions.json").read_text("utf-8"))


def core() -> dict[str, Summary]:
    """R4's extension definitions, by URL."""
    return _data()["extension"]


_XVER = re.compile(r"^http://hl7\.org/fhir/(\d\.\d)/StructureDefinition/extension-([A-Za-z][A-Za-z0-9.]*)$")


def cross_version(url: str) -> Summary | None:
    """The definition of a cross-version extension standing for a modifier element of DSTU2 or STU3."""
    found = _XVER.match(url)
    if found is None:
        return None
    return _data()["crossVersion"].get(found.group(1), {}).get(found.group(2))


def summarize(sd: dict[str, Any]) -> Summary:
    """Contexts, modifier flag, value types and sub-extensions of one extension StructureDefinition
    (its snapshot, else its differential). Keys are left out where the definition says nothing."""
    found = (sd.get("snapshot") or {}).get("element") or (sd.get("differential") or {}).get("element") or []
    els = {e["id"]: e for e in found if isinstance(e, dict) and isinstance(e.get("id"), str)}
    out: Summary = {}
    for kind, key in (("element", "context"), ("extension", "contextExtension")):
        picked = [c["expression"] for c in sd.get("context") or [] if isinstance(c, dict) and c.get("type") == kind and isinstance(c.get("expression"), str)]
        if picked:
            out[key] = picked
    if any(isinstance(c, dict) and c.get("type") == "fhirpath" for c in sd.get("context") or []):
        out["contextFhirpath"] = True  # not evaluated: such an extension is accepted anywhere
    if (els.get("Extension") or {}).get("isModifier") is True:
        out["modifier"] = True
    out.update(_node(els, "Extension"))
    return out


def _node(els: dict[str, dict[str, Any]], prefix: str) -> Summary:
    node: Summary = {}
    value = els.get(prefix + ".value[x]")
    if value is None:
        node["value"] = "*"
    elif value.get("max") != "0":
        types = [t["code"] for t in value.get("type") or [] if isinstance(t, dict) and isinstance(t.get("code"), str)]
        node["value"] = "*" if not types or set(types) >= set(_all_value_types()) else types
    head = prefix + ".extension:"
    subs: Summary = {}
    for id_, el in els.items():
        name = id_[len(head):]
        if not id_.startswith(head) or "." in name:
            continue
        profiles = [p for t in el.get("type") or [] if isinstance(t, dict) for p in t.get("profile") or [] if isinstance(p, str)]
        url_el = els.get(f"{id_}.url") or {}
        url = url_el.get("fixedUri") or (profiles[0] if profiles else name)
        sub = {} if profiles else _node(els, id_)
        sub["min"], sub["max"] = el.get("min", 0), el.get("max", "*")
        subs[str(url)] = sub
    closed = (els.get(prefix + ".extension") or {}).get("max") == "0"
    if subs or (closed and "value" not in node):  # a simple extension's are ruled out by ext-1 already
        node["extension"] = subs
    return node


@lru_cache(maxsize=1)
def _all_value_types() -> tuple[str, ...]:
    meta = structure().meta("Extension")
    return tuple(meta.fields[n].prim or str(meta.fields[n].type_key) for n in meta.choices["value"])


def definition(url: str, registry: "ProfileRegistry") -> tuple[Summary | None, dict[str, Any] | None]:
    """(summary, the registry's StructureDefinition if it has one) of an extension URL."""
    sd = registry.get(url)
    if sd is not None and sd.get("type") == "Extension":
        key = ("extension", sd["url"])
        if key not in registry.derived:
            registry.derived[key] = summarize(sd)
        return registry.derived[key], sd
    bare = url.split("|", 1)[0]
    return core().get(bare) or cross_version(bare), None


def known_elsewhere(url: str, examples: bool) -> bool:
    return any(p.match(url) for p in KNOWN_ELSEWHERE) or (examples and is_example(url))


# --------------------------------------------------------------------------- the checks


def check(resource: dict[str, Any], registry: "ProfileRegistry", *, unknown: str = "error", examples: bool = True, walk: Walk | None = None) -> list[Issue]:
    """The issues of every extension and modifierExtension of ``resource``."""
    issues: list[Issue] = []
    for el in (walk or Walk(resource)).elements:
        if el.type != "Extension" or not isinstance(el.value, dict) or el.parent is None:
            continue
        url = el.value.get("url")
        if not isinstance(url, str):
            continue  # no url: the structural validation says so
        if not is_absolute(url):
            continue  # a sub-extension (checked with its extension), or not absolute (absolute_urls says so)
        summary, sd = definition(url, registry)
        if summary is None:
            if not known_elsewhere(url, examples):
                issues.append(_issue(unknown, "extension", el, f"the extension {url} is not known to this server (it has no definition of it), so it is not allowed here"))  # type: ignore[arg-type]
            continue
        issues += _place(el, url, summary)
        if sd is not None:
            issues += _undefined_subs(el, url, summary)
            issues += ProfileWalk(registry, sd, resource).run([(el.value, el.path)])
        else:
            issues += _content(el.value, el.path, url, summary, url)
    return issues


def _issue(severity: str, code: str, el: Element, text: str, path: str | None = None, profile: str = BASE) -> Issue:
    return finding(RULE, severity, code, path or el.path, text, profile)  # type: ignore[arg-type]


def _place(el: Element, url: str, summary: Summary) -> list[Issue]:
    """Used in one of its contexts, and as a modifier exactly when it is one."""
    issues = []
    host = el.parent
    assert host is not None
    if not _allowed_on(host, summary):
        where = ", ".join(summary.get("context", []) + [f"extension {u}" for u in summary.get("contextExtension", [])]) or "nowhere"
        issues.append(_issue("error", "extension", el, f"the extension {url} is not allowed on {host.literal} ({host.type}); its definition allows it on: {where}", profile=url))
    modifier = bool(summary.get("modifier"))
    if modifier and el.name == "extension":
        issues.append(_issue("error", "extension", el, f"the extension {url} is a modifier extension, so it must be given as a modifierExtension, not an extension", profile=url))
    elif not modifier and el.name == "modifierExtension":
        issues.append(_issue("error", "extension", el, f"the extension {url} is not a modifier extension, so it must be given as an extension, not a modifierExtension", profile=url))
    return issues


def _allowed_on(host: Element, summary: Summary) -> bool:
    if summary.get("contextFhirpath") or not (summary.get("context") or summary.get("contextExtension")):
        return True
    if host.type == "Extension" and isinstance(host.value, dict) and host.value.get("url") in summary.get("contextExtension", []):
        return True
    contexts = summary.get("context", [])
    if "Element" in contexts:
        return True
    names = {host.literal, host.definition, *host.types()}
    return any(c in names for c in contexts)


def _undefined_subs(el: Element, url: str, summary: Summary) -> list[Issue]:
    """Relative sub-extension urls the definition does not define (their content is left to the
    profile walk of a registry definition)."""
    defined = summary.get("extension")
    if defined is None:
        return []
    issues = []
    for sub, path in _subs(el.value, el.path):
        name = sub.get("url")
        if isinstance(name, str) and not is_absolute(name) and name not in defined:
            issues.append(_issue("error", "extension", el, f"the sub-extension url '{name}' is not defined by the extension {url} ({_defined(defined)})", path, url))
    return issues


def _content(value: dict[str, Any], path: str, url: str, summary: Summary, profile: str) -> list[Issue]:
    """Value type and sub-extensions of an extension (or sub-extension) of an R4 definition."""
    issues = []
    allowed = summary.get("value")
    used = [k for k in value if isinstance(k, str) and k.startswith("value") and len(k) > 5]
    for key in used:
        t = _value_type(key)
        if allowed is None:
            issues.append(finding(RULE, "error", "value", f"{path}.{key}", f"the extension {url} takes no value, only sub-extensions", profile))
        elif allowed != "*" and t not in allowed:
            issues.append(finding(RULE, "error", "value", f"{path}.{key}", f"the extension {url} takes a value of type {', '.join(allowed)}, not {t}", profile))
    defined = summary.get("extension")
    if defined is None:
        return issues
    counts: dict[str, int] = {}
    for sub, sub_path in _subs(value, path):
        name = sub.get("url")
        if not isinstance(name, str):
            continue
        if name not in defined:
            if not is_absolute(name):
                issues.append(finding(RULE, "error", "extension", sub_path, f"the sub-extension url '{name}' is not defined by the extension {url} ({_defined(defined)})", profile))
            continue
        counts[name] = counts.get(name, 0) + 1
        if not is_absolute(name):
            issues += _content(sub, sub_path, f"{url}#{name}", defined[name], profile)
    for name, spec in defined.items():
        n = counts.get(name, 0)
        low, high = spec.get("min", 0), spec.get("max", "*")
        if isinstance(low, int) and n < low:
            issues.append(finding(RULE, "error", "required", path, f"the extension {url} requires the sub-extension '{name}' at least {low} time(s); found {n}", profile))
        if high != "*" and str(high).isdigit() and n > int(high):
            issues.append(finding(RULE, "error", "structure", path, f"the extension {url} allows the sub-extension '{name}' at most {high} time(s); found {n}", profile))
    return issues


def _subs(value: Any, path: str) -> Iterable[tuple[dict[str, Any], str]]:
    subs = value.get("extension") if isinstance(value, dict) else None
    for i, sub in enumerate(subs if isinstance(subs, list) else []):
        if isinstance(sub, dict):
            yield sub, f"{path}.extension[{i}]"


def _defined(defined: Summary) -> str:
    names = [n for n in defined if not is_absolute(n)]
    return f"it defines {', '.join(names)}" if names else "it defines none"


def _value_type(key: str) -> str:
    meta = structure().meta("Extension")
    f = meta.fields.get(key)
    if f is None:
        return key[5:]
    return f.prim or str(f.type_key)
