"""What a Questionnaire item's ``enableWhen.question`` may point at.

The item it names decides whether this one is shown, so it must not be one of this item's own
children: a hidden group's questions cannot be answered, so they could never show it (an error,
as the reference validator says). A target that comes later in the questionnaire is allowed but
odd, since the answer it depends on is asked afterwards (a warning, as there).
"""

from __future__ import annotations

from typing import Any, Iterator

from ...outcome import Issue
from ..instance import finding
from ..typed import Walk, nodes

_PROFILE = "http://hl7.org/fhir/StructureDefinition/Questionnaire"


def check(resource: dict[str, Any], walk: Walk | None = None) -> list[Issue]:
    issues: list[Issue] = []
    for node in nodes(resource, walk):
        if node.key == "Questionnaire":
            issues += _questionnaire(node.value, node.path)
    return issues


def _questionnaire(questionnaire: dict[str, Any], path: str) -> list[Issue]:
    items = list(_items(questionnaire, path))
    position: dict[str, int] = {}
    for at, (item, _) in enumerate(items):
        if isinstance(item.get("linkId"), str):
            position.setdefault(item["linkId"], at)
    issues = []
    for at, (item, where) in enumerate(items):
        conditions = item.get("enableWhen")
        targets = [c.get("question") for c in conditions if isinstance(c, dict)] if isinstance(conditions, list) else []
        targets = [t for t in targets if isinstance(t, str) and t in position]
        if not targets:
            continue
        inner = {child.get("linkId") for child, _ in _items(item, where)}
        for target in targets:
            if target in inner:
                issues.append(finding("enableWhen", "error", "business-rule", where,
                                      f"an item with an enableWhen cannot depend on a question inside it ('{target}'): "
                                      "while the item is hidden that question cannot be answered", _PROFILE))
            elif position[target] > at:
                issues.append(finding("enableWhen", "warning", "business-rule", where,
                                      f"the question this item depends on ('{target}') comes after it", _PROFILE))
    return issues


def _items(parent: dict[str, Any], path: str) -> Iterator[tuple[dict[str, Any], str]]:
    """The items below ``parent``, in document order (iterative: depth-safe)."""
    stack = [(parent, path)]
    while stack:
        node, where = stack.pop()
        if node is not parent:
            yield node, where
        children = node.get("item")
        if isinstance(children, list):
            stack.extend(reversed([(c, f"{where}.item[{i}]") for i, c in enumerate(children) if isinstance(c, dict)]))
