"""Primitive formats: XSD regex translation, calendar dates, ranges, base64, URIs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .formats import BOOL, INT, NUM, STR, xsd_regex
from .table import structure

FORMATS = structure().formats


def ok(prim: str, value: str) -> bool:
    check = FORMATS[prim].check
    return check is None or check(value) is None


@pytest.mark.parametrize(
    ("pattern", "python"),
    [
        (r"[ \r\n\t\S]+", r"[\s\S]+"),
        (r"[a\S]", r"(?:[a]|[^ \t\n\r])"),
        (r"[^\s]+(\s[^\s]+)*", r"[^ \t\n\r]+([ \t\n\r][^ \t\n\r]+)*"),
        (r"\S*", r"[^ \t\n\r]*"),
        (r"-?([0]|([1-9][0-9]*))", r"-?([0]|([1-9][0-9]*))"),
        (r"[A-Za-z0-9\-\.]{1,64}", r"[A-Za-z0-9\-\.]{1,64}"),
        (r"\d+", r"[0-9]+"),
    ],
)
def test_xsd_regex_translation(pattern: str, python: str) -> None:
    assert xsd_regex(pattern) == python


def test_xsd_whitespace_is_the_four_xml_spaces() -> None:
    # a no-break space is not whitespace in XML Schema, so it may sit inside a code or a string
    assert ok("code", "a\u00a0b") and ok("string", "Nguyễn\u00a0An") and ok("string", "a\x0bb")
    assert not ok("code", "a  b") and not ok("code", " a") and not ok("code", "a\tb ")
    assert ok("code", "mm[Hg]") and ok("code", "a b c")


def test_json_kinds() -> None:
    assert FORMATS["boolean"].jkind == BOOL
    assert {FORMATS[n].jkind for n in ("integer", "unsignedInt", "positiveInt")} == {INT}
    assert FORMATS["decimal"].jkind == NUM
    assert {FORMATS[n].jkind for n in ("string", "code", "date", "uri", "base64Binary", "xhtml")} == {STR}
    assert (FORMATS["integer"].low, FORMATS["integer"].high) == (-(2**31), 2**31 - 1)
    assert (FORMATS["unsignedInt"].low, FORMATS["positiveInt"].low) == (0, 1)
    assert not FORMATS["xhtml"].extensions and FORMATS["string"].extensions


@pytest.mark.parametrize("value", ["2024", "2024-02", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31"])
def test_valid_dates(value: str) -> None:
    assert ok("date", value) and ok("dateTime", value)


@pytest.mark.parametrize("value", ["2023-02-29", "1900-02-29", "2024-04-31", "2024-13", "2024-00", "0000", "24",
                                   "2024-1-1", "2024-01-01Z", "03/02/1980", "2024-02-30"])
def test_invalid_dates(value: str) -> None:
    assert not ok("date", value)


def test_date_times_and_instants() -> None:
    for value in ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123+07:00", "2016-12-31T23:59:60Z",
                  "2024-02-29T00:00:00-14:00"[:19] + "+14:00"):
        assert ok("dateTime", value) and ok("instant", value), value
    for value in ("2024-05-01T10:00:00", "2024-05-01T10:00Z", "2024-05-01T24:00:00Z", "2023-02-29T10:00:00Z",
                  "2024-05-01T10:00:00+15:00", "2024-05-01 10:00:00Z"):
        assert not ok("dateTime", value) and not ok("instant", value), value
    assert ok("dateTime", "2024-05-01") and not ok("instant", "2024-05-01")


def test_times() -> None:
    assert ok("time", "10:00:00") and ok("time", "23:59:60.5")
    for value in ("24:00:00", "10:00", "10:00:00Z", "10:00:00+07:00", "1:00:00"):
        assert not ok("time", value), value


def test_strings_ids_uris_and_friends() -> None:
    assert ok("id", "a" * 64) and not ok("id", "a" * 65) and not ok("id", "a_b")
    assert ok("uri", "urn:uuid:x") and not ok("uri", "http://a b") and not ok("url", "http://a\u00a0b")
    assert ok("canonical", "http://x/y|1.0")
    assert ok("oid", "urn:oid:2.16.840.1") and not ok("oid", "urn:oid:2.016") and not ok("oid", "1.2.3")
    assert ok("uuid", "urn:uuid:c757873d-ec9a-1326-a141-556f43239520") and not ok("uuid", "urn:uuid:C757873D-EC9A-1326-A141-556F43239520")
    assert ok("base64Binary", "eGluIGNow6Bv") and ok("base64Binary", "eGluIG\nNow6Bv") and not ok("base64Binary", "@@@@")
    assert ok("markdown", "# x\n\n* y") and ok("string", "x" * (1024 * 1024)) and not ok("string", "x" * (1024 * 1024 + 1))


@settings(max_examples=200, deadline=None)
@given(st.dates(), st.times())
def test_every_real_date_time_is_accepted(d, t) -> None:
    day = d.isoformat()
    assert ok("date", day) and ok("dateTime", day)
    stamp = f"{day}T{t.isoformat(timespec='seconds')}+07:00"
    assert ok("dateTime", stamp) and ok("instant", stamp)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_code_regex_is_the_spec_rule(value: str) -> None:
    """No leading/trailing whitespace and no runs of it, XSD whitespace being ' ', \\t, \\n, \\r."""
    spec = bool(value) and re.fullmatch(r"[^ \t\n\r]+([ \t\n\r][^ \t\n\r]+)*", value) is not None
    assert ok("code", value) == spec


def test_narratives_follow_the_r4_rules() -> None:
    """txt-1 (only the basic formatting elements and attributes) and txt-2 (some content)."""
    from server.fhir.structure.formats import _xhtml_check

    ok = ('<div xmlns="http://www.w3.org/1999/xhtml"><p class="x" style="color:red">Lê <b>An</b></p>'
          '<table><tr><td colspan="2">1</td></tr></table><a href="#x">x</a><pre xml:space="preserve"> </pre></div>')
    assert _xhtml_check(ok) is None
    assert _xhtml_check('<div xmlns="http://www.w3.org/1999/xhtml"><img src="#a" alt=""/></div>') is None
    links = "".join(f'<a href="{u}">x</a>' for u in ("https://h.vn/a", "mailto:a@h.vn", "tel:+84901", "urn:uuid:1", "Patient/1", "#x", "javascript-guide.html"))
    assert _xhtml_check(f'<div xmlns="http://www.w3.org/1999/xhtml">{links}</div>') is None  # other schemes: validate()'s business
    for bad, why in (
        ('<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script>x</div>', "<script>"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">x</p></div>', "'onclick'"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><form>x</form></div>', "<form>"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript:alert(1)">x</a></div>', "runs a script"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><a href=" Java&#09;Script:x()">x</a></div>', "runs a script"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><img src="vbscript:x" alt="x"/></div>', "runs a script"),
        ('<div xmlns="http://www.w3.org/1999/xhtml">  <p> </p></div>', "txt-2"),
        ('<div>x</div>', "XHTML namespace"),
        ('<div xmlns="http://www.w3.org/1999/xhtml"><p>x</div>', "well-formed"),
    ):
        assert why in (_xhtml_check(bad) or ""), bad
