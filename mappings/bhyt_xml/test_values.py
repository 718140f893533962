import copy
import json
from pathlib import Path

import pytest

from .envelope import Episode, read_envelope
from .layouts import layout, layouts
from .values import _PATH, check_episode, max_length, rules, trimmed

DATA = Path(__file__).with_name("testdata")


def sample(std: str) -> list[Episode]:
    return list(read_envelope(DATA / f"giamdinhhs-{std}.xml"))


def with_value(std: str, table: str, field: str, value: str | None, record: int = 1) -> Episode:
    """The first sample episode of ``std`` having ``table``, with one value replaced (None: removed)."""
    ep = copy.deepcopy(next(e for e in sample(std) if len(e.tables.get(table, [])) >= record))
    rec = ep.tables[table][record - 1]
    if value is None:
        rec.pop(field, None)
    else:
        rec[field] = value
    return ep


@pytest.mark.parametrize("std", ["130", "4210"])
def test_sample_files_pass(std):
    eps = sample(std)
    assert eps and all(isinstance(e, Episode) for e in eps)
    assert [check_episode(e) for e in eps] == [[]] * len(eps)


def test_message_names_table_record_and_field():
    ep = with_value("130", "XML1", "NGAY_VAO", "202502301200")
    assert check_episode(ep) == [
        "XML1 record 1 NGAY_VAO: 202502301200 is not a valid date and time (yyyyMMddHHmm)"]


# (standard, table, field, bad value, words the reason must contain)
BAD = [
    ("130", "XML1", "MA_LK", None, "missing"),
    ("130", "XML1", "MA_LK", "  ", "empty"),
    ("4210", "XML1", "MA_LK", "", "empty"),
    ("130", "XML3", "MA_LK", "OTHER", "differs from the episode's MA_LK"),
    ("4210", "XML2", "MA_LK", "OTHER", "differs from the episode's MA_LK"),
    ("130", "XML1", "SO_NGAY_DTRI", "4.5", "not an integer"),
    ("4210", "XML1", "NAM_QT", "２０１９", "not an integer"),
    ("130", "XML3", "SO_LUONG", "1e3", "not a decimal number"),
    ("130", "XML1", "T_BNTT", "50000,50", "',' as the decimal separator"),  # refused under --strict (a warning by default)
    ("4210", "XML2", "DON_GIA", "12.", "not a decimal number"),
    ("130", "XML1", "HO_TEN", "Nguyễn " * 40, "more than the published maximum of 255"),
    ("130", "XML3", "DON_VI_TINH", "x" * 51, "more than the published maximum of 50"),
    ("130", "XML1", "GT_THE_TU", "20250101;20250230", "item 2"),
    ("4210", "XML1", "GT_THE_DEN", "2022-12-31", "valid date (yyyyMMdd)"),
    ("130", "XML1", "NGAY_TAI_KHAM", "20250301;2025", "item 2"),
    ("130", "XML7", "NGAY_CT", "202504121200", "valid date (yyyyMMdd)"),
    ("130", "XML14", "NGAY_HEN_KL", "20250231", "valid date"),
    ("4210", "XML2", "NGAY_YL", "201907241", "valid date and time"),
    ("130", "XML1", "NGAY_SINH", "198500140000", "birth date"),
    ("130", "XML1", "NGAY_SINH", "198507001230", "birth date"),
    ("130", "XML1", "NGAY_SINH", "19850714", "birth date"),
    ("4210", "XML1", "NGAY_SINH", "19851300", "birth date"),
    ("130", "XML1", "GIOI_TINH", "4", "closed code list"),
    ("4210", "XML1", "GIOI_TINH", "0", "closed code list"),
    ("130", "XML1", "KET_QUA_DTRI", "8", "closed code list"),
    ("4210", "XML1", "KET_QUA_DTRI", "0", "closed code list"),
    ("130", "XML1", "MA_LOAI_RV", "5", "closed code list"),
    ("4210", "XML1", "TINH_TRANG_RV", "5", "closed code list"),
    ("130", "XML1", "MA_CSKCB", "4200", "facility code (5 digits)"),
    ("130", "XML1", "MA_DKBD", "19001;1900A", "facility code"),
    ("4210", "XML1", "MA_DKBD", "019290", "facility code"),
    ("130", "XML14", "MA_CSKCB", "42 01", "facility code"),
    ("130", "XML1", "SO_CCCD", "29397069956", "12 digits"),
    ("130", "XML1", "MA_DOITUONG_KCB", "1.123", "published maximum of 4"),
    ("130", "XML15", "SO_CCCD", "ABC970699565", "12 digits"),
    ("130", "XML1", "MA_DANTOC", "1", "ethnicity code (2 digits)"),
    ("130", "XML1", "MA_THE_BHYT", "HS4788598980006;HS47885", "health-insurance card"),
    ("4210", "XML1", "MA_THE", "HS478859898000", "health-insurance card"),
    ("130", "XML14", "MA_THE_BHYT", "4S4788598980006", "health-insurance card"),
]


@pytest.mark.parametrize("std,table,field,bad,words", BAD, ids=[f"{b[0]}-{b[1]}-{b[2]}-{b[3]!r}"[:60] for b in BAD])
def test_each_rule_is_reported_with_its_field(std, table, field, bad, words):
    problems = check_episode(with_value(std, table, field, bad))
    assert problems, "the broken value passed"
    assert all(p.startswith(f"{table} record 1 {field}: ") for p in problems), problems
    assert any(words in p for p in problems), problems


def test_closed_list_of_the_transfer_reason():
    ep = Episode("L1", "130", {"XML1": [{"MA_LK": "L1"}],
                               "XML13": [{"MA_LK": "L1", "MA_LYDO_CT": "3", "GIOI_TINH": "3", "MA_LOAI_RV": "4"}]})
    assert check_episode(ep) == ["XML13 record 1 MA_LYDO_CT: 3 is not in the closed code list "
                                 "(1 indicated and eligible, 2 at the patient's request)"]


GOOD = [
    ("130", "XML1", "GIOI_TINH", " 2 "),  # compared after trimming
    ("130", "XML1", "NGAY_VAO", ""),  # empty values are not checked
    ("130", "XML1", "SO_CCCD", "   "),
    ("130", "XML1", "NGAY_SINH", "198500000000"),
    ("130", "XML1", "NGAY_SINH", "198507000000"),
    ("130", "XML1", "NGAY_SINH", "198507140000"),
    ("130", "XML1", "NGAY_SINH", "000402291230"),
    ("4210", "XML1", "NGAY_SINH", "19850000"),
    ("4210", "XML1", "NGAY_SINH", "198507141230"),
    ("130", "XML1", "GT_THE_TU", "20240101;20250101;20260101"),
    ("4210", "XML1", "MA_THE", "DN4791234567890;HS4788598980006"),
    ("130", "XML1", "MA_DANTOC", "56"),  # open list: only the shape is fixed
    ("130", "XML1", "MA_LOAI_KCB", "11"),  # grows: not a closed list
    ("4210", "XML1", "MA_LOAI_KCB", "123"),  # 4210 codes differ from 130's: not closed either
    ("4210", "XML1", "HO_TEN", "Nguyễn " * 200),  # 4210 limits are inferred, not published
    ("130", "XML14", "NGAY_HEN_KL", "202504191530"),  # inferred width: either form
    ("130", "XML1", "MAXA_CU_TRU", "28446"),  # corrected published limit (values.json)
    ("130", "XML1", "MA_DOITUONG_KCB", "1.12"),  # 4750 raised the limit to 4 (published.json: every source)
    ("130", "XML1", "T_TONGCHI_BV", "-0"),
    ("130", "XML1", "T_TONGCHI_BV", "0012.50"),
    ("130", "XML1", "STT", "+007"),
    ("130", "XML1", "MA_BENH_CHINH", "<&]]>"),
    ("130", "XML1", "UNKNOWN_FIELD", "1e3"),  # unknown to both standards: not checked
]


@pytest.mark.parametrize("std,table,field,value", GOOD, ids=[f"{g[0]}-{g[2]}-{g[3]!r}"[:50] for g in GOOD])
def test_what_the_spec_allows_passes(std, table, field, value):
    assert check_episode(with_value(std, table, field, value)) == []


def test_every_problem_at_once():
    ep = with_value("130", "XML1", "GIOI_TINH", "9")
    ep.tables["XML1"][0].update(NGAY_RA="2025", T_THUOC="abc")
    ep.tables["XML3"][0]["MA_LK"] = "X"
    problems = check_episode(ep)
    assert len(problems) == 4
    assert [p.split(":")[0] for p in problems] == [
        "XML1 record 1 GIOI_TINH", "XML1 record 1 NGAY_RA", "XML1 record 1 T_THUOC", "XML3 record 1 MA_LK"]


def test_record_numbers_are_one_based():
    ep = with_value("4210", "XML2", "SO_LUONG", "x", record=2)
    assert check_episode(ep) == ["XML2 record 2 SO_LUONG: x is not a decimal number "
                                 "(ASCII digits, optional sign, '.' as separator)"]


def test_table_outside_the_standard_and_single_tables():
    ep = Episode("L", "4210", {"XML1": [{"MA_LK": "L"}], "XML7": [{"MA_LK": "L"}]})
    assert check_episode(ep) == ["XML7: no such table in standard 4210"]
    ep = Episode("L", "130", {"XML1": [{"MA_LK": "L"}, {"MA_LK": "L"}]})
    assert check_episode(ep) == ["XML1: holds one record, got 2"]
    assert check_episode(Episode(" ", "130", {"XML1": [{"MA_LK": "L"}]}))[0] == "episode: MA_LK is empty"


def test_only_published_limits_count():
    lay = layout("4210", "XML1")
    assert lay.field("NGAY_SINH").max_length == 12 and max_length("4210", "XML1", lay.field("NGAY_SINH")) is None
    assert max_length("130", "XML1", layout("130", "XML1").field("HO_TEN")) == 255
    assert max_length("130", "XML1", layout("130", "XML1").field("MAXA_CU_TRU")) == 5


def test_rules_are_data_that_fits_the_layouts():
    raw = json.loads(_PATH.read_text(encoding="utf-8"))
    r = rules()
    for std, tables in raw["fields"].items():
        for table, fields in tables.items():
            lay = layout(std, table)
            for name, spec in fields.items():
                f = lay.field(name)
                assert f is not None, (std, table, name)
                assert set(spec) <= {"format", "list", "codes"}
                assert ("format" in spec) != ("codes" in spec)
                if "codes" in spec:
                    assert spec["codes"] in r.code_lists
                else:
                    assert spec["format"] in r.formats
    # every table of every standard has rules (3176 inherits 130's: only its own are written), and
    # the spec's closed lists are all there
    assert {s: set(t) for s, t in raw["fields"].items() if s != "3176"} == {s: set(layouts(s)) for s in ("130", "4210")}
    assert raw["inherits"]["3176"] == "130" and set(raw["fields"]["3176"]) == {"XML13"}
    assert {t for (s, t) in r.fields if s == "3176"} == set(layouts("3176"))
    assert "MA_NOI_DI" not in r.fields[("3176", "XML13")]  # 3176 names it MA_CSKCB_DI: a list of facilities
    assert r.fields[("3176", "XML13")]["MA_CSKCB_DI"].list and r.fields[("3176", "XML1")] == r.fields[("130", "XML1")]
    assert list(r.code_lists["sex"]) == ["1", "2", "3"]
    assert list(r.code_lists["treatment_result"]) == [str(i) for i in range(1, 8)]
    assert list(r.code_lists["discharge_type"]) == ["1", "2", "3", "4"]
    assert list(r.code_lists["transfer_reason"]) == ["1", "2"]
    assert "MA_LOAI_KCB" not in raw["fields"]["4210"]["XML1"]


def test_trimmed_is_the_read_back_form():
    ep = Episode(" L ", "130", {"XML1": [{"MA_LK": " L", "HO_TEN": "\tAn \r\n"}]})
    assert trimmed(ep) == Episode("L", "130", {"XML1": [{"MA_LK": "L", "HO_TEN": "An"}]})


def test_the_summary_table_is_required():
    assert check_episode(Episode("L1", "130", {"XML2": [{"MA_LK": "L1"}]})) == [
        "XML1: missing (the episode summary, which carries MA_LK, must have one record)"]
    assert check_episode(Episode("L1", "130", {"XML1": [{"HO_TEN": "A"}]})) == ["XML1 record 1 MA_LK: missing"]
    assert check_episode(Episode("L1", "130", {"XML1": [{"MA_LK": "  "}]})) == ["XML1 record 1 MA_LK: empty"]


def test_the_import_policy_accepts_what_real_files_carry_unless_strict():
    from .values import review_episode

    ep = with_value("130", "XML1", "MA_TTDV", "004078/CT-CCHN")
    ep.tables["XML1"][0]["SO_CCCD"] = "0790851234"
    ep.tables["XML1"][0]["T_TONGCHI_BV"] = "1500,50"
    lenient, strict = review_episode(ep), review_episode(ep, strict=True)
    assert lenient.errors == [] and len(lenient.warnings) == 3
    assert sorted(w.split(":")[0] for w in lenient.warnings) == ["XML1 record 1 MA_TTDV", "XML1 record 1 SO_CCCD", "XML1 record 1 T_TONGCHI_BV"]
    assert strict.warnings == [] and strict.errors == check_episode(ep) and len(strict.errors) == 3
    broken = with_value("130", "XML1", "T_TONGCHI_BV", "1.500,50")  # thousands separators: not a number, refused
    assert review_episode(broken).errors and not review_episode(broken).warnings


def test_unknown_fields_are_warned_in_every_mode():
    """Elements no layout has (hospital software adds them) are kept and written back: a warning
    naming them, with or without --strict, and no error."""
    from .values import review_episode

    ep = with_value("130", "XML1", "MA_KV", "K2")
    ep.tables["XML2"] = [{"MA_LK": ep.ma_lk, "STT": "1", "MA_THE": "x"}]  # a 4210 field in a 130 table
    for strict in (False, True):
        review = review_episode(ep, strict=strict)
        assert review.errors == []
        assert [w.split(":")[0] + ":" + w.split(":")[1] for w in review.warnings] == [
            "XML1 record 1: MA_KV", "XML2 record 1: MA_THE"]
    assert check_episode(ep) == []


def test_the_assessment_table_has_no_episode_key():
    """XML12 (medical assessment) has no MA_LK: its records are not asked for one."""
    ep = with_value("130", "XML1", "HO_TEN", "A")
    ep.tables["XML12"] = [{"NGUOI_CHU_TRI": "B", "NGAY_HOP": "20250230"}]
    assert check_episode(ep) == ["XML12 record 1 NGAY_HOP: 20250230 is not a valid date (yyyyMMdd)"]
