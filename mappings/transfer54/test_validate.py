"""validate(): samples pass, every defect is reported once with its field, it never raises."""
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings.transfer54 import BY_NAME, validate
from mappings.transfer54.generate import records
from mappings.transfer54.strategies import valid_records

DATA = Path(__file__).parent / "testdata"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sample(name: str = "t54-1-0") -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def found(record) -> set[tuple[str | None, str]]:
    return {(p.field, p.code) for p in validate(record)}


@pytest.mark.parametrize("name", ["t54-1-0", "t54-1-1"])
def test_spec_samples_are_valid(name):
    assert validate(sample(name)) == []


def test_many_defects_each_reported_once_with_field():
    rec = sample()
    del rec["HO_TEN"]
    rec.update({
        "MA_LK": 12345,                        # not a string
        "MA_CSKCB": "1900",                    # 4 digits
        "GIOI_TINH": "4",                      # closed table
        "MA_LOAI_KCB": "3",                    # closed table, wrong width
        "NGAY_VAO": "202502301200",            # 30 February
        "NGAY_SINH": "198500140000",           # unknown month with a known day
        "MA_BENH_CHINH": "j18.9",              # lowercase
        "SO_CCCD": "12345678901",              # 11 digits
        "CAN_NANG": "62,5",                    # comma separator
        "MA_DANTOC": "",                       # empty instead of omitted
        "MA_NGHE_NGHIEP": "123456",            # too long / bad format: one problem
        "NHOM_MAU": "ABC+-X",                  # too long
        "TEN_THUOC": "Paracetamol\x07",        # control character
        "HO_TEN_BN": "Nguyễn Văn A",           # unknown field
        "MA_DKBD": "19001;42001",              # 2 facilities for 1 card
    })
    problems = validate(rec)
    assert found(rec) == {
        ("MA_LK", "not-a-string"), ("MA_CSKCB", "bad-format"), ("GIOI_TINH", "bad-code"),
        ("MA_LOAI_KCB", "bad-code"), ("NGAY_VAO", "impossible-date"), ("NGAY_SINH", "impossible-date"),
        ("MA_BENH_CHINH", "bad-format"), ("SO_CCCD", "bad-format"), ("CAN_NANG", "bad-format"),
        ("MA_DANTOC", "empty-value"), ("MA_NGHE_NGHIEP", "bad-format"), ("NHOM_MAU", "too-long"),
        ("TEN_THUOC", "bad-character"), ("HO_TEN", "missing-required"), ("HO_TEN_BN", "unknown-field"),
        ("MA_DKBD", "card-count-mismatch"),
    }
    assert len(problems) == len(found(rec)), "one defect, one problem"
    for p in problems:
        assert p.field and p.field in p.reason and p.reason.endswith((".", "?"))
    assert "HO_TEN" in next(p.reason for p in problems if p.code == "unknown-field")  # suggestion


@pytest.mark.parametrize("birth, ok", [
    ("198500000000", True), ("198507000000", True), ("198507140000", True), ("198507141530", True),
    ("198500140000", False), ("198507001200", False), ("198513000000", False), ("198502300000", False),
    ("000000000000", False), ("198507142400", False),
])
def test_birth_date_unknown_parts(birth, ok):
    rec = sample() | {"NGAY_SINH": birth}
    assert (validate(rec) == []) is ok


@pytest.mark.parametrize("changes, expected", [
    ({"NGAY_RA": "202407211000"}, ("NGAY_RA", "date-order")),
    ({"NGAY_VAO_NOI_TRU": "202407240000"}, ("NGAY_VAO_NOI_TRU", "date-order")),
    ({"NGAY_SINH": "202408000000"}, ("NGAY_SINH", "date-order")),
    ({"GT_THE_TU": "20251231", "GT_THE_DEN": "20250101"}, ("GT_THE_DEN", "date-order")),
    ({"GT_THE_DEN": "20251231;20261231"}, ("GT_THE_DEN", "card-count-mismatch")),
    ({"GT_THE_TU": "20250229"}, ("GT_THE_TU", "impossible-date")),
    ({"MA_THE_BHYT": "HS478859898000"}, ("MA_THE_BHYT", "bad-format")),
    ({"MA_BENH_KT": "I10;;E11.9"}, ("MA_BENH_KT", "bad-format")),
    ({"MA_BENH_CHINH": "J18.9\n"}, ("MA_BENH_CHINH", "bad-format")),   # Python's $ would allow this
    ({"MA_KHOA": "\ud800"}, ("MA_KHOA", "bad-character")),
])
def test_checks_beyond_the_schema(changes, expected):
    assert found(sample() | changes) == {expected}


def test_open_lists_keep_unknown_codes_of_the_right_format():
    assert validate(sample() | {"MA_DANTOC": "77", "MA_QUOCTICH": "999", "MA_NGHE_NGHIEP": "99999"}) == []
    assert found(sample() | {"MA_DANTOC": "7"}) == {("MA_DANTOC", "bad-format")}


def test_several_cards_line_up():
    rec = sample() | {"MA_THE_BHYT": "HS4788598980006;DN4791234567890", "MA_DKBD": "19001;79001",
                      "GT_THE_TU": "20240101;20250101", "GT_THE_DEN": "20241231;20251231"}
    assert validate(rec) == []


@pytest.mark.parametrize("thing", [None, [], "x", 3, 2.5, True])
def test_not_an_object(thing):
    assert found(thing) == {(None, "not-an-object")}


def test_generated_records_validate():
    recs = records(seed=7, n=300)
    assert recs == records(seed=7, n=300)
    for r in recs:
        assert validate(r) == [], r
    assert any(";" in r.get("MA_THE_BHYT", "") for r in recs)
    assert any(r["NGAY_SINH"].endswith("00000000") for r in recs)


@FAST
@given(valid_records())
def test_valid_records_always_validate(rec):
    assert validate(rec) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
NEAR = st.dictionaries(st.sampled_from(list(BY_NAME) + ["X", ""]), JSON | st.text(), max_size=20)


@FAST
@given(st.one_of(JSON, NEAR, valid_records().flatmap(
    lambda r: st.dictionaries(st.sampled_from(list(BY_NAME)), JSON, max_size=3).map(lambda m: r | m))))
def test_validate_never_raises(thing):
    problems = validate(thing)
    assert len({(p.field, p.code) for p in problems}) == len(problems)
    assert all(p.reason for p in problems)
