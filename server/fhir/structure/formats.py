"""Primitive formats: the R4 regexes of the compiled table, plus what a regex cannot say.

Each primitive gets one :class:`Format`, built once from ``r4-structure.json``: how it is
written in JSON, and for strings a check that returns ``None`` (fine) or a short reason.
The regexes are the definitions' own. They are XML Schema regexes, so they apply to the whole
value and ``\\s`` means the four XML spaces (space, tab, CR, LF) only: :func:`xsd_regex`
translates them for Python, where ``\\s`` would also match no-break spaces and the like (and
the string regex would then refuse Vietnamese text typed with them). On top of the regexes,
where the definitions say it in prose:

* ``date``, ``dateTime``, ``instant``: the day must exist (no 1980-02-30; 29 February only in
  leap years); the regexes already require a time zone with a time, and forbid 24:00;
* ``integer``, ``unsignedInt``, ``positiveInt``: 32-bit ranges, on JSON integers;
* ``decimal``: a finite JSON number;
* ``base64Binary``: decodable base64; whitespace, line breaks included, is tolerated anywhere
  (the definitions' regex only allows it between groups of four, which MIME line wrapping breaks);
* ``string``, ``markdown``: at most 1,048,576 characters; whitespace-only values are refused by
  the walk before any format is looked at (they carry no value);
* ``uri``, ``url``, ``canonical``: no whitespace (the regex ``\\S*``).
"""

from __future__ import annotations

import binascii
import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BOOL", "EXPECTED", "INT", "MAX_STRING", "NUM", "STR", "Format", "build_formats", "xsd_regex"]

# JSON kinds a primitive must be written as.
BOOL, INT, NUM, STR = 1, 2, 3, 4
_JSON_KINDS = {"boolean": BOOL, "integer": INT, "number": NUM, "string": STR}
MAX_STRING = 1024 * 1024
_INT_RANGES = {
    "integer": (-(2**31), 2**31 - 1),
    "unsignedInt": (0, 2**31 - 1),
    "positiveInt": (1, 2**31 - 1),
}
_DATED = frozenset({"date", "dateTime", "instant"})

#: what a valid value looks like, for messages
EXPECTED = {
    "boolean": "JSON true or false",
    "integer": "a JSON integer from -2147483648 to 2147483647",
    "unsignedInt": "a JSON integer from 0 to 2147483647",
    "positiveInt": "a JSON integer from 1 to 2147483647",
    "decimal": "a JSON number such as 62.50",
    "string": "a non-empty JSON string",
    "markdown": "a non-empty JSON string",
    "code": "a JSON string without leading/trailing whitespace or runs of whitespace",
    "id": "1-64 characters from A-Z, a-z, 0-9, '-' and '.'",
    "uri": "a URI without whitespace",
    "url": "a URL without whitespace",
    "canonical": "a canonical URL without whitespace, optionally ending in |version",
    "oid": "an OID URI such as urn:oid:1.2.3.4",
    "uuid": "a lower-case UUID URI such as urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
    "base64Binary": "base64-encoded data",
    "date": "a date: YYYY, YYYY-MM or YYYY-MM-DD, e.g. 1980-02-03",
    "dateTime": "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss] with a time zone (Z or +07:00)",
    "instant": "YYYY-MM-DDThh:mm:ss[.sss] with a time zone (Z or +07:00)",
    "time": "a time of day hh:mm:ss[.sss] without a time zone",
    "xhtml": "an XHTML <div> element as a JSON string",
}

Check = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class Format:
    """One primitive type: its JSON kind, integer range, and string check."""

    name: str
    jkind: int
    low: int = 0
    high: int = 0
    check: Check | None = None  # strings only: None = valid, else " (reason)" or ""
    extensions: bool = True  # may carry a '_name' companion (not xhtml)

    @property
    def expected(self) -> str:
        return EXPECTED.get(self.name, f"a valid {self.name}")


_XSD_SPACE = " \\t\\n\\r"
_OUTSIDE = {"s": f"[{_XSD_SPACE}]", "S": f"[^{_XSD_SPACE}]", "d": "[0-9]"}


def xsd_regex(pattern: str) -> str:
    """An XML Schema regex as a Python one: ``\\s``/``\\S``/``\\d`` with their XSD meaning,
    inside character classes too (``[ \\r\\n\\t\\S]`` becomes "a space, or not a space")."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(_OUTSIDE.get(pattern[i + 1], pattern[i : i + 2]))
            i += 2
        elif c == "[":
            i = _xsd_class(pattern, i, out)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _xsd_class(pattern: str, i: int, out: list[str]) -> int:
    """Translate the character class starting at ``pattern[i]``; return the index after it."""
    j = i + 1
    negate = pattern[j : j + 1] == "^"
    j += negate
    body: list[str] = []
    non_space = False
    while j < len(pattern) and pattern[j] != "]":
        if pattern[j] == "\\" and j + 1 < len(pattern):
            e = pattern[j + 1]
            if e == "S":
                non_space = True
            else:
                body.append({"s": _XSD_SPACE, "d": "0-9"}.get(e, pattern[j : j + 2]))
            j += 2
        else:
            body.append(pattern[j])
            j += 1
    inner = "".join(body)
    if non_space and negate:
        raise ValueError(f"unsupported XSD class in {pattern!r}")
    if non_space and all(space in inner for space in (" ", "\\t", "\\n", "\\r")):
        out.append(r"[\s\S]")  # a space or not a space: any character
    elif non_space:
        out.append(f"(?:[{inner}]|[^{_XSD_SPACE}])" if inner else f"[^{_XSD_SPACE}]")
    else:
        out.append(f"[{'^' if negate else ''}{inner}]")
    return j + 1


def _regex_check(pattern: str) -> Check:
    rx = re.compile(xsd_regex(pattern))

    def check(v: str) -> str | None:
        return None if rx.fullmatch(v) else ""

    return check


_WHITESPACE = re.compile(r"\s")


def _whitespace_check(v: str) -> str | None:
    """URIs: no whitespace at all (any Unicode space, as browsers and HTTP see it)."""
    return " (it contains whitespace)" if _WHITESPACE.search(v) else None


def _day_exists(v: str) -> bool:
    """For a value the date regex already accepted: does YYYY-MM-DD name a real day?"""
    if len(v) < 10:
        return True
    year, month, day = int(v[0:4]), int(v[5:7]), int(v[8:10])
    return day <= calendar.monthrange(year, month)[1]


def _dated_check(pattern: str) -> Check:
    rx = re.compile(xsd_regex(pattern))

    def check(v: str) -> str | None:
        if not rx.fullmatch(v):
            return ""
        return None if _day_exists(v) else " (there is no such day)"

    return check


def _base64_check(v: str) -> str | None:
    for text in (v, "".join(v.split())):
        try:
            binascii.a2b_base64(text, strict_mode=True)
            return None
        except (binascii.Error, ValueError):
            continue
    return ""


def _string_check(pattern: str | None) -> Check:
    regex = _regex_check(pattern) if pattern else None

    def check(v: str) -> str | None:
        if len(v) > MAX_STRING:
            return f" (longer than {MAX_STRING} characters)"
        return regex(v) if regex is not None else None

    return check


#: what a FHIR narrative may hold (R4 Narrative, txt-1: "the basic html formatting elements and
#: attributes described in chapters 7-11 (except section 4 of chapter 9) and 15 of the HTML 4.0
#: standard, <a> elements (either name or href), images and internally contained style attributes")
_XHTML_ELEMENTS = frozenset(
    "a abbr acronym address b bdo big blockquote br caption cite code col colgroup dd del dfn div dl dt em "
    "h1 h2 h3 h4 h5 h6 hr i img ins kbd li ol p pre q s samp small span strike strong sub sup "
    "table tbody td tfoot th thead tr tt u ul var".split())
_XHTML_ATTRIBUTES = frozenset(
    "abbr accesskey align alt axis border cellpadding cellspacing char charoff charset cite class colspan compact "
    "coords dir frame headers height href hreflang hspace id lang longdesc name nowrap rel rev rowspan rules "
    "scope shape span src start style summary tabindex title type valign value vspace width".split())
_XHTML = "{http://www.w3.org/1999/xhtml}"
#: URL schemes that run code: a link or image using one is a script (R4 narrative.html: a
#: narrative SHALL NOT contain scripts), whatever the element
_ACTIVE_SCHEMES = ("javascript:", "vbscript:")
_URL_ATTRIBUTES = ("href", "src", "longdesc", "cite", "usemap")


def _runs_code(url: str) -> bool:
    """Whether a URL uses an active scheme, read as a browser does (whitespace and controls ignored)."""
    return "".join(ch for ch in url if ch > " ").lower().startswith(_ACTIVE_SCHEMES)


def _xhtml_check(v: str) -> str | None:
    """R4's narrative rules (txt-1, txt-2): a well-formed XHTML ``div`` holding only the basic
    formatting elements and attributes (no scripts, forms, frames, event handlers), with some
    non-whitespace content."""
    from defusedxml import ElementTree as SafeET

    if len(v) > MAX_STRING:
        return f" (longer than {MAX_STRING} characters)"
    try:
        root = SafeET.fromstring(v)
    except Exception:  # not well-formed, or a DTD/entity defusedxml refuses
        return " (not well-formed XHTML)"
    if root.tag != _XHTML + "div":
        return " (the root must be a <div> in the XHTML namespace, http://www.w3.org/1999/xhtml; rule txt-1)"
    has_content = False
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name = el.tag[len(_XHTML):] if el.tag.startswith(_XHTML) else None
        if name not in _XHTML_ELEMENTS:
            return f" (<{el.tag.split('}')[-1]}> is not allowed in a narrative; rule txt-1)"
        for attr in el.attrib:
            local = attr.split("}")[-1]
            if local not in _XHTML_ATTRIBUTES and not attr.startswith("{http://www.w3.org/XML/1998/namespace}"):  # xml:lang, xml:space
                return f" (the attribute '{local}' is not allowed in a narrative; rule txt-1)"
            if local in _URL_ATTRIBUTES and _runs_code(el.attrib[attr]):
                return f" (the {local} '{el.attrib[attr][:40]}' runs a script, which a narrative may not; rule txt-1)"
        if name == "img" or (el.text or "").strip() or (el is not root and (el.tail or "").strip()):
            has_content = True
    if not has_content:
        return " (the narrative has no content; rule txt-2)"
    return None


def _string_check_for(name: str, spec: dict[str, Any]) -> Check | None:
    pattern = spec.get("regex")
    if name == "xhtml":
        return _xhtml_check
    if name in _DATED and pattern:
        return _dated_check(pattern)
    if name == "base64Binary":
        return _base64_check
    if name in ("uri", "url", "canonical"):
        return _whitespace_check
    if name in ("string", "markdown"):
        return _string_check(pattern)
    return _regex_check(pattern) if pattern else None


def build_formats(primitives: dict[str, dict[str, Any]]) -> dict[str, Format]:
    """One :class:`Format` per primitive of the table's ``primitives`` section."""
    out: dict[str, Format] = {}
    for name, spec in primitives.items():
        jkind = _JSON_KINDS.get(spec.get("json", "string"), STR)
        low, high = _INT_RANGES.get(name, (0, 0))
        check = _string_check_for(name, spec) if jkind == STR else None
        out[name] = Format(name, jkind, low, high, check, spec.get("extensions", True))
    return out
