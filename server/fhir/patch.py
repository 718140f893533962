"""PATCH (http://hl7.org/fhir/R4/http.html#patch): JSON Patch and FHIRPath Patch on a resource.

Both give a new resource body, which the caller then checks and stores as an update, so a
patch obeys every rule an update does (validation, profiles, access, ``If-Match``, history).

* JSON Patch (RFC 6902, ``application/json-patch+json``) through the ``jsonpatch`` library.
* FHIRPath Patch (a ``Parameters`` resource, http://hl7.org/fhir/R4/fhirpatch.html): the
  operations ``add``, ``insert``, ``delete``, ``replace`` and ``move``. Their paths are FHIRPath;
  this implements the part of it a path needs to point at elements: ``Type.element``,
  ``[n]``, ``.where(criteria)`` (criteria evaluated by ``fhirpathpy``), ``.first()``, ``.last()``
  and ``.ofType(Type)``. A path beyond that is refused (422), not guessed at.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from dataclasses import dataclass
from typing import Any

import fhirpathpy
import jsonpatch

from .. import jsonio
from .intake import check_resource
from .outcome import FhirError, Issue, not_found
from .resource import body_of
from .structure.table import structure

_NAME = re.compile(r"\.?([A-Za-z][A-Za-z0-9_]*)")
_INDEX = re.compile(r"\[(\d+)\]")


def apply_json_patch(resource: dict[str, Any], operations: Any) -> dict[str, Any]:
    """``resource`` after the RFC 6902 ``operations`` (a list); 422 naming the failing one."""
    if not isinstance(operations, list):
        raise FhirError.of(400, "structure", "A JSON Patch body is a JSON array of operations")
    try:
        patched = jsonpatch.JsonPatch(operations).apply(resource)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError, ValueError) as exc:
        raise FhirError.of(422, "processing", f"The JSON Patch could not be applied: {exc}") from None
    if not isinstance(patched, dict):
        raise FhirError.of(422, "processing", "The JSON Patch replaced the whole resource with something that is not one")
    return patched  # type: ignore[no-any-return]


# ------------------------------------------------------------------------- FHIRPath Patch


@dataclass(slots=True)
class _Slot:
    """Where an element sits: ``parent[key]`` or, in a list, ``parent[key][index]``."""

    parent: dict[str, Any]
    key: str
    index: int | None

    @property
    def value(self) -> Any:
        held = self.parent[self.key]
        return held if self.index is None else held[self.index]


def apply_fhirpath_patch(resource: dict[str, Any], parameters: Any) -> dict[str, Any]:
    """``resource`` after the operations of a FHIRPath Patch ``Parameters``; every problem of
    the Parameters at once (400), or the first operation that cannot be applied (422)."""
    operations = _operations(parameters)
    out = copy.deepcopy(resource)
    for n, op in enumerate(operations):
        try:
            _apply(out, op)
        except _PatchError as exc:
            raise FhirError.of(422, "processing", f"FHIRPath Patch operation {n + 1} ({op.get('type')} {op.get('path')}): {exc}",
                               f"Parameters.parameter[{op['_at']}]") from None
    return _pruned(out)


def _pruned(node: Any) -> Any:
    """Without the objects and lists a deletion left empty (FHIR has no empty elements)."""
    if isinstance(node, dict):
        out = {k: _pruned(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v not in ({}, [])}
    if isinstance(node, list):
        return [x for x in (_pruned(v) for v in node) if x not in ({}, [])]
    return node


class _PatchError(Exception):
    pass


def _operations(parameters: Any) -> list[dict[str, Any]]:
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise FhirError.of(400, "structure", "A FHIRPath Patch body is a Parameters resource")
    problems: list[Issue] = []
    ops: list[dict[str, Any]] = []
    for i, param in enumerate(parameters.get("parameter") or []):
        where = f"Parameters.parameter[{i}]"
        if param.get("name") != "operation":
            problems.append(Issue("invalid", f"Only 'operation' parameters belong in a FHIRPath Patch, not {param.get('name')!r}", (where,)))
            continue
        op: dict[str, Any] = {"_at": i}
        for part in param.get("part") or []:
            name = part.get("name")
            if name == "value":
                op["value"] = _part_value(part)
            else:
                op[name] = next((v for k, v in part.items() if k.startswith("value")), None)
        kind = op.get("type")
        needed = {"add": ("path", "name", "value"), "insert": ("path", "index", "value"), "delete": ("path",),
                  "replace": ("path", "value"), "move": ("path", "source", "destination")}.get(kind)  # type: ignore[arg-type]
        if needed is None:
            problems.append(Issue("code-invalid", f"Unknown operation type {kind!r} (add, insert, delete, replace, move)", (f"{where}.part",)))
            continue
        missing = [p for p in needed if op.get(p) is None]
        if missing:
            problems.append(Issue("required", f"A '{kind}' operation needs {', '.join(missing)}", (f"{where}.part",)))
            continue
        ops.append(op)
    if problems:
        raise FhirError(400, problems)
    return ops


def _part_value(part: dict[str, Any]) -> Any:
    """``value[x]`` of a part, or the element its nested parts make (an anonymous type)."""
    for key, value in part.items():
        if key.startswith("value"):
            return value
    out: dict[str, Any] = {}
    for sub in part.get("part") or []:
        out[sub.get("name")] = _part_value(sub)
    return out


def _apply(resource: dict[str, Any], op: dict[str, Any]) -> None:
    kind = op["type"]
    found = _locate(resource, op["path"])
    if kind in ("insert", "move"):
        items = _whole_list(found)
        if kind == "insert":
            index = op["index"]
            if not 0 <= index <= len(items):
                raise _PatchError(f"index {index} is outside the list (0..{len(items)})")
            items.insert(index, op["value"])
        else:
            source, destination = op["source"], op["destination"]
            if not (0 <= source < len(items) and 0 <= destination < len(items)):
                raise _PatchError(f"source {source} or destination {destination} is outside the list (0..{len(items) - 1})")
            items.insert(destination, items.pop(source))
        return
    if kind == "delete":
        if len(found) > 1:
            raise _PatchError("the path matches more than one element")
        if found:
            _remove(found[0])
        return
    if len(found) != 1:
        raise _PatchError("the path matches no element" if not found else "the path matches more than one element")
    slot = found[0]
    if kind == "replace":
        _set(slot, op["value"])
    elif kind == "add":
        target = slot.value
        if not isinstance(target, dict):
            raise _PatchError("elements can be added only to an element with children")
        name, value = op["name"], op["value"]
        if name in target and not isinstance(target[name], list):
            raise _PatchError(f"'{name}' has a value already; use replace")
        if isinstance(target.get(name), list) or _is_list(resource, target, name):
            target.setdefault(name, []).append(value)
        else:
            target[name] = value


def _whole_list(found: list[_Slot]) -> list[Any]:
    """The list a path to a repeating element names (``Patient.identifier``: all its items)."""
    if not found:
        raise _PatchError("the path matches no element")
    first = found[0]
    held = first.parent.get(first.key)
    if not isinstance(held, list) or len(found) != len(held) or any(s.parent is not first.parent or s.key != first.key for s in found):
        raise _PatchError("the path does not name one whole list")
    return held


def _set(slot: _Slot, value: Any) -> None:
    if slot.index is None:
        slot.parent[slot.key] = value
    else:
        slot.parent[slot.key][slot.index] = value


def _remove(slot: _Slot) -> None:
    if slot.index is None:
        del slot.parent[slot.key]
        slot.parent.pop("_" + slot.key, None)
        return
    items = slot.parent[slot.key]
    del items[slot.index]
    if not items:
        del slot.parent[slot.key]


def _is_list(resource: dict[str, Any], target: dict[str, Any], name: str) -> bool:
    """Whether ``name`` repeats where ``target`` sits (from the R4 table; a guess of False when
    the element is not found, which the validation of the result then judges)."""
    table = structure()
    meta = table.resource_meta(resource.get("resourceType", ""))
    if meta is None:
        return False
    found = _meta_of(table, meta, resource, target)
    f = found.fields.get(name) if found is not None else None
    return bool(f is not None and f.is_list)


def _meta_of(table: Any, meta: Any, node: Any, target: dict[str, Any]) -> Any:
    """The table's type of ``target``, found by walking from the resource to it."""
    if node is target:
        return meta
    if not isinstance(node, dict):
        return None
    for key, value in node.items():
        f = meta.fields.get(key)
        if f is None or f.prim is not None:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                inner = table.resource_meta(item.get("resourceType", "")) if f.is_resource else table.field_meta(f)
                if inner is not None:
                    hit = _meta_of(table, inner, item, target)
                    if hit is not None:
                        return hit
    return None


def _locate(resource: dict[str, Any], path: Any) -> list[_Slot]:
    """The elements ``path`` points at, as slots (so they can be replaced or removed)."""
    if not isinstance(path, str) or not path:
        raise _PatchError("the path is empty")
    text = path.strip()
    rtype = resource.get("resourceType", "")
    root = _Slot({"": resource}, "", None)
    if text == rtype:
        return [root]
    if text.startswith(rtype + ".") or text.startswith(rtype + "["):
        text = text[len(rtype):]
    current = [root]
    for name, args, index in _steps(text):
        if index is not None:
            current = current[index:index + 1]
        elif args is None:
            current = _children(current, name)
        elif name == "where":
            current = [s for s in current if fhirpathpy.evaluate(s.value, args) == [True]]
        elif name == "first" and not args:
            current = current[:1]
        elif name == "last" and not args:
            current = current[-1:]
        elif name == "ofType":
            current = [s for s in current if isinstance(s.value, dict) and s.value.get("resourceType") == args.strip()]
        else:
            raise _PatchError(f"the path function {name}() is not supported in patch paths")
    return current


def _steps(text: str) -> list[tuple[str, str | None, int | None]]:
    """``.name``, ``.name(args)`` (parentheses balanced, quotes respected) and ``[n]`` steps."""
    steps: list[tuple[str, str | None, int | None]] = []
    pos = 0
    while pos < len(text):
        index = _INDEX.match(text, pos)
        if index is not None:
            steps.append(("", None, int(index.group(1))))
            pos = index.end()
            continue
        m = _NAME.match(text, pos)
        if m is None:
            raise _PatchError(f"this server cannot follow the path at '{text[pos:]}'")
        pos = m.end()
        if pos < len(text) and text[pos] == "(":
            depth, quote, start = 0, "", pos + 1
            while pos < len(text):
                ch = text[pos]
                if quote:
                    quote = "" if ch == quote and text[pos - 1] != "\\" else quote
                elif ch in "'\"":
                    quote = ch
                elif ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                    if depth == 0:
                        break
                pos += 1
            if depth != 0:
                raise _PatchError("unbalanced parentheses in the path")
            steps.append((m.group(1), text[start:pos], None))
            pos += 1
        else:
            steps.append((m.group(1), None, None))
    return steps


def _children(slots: list[_Slot], name: str) -> list[_Slot]:
    out: list[_Slot] = []
    for slot in slots:
        node = slot.value
        if not isinstance(node, dict) or name not in node:
            continue
        held = node[name]
        if isinstance(held, list):
            out.extend(_Slot(node, name, i) for i in range(len(held)))
        else:
            out.append(_Slot(node, name, None))
    return out


# ------------------------------------------------------------------------- the interaction

JSON_PATCH = "application/json-patch+json"


def json_patch_in_binary(binary: dict[str, Any]) -> Any:
    """The JSON Patch a transaction entry carries as a Binary (base64 ``data``); 400 if unreadable."""
    try:
        return jsonio.loads(base64.b64decode(binary.get("data", ""), validate=True))
    except (binascii.Error, ValueError, RecursionError):
        raise FhirError.of(400, "structure", f"Binary.data is not base64 of a JSON Patch ({JSON_PATCH})", "Binary.data") from None


def patched(current: dict[str, Any], kind: str, body: Any, type_: str, id_: str, max_depth: int) -> dict[str, Any]:
    """The resource ``current`` becomes under a JSON Patch (``kind`` "json") or a FHIRPath Patch
    ("fhirpath"), checked as an update's body is (400/422 with every problem)."""
    result = apply_json_patch(current, body) if kind == "json" else apply_fhirpath_patch(current, body)
    if result.get("resourceType") != type_ or result.get("id") != id_:
        raise FhirError.of(422, "processing", f"A patch may not change the resource type or id of {type_}/{id_}", f"{type_}.id")
    return check_resource(result, type_=type_, id_=id_, require_id=True, max_depth=max_depth)


async def conditional_target(tx: Any, repo: Any, type_: str, criteria: list[tuple[str, str]]) -> str:
    """The id of the one ``type_`` the criteria of a conditional PATCH match (404 none, 412 several)."""
    found = await repo.matches(tx, type_, criteria)
    if len(found) != 1:
        raise FhirError.of(404 if not found else 412, "not-found" if not found else "multiple-matches",
                           f"The conditional patch criteria match {'no' if not found else 'more than one'} {type_}")
    return str(found[0].id)


async def patch_in(tx: Any, repo: Any, type_: str, id_: str, kind: str, body: Any, *, if_match: int | None = None) -> Any:
    """PATCH ``type_/id_`` inside a unit of work: the current version (as the request's token
    sees it) patched, checked and stored as its next version."""
    current = await tx.current(type_, id_)
    if current is None or current.deleted:
        raise not_found(f"Resource {type_}/{id_} is not known")
    if if_match is not None and current.vid != if_match:
        raise FhirError.of(412, "conflict", f"If-Match version {if_match} of {type_}/{id_} does not match: the current version is {current.vid}")
    resource = patched(body_of(current), kind, body, type_, id_, repo.settings.max_json_depth)
    return await repo.update(tx, type_, id_, resource, if_match=current.vid)


async def patch(repo: Any, type_: str, id_: str, kind: str, body: Any, *, if_match: int | None = None) -> Any:
    """PATCH ``type_/id_`` as one unit of work (the patch applies to the version current in it);
    the caller has checked the type and the id."""
    repo.access.require(type_, "update")
    return await repo.atomic(lambda tx: patch_in(tx, repo, type_, id_, kind, body, if_match=if_match))
