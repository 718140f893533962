"""Token search values: ``system|code`` pairs from Identifier, Coding, CodeableConcept,
ContactPoint, code, boolean and id elements, and the parsing of token query values."""

from __future__ import annotations

from typing import Any, Iterator

from ...storage.index import ANY, TokenMatch, TokenValue


def _text(node: dict[str, Any]) -> str | None:
    t = node.get("text") or node.get("display")
    return t if isinstance(t, str) else None


def token_values(param: str, node: Any) -> Iterator[TokenValue]:
    """The token rows one selected JSON node contributes."""
    if isinstance(node, bool):
        yield TokenValue(param, None, "true" if node else "false")
    elif isinstance(node, str):
        yield TokenValue(param, None, node)
    elif isinstance(node, dict):
        if "coding" in node or ("text" in node and "code" not in node and "value" not in node):
            text = _text(node)
            for coding in node.get("coding") or ():
                if isinstance(coding, dict):
                    yield TokenValue(param, coding.get("system"), coding.get("code"), text or _text(coding))
            if not node.get("coding") and text:
                yield TokenValue(param, None, None, text)
        elif "code" in node:  # Coding, Quantity-like
            yield TokenValue(param, node.get("system"), node.get("code"), _text(node))
        elif "value" in node:  # Identifier, ContactPoint
            type_text = node.get("type", {}).get("text") if isinstance(node.get("type"), dict) else None
            yield TokenValue(param, node.get("system"), str(node["value"]), type_text)


def parse_token(param: str, value: str) -> TokenMatch:
    """``code``, ``system|code``, ``|code`` or ``system|`` as a :class:`TokenMatch`."""
    if "|" not in value:
        return TokenMatch(param, ANY, value)
    system, _, code = value.partition("|")
    return TokenMatch(param, system or None, code or None)
