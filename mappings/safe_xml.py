"""The one hardened XML parser every XML form of the project is read with.

Files from dozens of hospital systems are untrusted: a DOCTYPE or ENTITY declaration
(billion laughs, XXE) is refused by the parser itself, and callers also scan the bytes
with :data:`UNSAFE_DECLARATION` before parsing, so nothing is expanded or fetched.
"""

from __future__ import annotations

import re
from xml.parsers import expat

UNSAFE_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
REFUSAL = "DOCTYPE/ENTITY declarations are not allowed (entity expansion / XXE risk)"


def hardened_parser(error: type[Exception], *, encoding: str | None = None) -> expat.XMLParserType:
    """An expat parser that raises ``error`` on any DTD, entity declaration or external entity."""

    def refuse(*_: object) -> None:
        raise error(REFUSAL)

    parser = expat.ParserCreate(encoding=encoding)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.buffer_text = True
    return parser
