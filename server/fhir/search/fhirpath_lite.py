"""The small subset of FHIRPath that R4 search-parameter expressions use for extraction.

Search values are extracted on every write, so this evaluates the common expression shapes
directly on the JSON instead of going through a general FHIRPath engine:
``A.b.c``, unions ``X | Y``, ``(A.value as Quantity)``, ``A.value.as(Quantity)``,
``A.telecom.where(system='email')`` and ``A.subject.where(resolve() is Patient)``.
:func:`compile_expression` returns ``None`` for anything else, so the caller can tell
which parameters it can index.
"""

from __future__ import annotations

import re
from functools import cache
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

Getter = Callable[[dict[str, Any]], Iterator[Any]]

_STEP = r"[A-Za-z][A-Za-z0-9]*"
_WHERE_EQ = re.compile(r"^where\((\w+)\s*=\s*'([^']*)'\)$")
_WHERE_RESOLVE = re.compile(r"^where\(resolve\(\) is (\w+)\)$")
_AS_CALL = re.compile(r"^as\((\w+)\)$")
_PAREN_AS = re.compile(r"^\((.+) as (\w+)\)$")
_PAREN_AS_TAIL = re.compile(r"^(\(.+ as \w+\))((?:\.[A-Za-z][A-Za-z0-9]*)+)$")


@dataclass(frozen=True, slots=True)
class Path:
    """A compiled expression branch for one resource type."""

    resource_type: str
    steps: tuple[tuple[str, str], ...]  # (kind, arg): ("field", name) | ("choice", "valueQuantity") | filters


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _compile_branch(branch: str) -> Path | None:
    branch = branch.strip()
    tail = _PAREN_AS_TAIL.match(branch)
    if tail is not None:  # (Observation.value as CodeableConcept).text
        head = _compile_branch(tail.group(1))
        if head is None:
            return None
        return Path(head.resource_type, head.steps + tuple(("field", f) for f in tail.group(2).split(".")[1:]))
    m = _PAREN_AS.match(branch)
    as_type: str | None = None
    if m:
        branch, as_type = m.group(1).strip(), m.group(2)
    parts = _split_top(branch, ".")
    if not parts or not re.fullmatch(_STEP, parts[0]):
        return None
    steps: list[tuple[str, str]] = []
    for part in parts[1:]:
        if re.fullmatch(_STEP, part):
            steps.append(("field", part))
        elif (w := _WHERE_EQ.match(part)) is not None:
            steps.append(("where-eq", f"{w.group(1)}={w.group(2)}"))
        elif (w := _WHERE_RESOLVE.match(part)) is not None:
            steps.append(("where-type", w.group(1)))
        elif (w := _AS_CALL.match(part)) is not None:
            if not steps or steps[-1][0] != "field":
                return None
            steps[-1] = ("field", steps[-1][1] + _type_suffix(w.group(1)))
        else:
            return None
    if as_type is not None:
        if not steps or steps[-1][0] != "field":
            return None
        steps[-1] = ("field", steps[-1][1] + _type_suffix(as_type))
    return Path(parts[0], tuple(steps))


def _type_suffix(type_name: str) -> str:
    return type_name[0].upper() + type_name[1:]


@cache
def compile_expression(expression: str, types: frozenset[str] | None = None) -> dict[str, list[Path]] | None:
    """Compile ``expression`` into paths per resource type, or ``None`` if unsupported.

    Choice elements are resolved (from the R4B models) for the paths of ``types`` only
    (``None``: all), so a server loads the models of the types it stores and no others.
    Cached: the result is shared, callers must not change it."""
    out: dict[str, list[Path]] = {}
    for branch in (b.strip() for b in _split_top(expression, "|") if b.strip()):
        path = _compile_branch(branch)
        if path is None:
            return None
        if types is None or path.resource_type in types:
            path = _mark_choices(path)
        out.setdefault(path.resource_type, []).append(path)
    return out


def _choice_children(node: Any, name: str) -> Iterator[Any]:
    """A choice element named without its type (``effective``) selects whichever typed
    form is present (``effectiveDateTime``, ``effectivePeriod``…)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith(name) and len(key) > len(name) and key[len(name)].isupper() and value is not None:
                yield value


def _model_field(model: Any, name: str) -> tuple[Any | None, bool]:
    """The model class behind element ``name`` of ``model`` (or ``None``), and whether
    ``name`` is a choice element there."""
    for field in model.model_fields.values():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("one_of_many") == name:
            return None, True
        if field.alias == name:
            return _model_of(field.annotation), False
    return None, False


def _model_of(annotation: Any) -> Any | None:
    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _mark_choices(path: Path) -> Path:
    """Mark the steps that name a choice element, using the R4B model of the resource."""
    try:
        from fhir.resources.R4B import get_fhir_model_class

        model: Any | None = get_fhir_model_class(path.resource_type)
    except (KeyError, ValueError, ImportError, AttributeError):
        return path
    steps = []
    for kind, arg in path.steps:
        if kind == "field" and model is not None:
            model, choice = _model_field(model, arg)
            steps.append(("choice", arg) if choice else (kind, arg))
        else:
            steps.append((kind, arg))
            if kind == "field":
                model = None
    return Path(path.resource_type, tuple(steps))


def evaluate(paths: Iterable[Path], resource: dict[str, Any]) -> list[Any]:
    """Every JSON node the paths select in ``resource``.

    Written as plain loops: it runs for every indexed parameter of every write."""
    found: list[Any] = []
    for path in paths:
        nodes: list[Any] = [resource]
        for kind, arg in path.steps:
            if kind == "field":
                selected: list[Any] = []
                for n in nodes:
                    if type(n) is dict:
                        value = n.get(arg)
                        if value is None:
                            continue
                        if type(value) is list:
                            selected.extend([v for v in value if v is not None])
                        else:
                            selected.append(value)
                nodes = selected
            elif kind == "choice":
                nodes = [c for n in nodes for c in _choice_children(n, arg)]
            elif kind == "where-eq":
                key, _, want = arg.partition("=")
                nodes = [n for n in nodes if isinstance(n, dict) and n.get(key) == want]
            else:  # where-type: keep references that point at that type
                nodes = [n for n in nodes if _reference_type(n) == arg]
            if not nodes:
                break
        found.extend(nodes)
    return found


def _reference_type(node: Any) -> str | None:
    if not isinstance(node, dict):
        return None
    ref = node.get("reference")
    if isinstance(ref, str) and "/" in ref:
        parts = ref.split("/")
        if len(parts) >= 2:
            # Type/id or http://base/Type/id or Type/id/_history/n
            if "_history" in parts:
                return parts[parts.index("_history") - 2]
            return parts[-2]
    t = node.get("type")
    return t if isinstance(t, str) else None
