"""String search: folding (Vietnamese), the rows strings/names/addresses/narratives give,
and the terms string query values become."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.fhir.search.extract import extract_index
from server.fhir.search.registry import SearchRegistry
from server.fhir.search.strings import fold, narrative_text, narrative_values, string_term, string_values
from server.storage.index import Cond, StringValue, ValueMatch

# ------------------------------------------------ arbitrary JSON-like nodes (shared by the tests here)

_KEYS = st.sampled_from(
    [
        "family", "given", "prefix", "suffix", "text", "line", "city", "district", "state", "postalCode", "country",
        "start", "end", "event", "repeat", "boundsPeriod", "reference", "identifier", "type", "system", "value",
        "code", "unit", "currency", "coding", "display", "div", "id", "extension", "url", "component",
        "valueQuantity", "valueCodeableConcept", "valueDateTime", "valuePeriod", "valueString", "target",
    ]
) | st.text(max_size=4)
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.just(10**400)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(["2025-06-01", "2025-13-01", "2025-06-01T09:00:00+07:00", "Patient/1", "#c", "urn:uuid:x", "http://a.vn/fhir/Patient/1/_history/2"])
)
json_nodes = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=6), max_leaves=25)


# ---------------------------------------------------------------------------- fold


def test_fold_vietnamese() -> None:
    assert fold("Nguyễn Văn Đức") == "nguyen van duc"
    assert fold("ĐẶNG THỊ MỸ HẠNH") == "dang thi my hanh"
    assert fold("Trần  Phú\t\n Khánh Hòa ") == "tran phu khanh hoa"
    assert fold("Bùi Ngọc Ánh") == fold("BUI NGOC ANH") == "bui ngoc anh"
    assert fold("Hồ Chí Minh") == "ho chi minh"
    assert fold("đường Lê Lợi") == "duong le loi"
    # composed and decomposed input fold alike
    assert fold("Nguy\u0065\u0302\u0303n") == fold("Nguyễn") == "nguyen"
    # non-Vietnamese: case folding and marks
    assert fold("Straße") == "strasse"
    assert fold("İstanbul") == "istanbul"
    assert fold("\u00a0Ana\u3000María ") == "ana maria"
    assert fold("") == fold("   ") == ""


# -------------------------------------------------------------------------- extraction


def test_plain_string_row() -> None:
    assert list(string_values("family", "Nguyễn")) == [StringValue("family", "nguyen", "Nguyễn")]
    assert list(string_values("family", "   ")) == []
    assert list(string_values("family", 5)) == []


def test_human_name_rows() -> None:
    name = {"use": "official", "text": "Nguyễn Văn Đức", "family": "Nguyễn", "given": ["Văn", "Đức"], "prefix": ["Ông"], "suffix": ["BS."]}
    assert list(string_values("name", name)) == [
        StringValue("name", "nguyen van duc", "Nguyễn Văn Đức"),  # text; the joined "family given…" is the same
        StringValue("name", "nguyen", "Nguyễn"),
        StringValue("name", "van", "Văn"),
        StringValue("name", "duc", "Đức"),
        StringValue("name", "ong", "Ông"),
        StringValue("name", "bs.", "BS."),
    ]
    assert list(string_values("name", {"family": "Lê", "given": ["Thị", "Hoa"]})) == [
        StringValue("name", "le", "Lê"),
        StringValue("name", "thi", "Thị"),
        StringValue("name", "hoa", "Hoa"),
        StringValue("name", "le thi hoa", "Lê Thị Hoa"),
    ]


def test_address_rows() -> None:
    address = {"use": "home", "line": ["12 Trần Phú", "Phường Lộc Thọ"], "city": "Nha Trang", "district": "Lộc Thọ", "state": "Khánh Hòa", "postalCode": "650000", "country": "VN"}
    assert [r.norm for r in string_values("address", address)] == ["12 tran phu", "phuong loc tho", "nha trang", "loc tho", "khanh hoa", "650000", "vn"]


def test_other_complex_nodes_give_their_text_leaves() -> None:
    node = {"id": "x1", "system": "urn:s", "title": "Phiếu khám", "part": [{"label": "Khoa Nội", "url": "http://x"}], "extension": [{"valueString": "ẩn"}]}
    assert [r.exact for r in string_values("p", node)] == ["Phiếu khám", "Khoa Nội"]


def test_narrative() -> None:
    div = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Bệnh nhân <b>Nguyễn&#160;Văn A</b> &amp; gia đình</p><br/>sốt cao</div>'
    assert narrative_text(div) == "Bệnh nhân Nguyễn Văn A & gia đình sốt cao"
    assert list(narrative_values("_text", div)) == [StringValue("_text", "benh nhan nguyen van a & gia dinh sot cao", "Bệnh nhân Nguyễn Văn A & gia đình sốt cao")]
    assert list(narrative_values("_text", "<div></div>")) == []


def test_extract_index_strings_text_and_meta() -> None:
    registry = SearchRegistry({"Patient"})
    patient = {
        "resourceType": "Patient",
        "meta": {"profile": ["http://lienthong.dev/fhir/StructureDefinition/vn-patient"], "tag": [{"system": "urn:t", "code": "test"}], "security": [{"code": "R"}]},
        "text": {"status": "generated", "div": "<div>Nguyễn Thu Phương</div>"},
        "name": [{"family": "Nguyễn", "given": ["Thu", "Phương"]}],
        "address": [{"city": "Huế"}],
    }
    rows = set(extract_index(registry, patient))
    assert StringValue("_text", "nguyen thu phuong", "Nguyễn Thu Phương") in rows
    assert StringValue("family", "nguyen", "Nguyễn") in rows
    assert StringValue("given", "phuong", "Phương") in rows
    assert StringValue("name", "nguyen thu phuong", "Nguyễn Thu Phương") in rows
    assert StringValue("address-city", "hue", "Huế") in rows
    params = {r.param for r in rows}
    assert {"_profile", "_tag", "_security"} <= params


# ------------------------------------------------------------------------------ terms


def test_string_terms() -> None:
    assert string_term("name", "", "Nguyễn Văn") == ValueMatch("name", "string", (Cond("norm", "prefix", "nguyen van"),))
    assert string_term("name", "contains", "ĐỨC") == ValueMatch("name", "string", (Cond("norm", "contains", "duc"),))
    assert string_term("name", "exact", "Nguyễn") == ValueMatch("name", "string", (Cond("exact", "eq", "Nguyễn"),))
    assert string_term("_text", "", "Sốt cao") == ValueMatch("_text", "string", (Cond("norm", "contains", "sot cao"),))
    assert string_term("name", "text", "x") is None
    assert string_term("name", "below", "x") is None


# ------------------------------------------------------------------------- robustness


@settings(max_examples=300, deadline=None)
@given(json_nodes)
def test_string_extractors_never_raise(node: Any) -> None:
    for row in string_values("p", node):
        assert isinstance(row, StringValue) and isinstance(row.norm, str) and isinstance(row.exact, str) and row.norm
    for row in narrative_values("_text", node):
        assert isinstance(row, StringValue)


@given(st.text())
def test_fold_is_idempotent_and_stripped(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert folded == folded.strip() and "  " not in folded
