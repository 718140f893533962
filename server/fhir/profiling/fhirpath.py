"""FHIRPath through fhirpathpy: expressions parsed once, evaluated on a node with a type base."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fhirpathpy import apply_parsed_path
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser import parse

R4 = models["r4"]
#: trace() must not print to the server's stdout
_OPTIONS = {"traceFn": lambda *args, **kwargs: None}


class NotEvaluable(Exception):
    """The engine cannot evaluate this expression (unparsable or an unimplemented function)."""


@lru_cache(maxsize=4096)
def parsed(expression: str) -> Any:
    try:
        return parse(expression)
    except Exception as exc:  # antlr raises several kinds; all mean "cannot use"
        raise NotEvaluable(f"cannot parse: {exc}") from None


def holds(expression: str, node: Any, base: str | None, resource: Any) -> bool:
    """Whether the constraint holds on ``node``: false only when it evaluates to false.

    An empty result counts as holding (the spec's constraints are written to yield a boolean;
    empty means the engine found nothing to judge).
    """
    tree = parsed(expression)
    data = ResourceNode.create_node(node, base) if base else node
    try:
        result = apply_parsed_path(data, tree, {"resource": resource, "rootResource": resource}, R4, _OPTIONS)
    except RecursionError:
        raise NotEvaluable("expression too deep for the engine") from None
    except Exception as exc:
        raise NotEvaluable(str(exc) or type(exc).__name__) from None
    if isinstance(result, list) and len(result) == 1 and isinstance(result[0], bool):
        return result[0]
    return not (isinstance(result, list) and result and all(r is False for r in result))
