"""The XML form: <CHI_TIEU_GIAYCHUYENTUYEN> with one child element per present field.

Parsing is hardened because these files come from other facilities' systems:
- size is capped (MAX_BYTES) before anything is read;
- any DOCTYPE or ENTITY declaration is refused by a byte scan before parsing, and again by
  expat handlers (so entity expansion, XXE and billion-laughs never run); no network access;
- only UTF-8 is accepted (the scan would be blind to UTF-16), with or without a BOM.
A DOCTYPE/ENTITY text inside CDATA is also refused: a false alarm we accept for safety.

Text is kept verbatim (no trimming) so parse_xml(write_xml(r)) == r. Unknown element names
are kept so validate() reports them; repeated, nested or mixed content is an XmlFormError.

Writing refuses characters XML 1.0 cannot represent (C0 controls other than TAB/LF/CR, lone
surrogates, U+FFFE/U+FFFF) instead of dropping them; CR is written as &#13; because parsers
turn a literal CR into LF.
"""
from __future__ import annotations

import re
from xml.parsers import expat

from ..safe_xml import UNSAFE_DECLARATION, hardened_parser
from .fields import BY_NAME, FIELDS

ROOT = "CHI_TIEU_GIAYCHUYENTUYEN"
MAX_BYTES = 5 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_DECL_SCAN = UNSAFE_DECLARATION
_ENCODING = re.compile(rb"^<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class XmlFormError(ValueError):
    """The bytes are not an acceptable XML form of a transfer record (the message says why)."""


class _Refused(Exception):
    pass


def _check_bytes(data: bytes) -> bytes:
    if not isinstance(data, (bytes, bytearray)):
        raise XmlFormError("parse_xml expects bytes (the file content), not " + type(data).__name__)
    if len(data) > MAX_BYTES:
        raise XmlFormError(f"The XML file is {len(data)} bytes; at most {MAX_BYTES} are accepted.")
    data = bytes(data)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data:
        raise XmlFormError("The XML file must be UTF-8 (UTF-16 or NUL bytes found).")
    m = _ENCODING.match(data.lstrip())
    if m and m.group(1).upper().replace(b"_", b"-") not in (b"UTF-8", b"UTF8"):
        raise XmlFormError(f"The XML file declares encoding {m.group(1).decode()!r}; only UTF-8 is accepted.")
    found = _DECL_SCAN.search(data)
    if found:
        raise XmlFormError(f"The XML file contains a {found.group(1).decode().upper()} declaration; "
                           "DTDs and entities are refused for safety.")
    return data


def parse_xml(data: bytes) -> dict[str, str]:
    """Read the XML form into the JSON form (field name -> text; empty elements omitted)."""
    data = _check_bytes(data)
    record: dict[str, str] = {}
    depth = 0
    current: str | None = None
    parts: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, current
        depth += 1
        if depth == 1:
            if name != ROOT:
                raise XmlFormError(f"The root element is <{name}>; expected <{ROOT}>.")
        elif depth == 2:
            if name in record or name == current:
                raise XmlFormError(f"<{name}> appears more than once; each field may appear once.")
            current = name
            parts.clear()
        else:
            raise XmlFormError(f"<{name}> is nested inside <{current}>; field elements hold text only.")

    def end(name: str) -> None:
        nonlocal depth, current
        if depth == 2 and current is not None:
            text = "".join(parts)
            if text:
                record[current] = text
            else:
                record.setdefault(current, "")  # placeholder so a repeat is still noticed
            current = None
        depth -= 1

    def chars(text: str) -> None:
        if depth == 2:
            parts.append(text)
        elif depth == 1 and text.strip():
            raise XmlFormError(f"Text {text.strip()[:40]!r} sits directly in <{ROOT}>; put it in a field element.")

    p = hardened_parser(_Refused, encoding="UTF-8")
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    try:
        p.Parse(data, True)
    except _Refused as e:
        raise XmlFormError(f"The XML file was refused: {e}.") from None
    except expat.ExpatError as e:
        raise XmlFormError(f"The XML file is not well-formed: {e}.") from None
    return {k: v for k, v in record.items() if v}


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def write_xml(record: dict[str, str]) -> bytes:
    """Write the XML form: UTF-8 with declaration, fields in position order, empty values omitted."""
    unknown = [k for k in record if k not in BY_NAME]
    if unknown:
        raise XmlFormError(f"Not fields of the transfer dataset: {', '.join(map(str, unknown))}.")
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{ROOT}>"]
    for f in FIELDS:
        value = record.get(f.name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise XmlFormError(f"{f.name} must be a string, got {type(value).__name__}.")
        bad = _NOT_XML.search(value)
        if bad:
            raise XmlFormError(f"{f.name} contains the character U+{ord(bad.group()):04X}, "
                               "which XML 1.0 cannot represent.")
        lines.append(f"  <{f.name}>{_escape(value)}</{f.name}>")
    lines.append(f"</{ROOT}>")
    return ("\n".join(lines) + "\n").encode("utf-8")
