"""The field definition and the generated schema stay in shape and in sync."""
import json
from pathlib import Path

from jsonschema import Draft202012Validator

from mappings.transfer54 import BY_NAME, CODE_TABLES, FIELDS
from mappings.transfer54.schema import SCHEMA_PATH, build_schema, render


def test_54_fields_in_position_order():
    assert [f.position for f in FIELDS] == list(range(1, 55))
    assert len(BY_NAME) == 54
    assert {f.name for f in FIELDS if f.multi} == {
        "MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN", "MA_BENH_KT", "MA_BENH_YHCT"}
    assert BY_NAME["CAN_NANG"].kind == "decimal" and BY_NAME["DAU_HIEU_LS"].max_length is None


def test_code_tables():
    assert CODE_TABLES["gender"].closed and list(CODE_TABLES["gender"].codes) == ["1", "2", "3"]
    assert list(CODE_TABLES["encounter-type"].codes) == [f"{i:02d}" for i in range(1, 11)]
    assert not CODE_TABLES["ethnicity"].closed and len(CODE_TABLES["ethnicity"].codes) == 55
    assert CODE_TABLES["ethnicity"].codes["02"].vi == "Tày"


def test_committed_schema_is_generated():
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == build_schema(), \
        "schema.json is stale: run python -m mappings.transfer54.schema"
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render()


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(build_schema())


def test_schema_alone_accepts_samples():
    v = Draft202012Validator(build_schema())
    for path in (Path(__file__).parent / "testdata").glob("t54-*.json"):
        assert list(v.iter_errors(json.loads(path.read_text(encoding="utf-8")))) == []
