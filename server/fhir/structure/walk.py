"""The strict walk: one iterative pass over the JSON, driven by the compiled R4 table.

It checks, and reports at once with a FHIRPath-like expression (``Patient.name[0].given[1]``):
JSON shape (objects, arrays, nulls, empty values), unknown elements, choice types
(``value[x]``: exactly one), ``_name`` companions of primitives, required elements, required
bindings, primitive formats (:mod:`.formats`), the extension rule ext-1, and nesting depth.
It keeps its own stack (no recursion), so no input, however deep, can exhaust Python's.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ..outcome import MAX_ISSUES, Issue, limit_note
from .formats import BOOL, INT, STR
from .messages import code_list, json_type, show
from .table import CODING, Field, Structure, TypeMeta

__all__ = ["Walker", "primitive_problem"]

_Task = tuple  # (object, TypeMeta, expression, depth, is_resource)


class _Enough(Exception):
    """Raised by :meth:`Walker.issue` at the issue limit: the walk stops where it is."""


class Walker:
    """Collects the issues of one resource (a fresh walker per call: it is not reentrant)."""

    __slots__ = ("issues", "max_depth", "max_issues", "stack", "structure", "too_deep")

    def __init__(self, structure: Structure, max_depth: int, max_issues: int = MAX_ISSUES) -> None:
        self.structure = structure
        self.issues: list[Issue] = []
        self.max_depth = max_depth
        self.max_issues = max_issues  #: past this many the walk stops: its cost is bounded by it, not the input
        self.too_deep = False
        self.stack: list[_Task] = []

    # -- bookkeeping

    def issue(self, code: str, expr: str, diagnostics: str) -> None:
        if len(self.issues) >= self.max_issues:
            self.issues.append(limit_note(self.max_issues, expression=(expr,)))
            raise _Enough
        self.issues.append(Issue(code, diagnostics, (expr,)))

    def deep(self, expr: str) -> None:
        if not self.too_deep:
            self.too_deep = True
            self.issue(
                "too-costly",
                expr,
                f"Content is nested more than {self.max_depth} levels deep here; "
                "the server does not accept resources nested this deeply",
            )

    def label(self, f: Field) -> str:
        return self.structure.type_label(f)

    # -- driver

    def run(self, obj: dict, meta: TypeMeta, expr: str) -> None:
        self.stack.append((obj, meta, expr, 1, True))
        try:
            while self.stack:
                self.visit_object(*self.stack.pop())
        except _Enough:
            self.stack.clear()

    def visit_object(self, obj: dict, meta: TypeMeta, expr: str, depth: int, is_resource: bool) -> None:
        children: list[_Task] = []
        groups: dict[str, list[str]] = {}
        fields = meta.fields
        for key, value in obj.items():
            f = fields.get(key)
            if f is None:
                self.special_key(obj, key, value, meta, expr, depth, is_resource, children, groups)
                continue
            if f.choice is not None:
                groups.setdefault(f.choice, []).append(key)
            if f.prim is not None and not f.is_list and value is not None and not isinstance(value, list):
                problem = primitive_problem(f, value)  # the common case, without building paths
                if problem is not None:
                    self.issue(problem[0], expr + "." + key, problem[1])
                continue
            self.value(f, value, obj, expr + "." + key, depth, children)
        self.check_object(obj, meta, expr, groups)
        if children:
            children.reverse()
            self.stack.extend(children)

    # -- keys that are not plain elements

    def special_key(
        self, obj: dict, key: Any, value: Any, meta: TypeMeta, expr: str, depth: int,
        is_resource: bool, children: list, groups: dict[str, list[str]],
    ) -> None:
        """Keys that are not elements of ``meta``: resourceType, ``_name`` companions, unknowns."""
        if not isinstance(key, str):
            self.issue("structure", expr, f"Element names must be strings; got {json_type(key)} in {meta.type_name}")
            return
        if key == "resourceType" and is_resource:
            return
        if key[:1] == "_":
            f = meta.fields.get(key[1:])
            if f is not None and f.has_companion:
                if f.choice is not None and f.name not in obj:
                    groups.setdefault(f.choice, []).append(key)
                self.companion(obj, key, value, f, expr, depth, children)
                return
        self.issue("structure", expr + "." + key, self.unknown_message(key, meta))

    def unknown_message(self, key: str, meta: TypeMeta) -> str:
        text = f"Unknown element '{key}': {meta.type_name} has no such element"
        if key == "resourceType":
            return text + "; 'resourceType' belongs only at the top level of a resource"
        if key in meta.choices:
            sample = ", ".join(meta.choices[key][:4])
            return text + f"; '{key}[x]' is a choice, write it with its type suffix, e.g. {sample}"
        base = meta.fields.get(key[1:]) if key[:1] == "_" else None
        if base is not None and base.prim is None:
            return text + (
                f"; '_' companions exist only for primitive elements, and '{base.name}' is {self.label(base)}"
            )
        if base is not None:
            return text + f"; '{base.name}' cannot carry a '_' companion"
        hint = meta.lower.get(key.lower())
        if hint is not None:
            return text + f"; did you mean '{hint}'? (element names are case-sensitive)"
        return text

    # -- values

    def value(self, f: Field, value: Any, obj: dict, expr: str, depth: int, children: list) -> None:
        if f.is_list:
            self.array(f, value, obj, expr, depth, children)
        elif isinstance(value, list):
            self.issue(
                "structure",
                expr,
                f"'{f.name}' does not repeat, so it must be a single {self.label(f)}, not an array",
            )
        elif value is None:
            self.issue("structure", expr, f"'{f.name}' is null; omit the element instead of sending null")
        else:
            self.item(f, value, expr, depth, children)

    def array(self, f: Field, value: Any, obj: dict, expr: str, depth: int, children: list) -> None:
        if not isinstance(value, list):
            self.issue(
                "structure",
                expr,
                f"'{f.name}' can repeat, so it must be a JSON array of {self.label(f)}; got {json_type(value)}",
            )
            return
        if not value:
            self.issue("structure", expr, f"'{f.name}' is an empty array; omit the element instead")
            return
        if depth + 1 > self.max_depth:
            self.deep(expr)
            return
        if f.prim is not None:
            self.primitive_array(f, value, obj.get("_" + f.name), expr)
            return
        for i, item in enumerate(value):
            if item is None:
                self.null_item(f, None, i, f"{expr}[{i}]")
            else:
                self.item(f, item, f"{expr}[{i}]", depth + 1, children)

    def primitive_array(self, f: Field, value: list, companion: Any, expr: str) -> None:
        for i, item in enumerate(value):
            if item is None:
                self.null_item(f, companion, i, f"{expr}[{i}]")
                continue
            problem = primitive_problem(f, item)
            if problem is not None:
                self.issue(problem[0], f"{expr}[{i}]", problem[1])

    def null_item(self, f: Field, companion: Any, i: int, expr: str) -> None:
        """A null in an array is only a placeholder lining a value up with ``_name[i]``."""
        if f.prim is not None and isinstance(companion, list) and i < len(companion) and isinstance(companion[i], dict):
            return
        if f.prim is not None:
            text = (f"'{f.name}[{i}]' is null; a null in a primitive array is only allowed where "
                    f"'_{f.name}[{i}]' carries an extension for that position")
        else:
            text = f"'{f.name}[{i}]' is null; arrays of {self.label(f)} cannot contain null"
        self.issue("structure", expr, text)

    def item(self, f: Field, item: Any, expr: str, depth: int, children: list) -> None:
        if f.prim is not None:
            problem = primitive_problem(f, item)
            if problem is not None:
                self.issue(problem[0], expr, problem[1])
            return
        if not isinstance(item, dict):
            self.issue(
                "structure",
                expr,
                f"'{f.name}' must be a JSON object ({self.label(f)}); got {json_type(item)} {show(item)}".rstrip(),
            )
            return
        if depth + 1 > self.max_depth:
            self.deep(expr)
            return
        if f.is_resource:
            self.resource(item, expr, depth + 1, children)
            return
        if not item:
            self.issue(
                "structure",
                expr,
                f"'{f.name}' is an empty object; every element needs content or must be omitted",
            )
            return
        if f.codes is not None:
            self.coded_binding(f, item, expr)
        children.append((item, self.structure.field_meta(f), expr, depth + 1, False))

    def resource(self, item: dict, expr: str, depth: int, children: list) -> None:
        rt = item.get("resourceType")
        if not isinstance(rt, str):
            what = "has no 'resourceType'" if rt is None else f"has a 'resourceType' that is {json_type(rt)}"
            self.issue(
                "structure",
                expr,
                f"This resource {what}; a resource must name its type, e.g. \"resourceType\": \"Patient\"",
            )
            return
        meta = self.structure.resource_meta(rt)
        if meta is None:
            self.issue("structure", expr + ".resourceType", f"Unknown resourceType {show(rt)}: not a FHIR R4 resource type")
            return
        children.append((item, meta, expr, depth, True))

    # -- required bindings on Coding and CodeableConcept

    def coded_binding(self, f: Field, item: dict, expr: str) -> None:
        """Malformed codes are left to the structural checks, which report them at their own path."""
        codes = f.codes or frozenset()
        if f.coded == CODING:
            code = item.get("code")
            if isinstance(code, str):
                if code not in codes:
                    self.issue("code-invalid", expr + ".code", binding_text(f, code))
            elif "code" not in item:
                self.issue(
                    "code-invalid",
                    expr,
                    f"'{f.name}' has a required binding to {f.value_set} but no code; use one of: {code_list(codes)}",
                )
            return
        codings = item.get("coding")
        if codings is not None and not isinstance(codings, list):
            return
        found = [c.get("code") for c in codings or () if isinstance(c, dict)]
        texts = [c for c in found if isinstance(c, str)]
        if any(c in codes for c in texts):
            return
        if len(texts) < len([c for c in found if c is not None]) or len(found) < len(codings or ()):
            return  # some coding is malformed: reported structurally
        if not texts:
            self.issue(
                "code-invalid",
                expr,
                f"'{f.name}' has a required binding to {f.value_set}, "
                f"so it needs a coding with one of: {code_list(codes)}",
            )
        elif len(found) == 1:
            self.issue("code-invalid", expr + ".coding[0].code", binding_text(f, texts[0]))
        else:
            self.issue(
                "code-invalid",
                expr + ".coding",
                f"None of the codings of '{f.name}' has a code from its required binding {f.value_set}; "
                f"use one of: {code_list(codes)}",
            )

    # -- primitive extension companions ("_name")

    def companion(self, obj: dict, key: str, value: Any, f: Field, expr: str, depth: int, children: list) -> None:
        """``_name`` beside primitive ``name``: an object, or for arrays a parallel array."""
        cexpr = expr + "." + key
        base = obj.get(f.name)
        if not f.is_list:
            if isinstance(value, list) or value is None:
                self.issue(
                    "structure",
                    cexpr,
                    f"'{key}' must be an object with 'id' and/or 'extension' for the single value "
                    f"'{f.name}'; got {json_type(value)}",
                )
                return
            self.primitive_extension(value, key, base is not None, cexpr, depth, children)
            return
        if not isinstance(value, list) or not value:
            got = "an empty array" if isinstance(value, list) else json_type(value)
            self.issue(
                "structure",
                cexpr,
                f"'{key}' must be a non-empty array lining up with '{f.name}' "
                f"(null where a position has no extension); got {got}",
            )
            return
        if isinstance(base, list) and len(base) != len(value):
            self.issue(
                "structure",
                cexpr,
                f"'{key}' has {len(value)} entries but '{f.name}' has {len(base)}; "
                "the two arrays must have the same length",
            )
            return
        if depth + 1 > self.max_depth:
            self.deep(cexpr)
            return
        for i, ext in enumerate(value):
            has_value = isinstance(base, list) and base[i] is not None
            if ext is None:
                if not isinstance(base, list):
                    self.issue(
                        "structure",
                        f"{cexpr}[{i}]",
                        f"'{key}[{i}]' is null and '{f.name}' has no value there; the position carries nothing",
                    )
                continue
            self.primitive_extension(ext, f"{key}[{i}]", has_value, f"{cexpr}[{i}]", depth + 1, children)

    def primitive_extension(self, ext: Any, label: str, has_value: bool, expr: str, depth: int, children: list) -> None:
        if not isinstance(ext, dict):
            self.issue("structure", expr, f"'{label}' must be an object with 'id' and/or 'extension'; got {json_type(ext)}")
            return
        if not ext:
            self.issue("structure", expr, f"'{label}' is an empty object; omit it or give it 'extension'")
            return
        if depth + 1 > self.max_depth:
            self.deep(expr)
            return
        extensions = ext.get("extension")
        if not has_value and not (isinstance(extensions, list) and extensions):
            self.issue(
                "structure",
                expr,
                f"'{label}' stands without a value, which is only allowed when it carries extensions",
            )
        children.append((ext, self.structure.primitive_extension, expr, depth + 1, False))

    # -- whole-object rules

    def check_object(self, obj: dict, meta: TypeMeta, expr: str, groups: dict[str, list[str]]) -> None:
        for f in meta.required:
            if f.name not in obj and "_" + f.name not in obj:
                self.issue(
                    "required",
                    expr + "." + f.name,
                    f"Missing required element '{f.name}' ({self.label(f)}) in {meta.type_name}",
                )
        for group, keys in groups.items():
            if len(keys) > 1:
                self.issue(
                    "structure",
                    f"{expr}.{group}[x]",
                    f"'{group}[x]' is a choice of types and takes exactly one, "
                    f"but {len(keys)} are present: {', '.join(keys)}",
                )
        for group in meta.required_choices:
            if group not in groups:
                sample = ", ".join(meta.choices[group][:5])
                self.issue(
                    "required",
                    f"{expr}.{group}[x]",
                    f"Missing required element '{group}[x]' in {meta.type_name}; give exactly one of e.g. {sample}",
                )
        if meta.is_extension:
            self.check_extension(obj, expr, groups)

    def check_extension(self, obj: dict, expr: str, groups: dict[str, list[str]]) -> None:
        has_value = "value" in groups
        if has_value and "extension" in obj:
            self.issue("invariant", expr, "An extension has either a value[x] or nested extensions, not both (ext-1)")
        elif not has_value and "extension" not in obj:
            self.issue("invariant", expr, "An extension needs a value[x] or nested extensions (ext-1); this one has neither")


# --------------------------------------------------------------------------- primitives


def primitive_problem(f: Field, v: Any) -> tuple[str, str] | None:
    """What is wrong with primitive value ``v`` of element ``f``: (issue code, text), or None.
    Pure, so callers build paths only on failure."""
    kind = f.jkind
    if kind == STR:
        if not isinstance(v, str):
            return wrong_json(f, v)
        if not v or v.isspace():
            return "value", f"'{f.name}' is an empty or whitespace-only string; omit the element or give it a value"
        if f.codes is not None:  # a code with a required binding: the codes are well-formed
            return None if v in f.codes else ("code-invalid", binding_text(f, v))
        check = f.fmt.check if f.fmt is not None else None
        detail = check(v) if check is not None else None
        if detail is None:
            return None
        expected = f.fmt.expected if f.fmt is not None else "a valid value"
        return "value", f"'{f.name}' {show(v)} is not a valid {f.prim}{detail}: expected {expected}"
    if kind == BOOL:
        return None if v is True or v is False else wrong_json(f, v)
    fmt = f.fmt
    if kind == INT:
        if type(v) is not int:
            return wrong_json(f, v)
        if fmt is None or fmt.low <= v <= fmt.high:
            return None
        return "value", f"'{f.name}' is {show(v)}, out of range for {f.prim}: expected {fmt.expected}"
    if isinstance(v, bool) or not isinstance(v, (int, Decimal, float)):
        return wrong_json(f, v)
    if not _is_finite(v):
        return "value", f"'{f.name}' is not a finite number; expected {fmt.expected if fmt else 'a JSON number'}"
    return None


def wrong_json(f: Field, v: Any) -> tuple[str, str]:
    shaped = isinstance(v, (dict, list))
    got = json_type(v) if shaped else f"{json_type(v)} {show(v)}"
    expected = f.fmt.expected if f.fmt is not None else "a JSON string"
    text = f"'{f.name}' is a FHIR {f.prim}, which must be written as {expected}; got {got}"
    return ("structure" if shaped else "value"), text


def binding_text(f: Field, code: Any) -> str:
    return (
        f"Code {show(code)} is not allowed for '{f.name}', which has a required binding to "
        f"{f.value_set}; use one of: {code_list(f.codes or frozenset())}"
    )


def _is_finite(v: Decimal | float) -> bool:
    if isinstance(v, Decimal):
        return v.is_finite()
    if isinstance(v, float):
        return math.isfinite(v)
    return True
