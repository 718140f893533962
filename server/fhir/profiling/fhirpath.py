"""FHIRPath through fhirpathpy: expressions parsed once, evaluated on a node with a type base."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fhirpathpy import apply_parsed_path
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser import parse

from .ordering import OPERATORS

R4 = models["r4"]


def _has_value(inputs: list[Any]) -> bool:
    """FHIR's hasValue(): one primitive that has a value (not only extensions, which the engine
    shows as a dict)."""
    return len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], (dict, list))


#: trace() must not print to the server's stdout; hasValue(), which FHIR adds to FHIRPath and the
#: R4 invariants use (per-1, bdl-10...), is not in the engine; its comparisons of instance values
#: are replaced (see .ordering)
_OPTIONS = {"traceFn": lambda *args, **kwargs: None,
            "userInvocationTable": {"hasValue": {"fn": _has_value, "arity": {0: []}}, **OPERATORS}}


class NotEvaluable(Exception):
    """The engine cannot evaluate this expression (unparsable or an unimplemented function)."""


@lru_cache(maxsize=4096)
def parsed(expression: str) -> Any:
    try:
        return parse(expression)
    except Exception as exc:  # antlr raises several kinds; all mean "cannot use"
        raise NotEvaluable(f"cannot parse: {exc}") from None


def holds(expression: str, node: Any, base: str | None, resource: Any, root: Any = None) -> bool:
    """Whether the constraint holds on ``node``: false only when it evaluates to false.

    ``resource`` is %resource, the resource the node is in; ``root`` is %rootResource, the
    container of a contained resource (``resource`` itself otherwise). An empty result counts
    as holding (the spec's constraints are written to yield a boolean; empty means the engine
    found nothing to judge).
    """
    tree = parsed(expression)
    data = ResourceNode.create_node(node, base) if base else node
    env = {"resource": resource, "rootResource": resource if root is None else root}
    try:
        result = apply_parsed_path(data, tree, env, R4, _OPTIONS)
    except RecursionError:
        raise NotEvaluable("expression too deep for the engine") from None
    except Exception as exc:
        raise NotEvaluable(str(exc) or type(exc).__name__) from None
    if isinstance(result, list) and len(result) == 1 and isinstance(result[0], bool):
        return result[0]
    return not (isinstance(result, list) and result and all(r is False for r in result))
