"""The XML form: safe parsing, exact round trip, clear errors."""
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from mappings.transfer54 import XmlFormError, parse_xml, validate, write_xml
from mappings.transfer54.strategies import valid_records
from mappings.transfer54.xml_form import MAX_BYTES

DATA = Path(__file__).parent / "testdata"


def sample(name: str = "t54-1-0") -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_records())
def test_round_trip(rec):
    assert parse_xml(write_xml(rec)) == rec


def test_round_trip_tricky_values():
    rec = sample() | {"TEN_THUOC": "a < b & c ]]> \"q\" 'q'\r\nline\rCR\ttab Nguyễn Thị Ánh 😷",
                      "QT_BENHLY": "  leading and trailing blanks  "}
    assert validate(rec) == []
    assert parse_xml(write_xml(rec)) == rec


def test_written_form():
    out = write_xml(sample())
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<CHI_TIEU_GIAYCHUYENTUYEN>')
    assert out.index(b"<MA_LK>") < out.index(b"<HO_TEN>") < out.index(b"<NGAY_SINH>") < out.index(b"<MA_BAC_SI>")
    assert "Võ Thị Nga".encode() in out


def test_bom_crlf_cdata_and_empty_elements():
    xml = ("\ufeff<?xml version='1.0' encoding='utf-8'?>\r\n<CHI_TIEU_GIAYCHUYENTUYEN>\r\n"
           "  <MA_LK><![CDATA[CT1 <&> ]]></MA_LK>\r\n  <SO_HOSO/>\r\n  <HO_TEN>Lê\r\nVăn</HO_TEN>\r\n"
           "</CHI_TIEU_GIAYCHUYENTUYEN>\r\n").encode("utf-8")
    assert parse_xml(xml) == {"MA_LK": "CT1 <&> ", "HO_TEN": "Lê\nVăn"}


def test_unknown_elements_are_kept_for_validate():
    xml = write_xml(sample()).replace(b"</CHI_TIEU", b"<MA_LA>x</MA_LA></CHI_TIEU")
    rec = parse_xml(xml)
    assert rec["MA_LA"] == "x"
    assert [(p.field, p.code) for p in validate(rec)] == [("MA_LA", "unknown-field")]


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK>&xxe;</MA_LK></CHI_TIEU_GIAYCHUYENTUYEN>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK>&lol3;</MA_LK></CHI_TIEU_GIAYCHUYENTUYEN>"""
OVERSIZE = (b"<CHI_TIEU_GIAYCHUYENTUYEN><DAU_HIEU_LS>" + b"a" * MAX_BYTES
            + b"</DAU_HIEU_LS></CHI_TIEU_GIAYCHUYENTUYEN>")


@pytest.mark.parametrize("data, words", [
    (XXE, "DOCTYPE"), (LAUGHS, "DOCTYPE"), (OVERSIZE, "at most"),
    (b"<!doctype CHI_TIEU_GIAYCHUYENTUYEN><CHI_TIEU_GIAYCHUYENTUYEN/>", "DOCTYPE"),
    (b"<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK>&ext;</MA_LK></CHI_TIEU_GIAYCHUYENTUYEN>", "not well-formed"),
    (b"<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK>a</MA_LK><MA_LK>b</MA_LK></CHI_TIEU_GIAYCHUYENTUYEN>", "more than once"),
    (b"<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK><X>a</X></MA_LK></CHI_TIEU_GIAYCHUYENTUYEN>", "nested"),
    (b"<CHI_TIEU_GIAYCHUYENTUYEN>loose<MA_LK>a</MA_LK></CHI_TIEU_GIAYCHUYENTUYEN>", "directly"),
    (b"<OTHER><MA_LK>a</MA_LK></OTHER>", "root"),
    (b"<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK>a</MA_LK>", "not well-formed"),
    ("<?xml version='1.0' encoding='UTF-16'?><CHI_TIEU_GIAYCHUYENTUYEN/>".encode("utf-16"), "UTF-8"),
    (b"<?xml version='1.0' encoding='latin-1'?><CHI_TIEU_GIAYCHUYENTUYEN/>", "UTF-8"),
    (b"<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK>\xff</MA_LK></CHI_TIEU_GIAYCHUYENTUYEN>", "not well-formed"),
])
def test_refused(data, words):
    with pytest.raises(XmlFormError, match=words):
        parse_xml(data)


@pytest.mark.parametrize("rec, words", [
    ({"MA_LK": "a\x00b"}, "U\\+0000"), ({"MA_LK": "\ud800"}, "U\\+D800"), ({"MA_LK": "\uffff"}, "U\\+FFFF"),
    ({"NOT_A_FIELD": "x"}, "NOT_A_FIELD"), ({"MA_LK": 1}, "string"),
])
def test_write_refuses(rec, words):
    with pytest.raises(XmlFormError, match=words):
        write_xml(rec)
