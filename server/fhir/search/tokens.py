"""Token search values: ``system|code`` pairs from Identifier, Coding, CodeableConcept,
ContactPoint, code, boolean and id elements, and the parsing of token query values.

``TokenValue.text`` (CodeableConcept.text, else Coding.display; Identifier.type.text) is
stored folded (:func:`.strings.fold`), so ``:text`` is case- and accent-insensitive.

``:of-type`` (identifiers only): an Identifier with ``type.coding`` also yields, per type
coding, ``TokenValue(param + ":of-type", system=f"{type.system}|{type.code}", code=value)``
(a missing type system is the empty string: ``|NI``). ``identifier:of-type=S|C|V`` is then
``TokenMatch("identifier:of-type", "S|C", "V")``: one row holds the type and the value, so
the pair is matched on the same identifier.
"""

from __future__ import annotations

from typing import Any, Iterator

from ...storage.index import ANY, Cond, Term, TokenMatch, TokenValue, ValueMatch
from ..identifiers import canonical_system
from ..outcome import bad_request
from .strings import fold

OF_TYPE = ":of-type"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text(node: dict[str, Any]) -> str | None:
    t = node.get("text") or node.get("display")
    return fold(t) if isinstance(t, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


def token_values(param: str, node: Any) -> Iterator[TokenValue]:
    """The token rows one selected JSON node contributes."""
    if isinstance(node, bool):
        yield TokenValue(param, None, "true" if node else "false")
    elif isinstance(node, str):
        yield TokenValue(param, None, node)
    elif isinstance(node, dict):
        if "coding" in node or ("text" in node and "code" not in node and "value" not in node):
            text = _text(node)
            codings = _list(node.get("coding"))
            for coding in codings:
                if isinstance(coding, dict):
                    yield TokenValue(param, canonical_system(_str(coding.get("system"))), _str(coding.get("code")), text or _text(coding))
            if not codings and text:
                yield TokenValue(param, None, None, text)
        elif "code" in node:  # Coding, Quantity-like
            code = node.get("code")
            code = "true" if code is True else "false" if code is False else _str(code)
            yield TokenValue(param, canonical_system(_str(node.get("system"))), code, _text(node))
        elif "value" in node:  # Identifier, ContactPoint
            value = node["value"]
            if not isinstance(value, str):
                return
            id_type = node.get("type")
            type_text = _text({"text": id_type.get("text")}) if isinstance(id_type, dict) else None
            yield TokenValue(param, canonical_system(_str(node.get("system"))), value, type_text)
            if isinstance(id_type, dict):
                for coding in _list(id_type.get("coding")):
                    if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                        system = _str(coding.get("system")) or ""
                        yield TokenValue(param + OF_TYPE, f"{system}|{coding['code']}", value)


def parse_token(param: str, value: str) -> TokenMatch:
    """``code``, ``system|code``, ``|code`` or ``system|`` as a :class:`TokenMatch`."""
    if "|" not in value:
        return TokenMatch(param, ANY, value)
    system, _, code = value.partition("|")
    return TokenMatch(param, canonical_system(system) or None, code or None)


def token_term(param: str, modifier: str, value: str) -> Term | None:
    """ONE token query value as a term; ``None`` for a modifier not supported here.

    * no modifier: :func:`parse_token`;
    * ``:text``: the folded value is a prefix of the row's folded text;
    * ``:of-type``: ``system|code|value`` against an Identifier's type coding and value
      (the ``:of-type`` rows described above); another shape is a client error.

    ``:not`` is applied by the caller; ``:in``, ``:not-in``, ``:below``, ``:above`` need a
    terminology service and are not supported.
    """
    if modifier == "":
        return parse_token(param, value)
    if modifier == "text":
        return ValueMatch(param, "token", (Cond("text", "prefix", fold(value)),))
    if modifier == "of-type":
        parts = value.split("|")
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise bad_request(f"{param}:of-type takes system|code|value (the identifier's type and its value), got '{value}'", f"{param}:of-type")
        system, code, ident = parts
        return TokenMatch(param + OF_TYPE, f"{system}|{code}", ident)
    return None
