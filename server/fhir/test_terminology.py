"""$lookup, $validate-code and value-set membership over the project's code systems."""
from __future__ import annotations

import pytest

import profiles
from mappings.transfer54.fields import CODE_TABLES
from server.fhir.outcome import FhirError
from server.fhir.terminology import lookup, validate_code, value_set_contains

GENDER, ETHNICITY, NATIONALITY = profiles.CS["t54-gender"], profiles.CS["t54-ethnicity"], profiles.CS["t54-nationality"]
VS_GENDER, VS_ETHNICITY, VS_NATIONALITY = (profiles.VS[f"vs-{i}"] for i in ("t54-gender", "t54-ethnicity", "t54-nationality"))


def _params(p: dict) -> dict[str, list]:
    assert p["resourceType"] == "Parameters"
    out: dict[str, list] = {}
    for item in p["parameter"]:
        value = item.get("part") or next(v for k, v in item.items() if k.startswith("value"))
        out.setdefault(item["name"], []).append(value)
    return out


def _status(exc: pytest.ExceptionInfo) -> tuple[int, str]:
    return exc.value.status, exc.value.issues[0].code


def test_lookup_gives_display_version_and_vietnamese_designation() -> None:
    p = _params(lookup(GENDER, "2"))
    assert p["name"] == ["T54Gender"] and p["version"] == ["0.1.0"] and p["display"] == ["Female"]
    assert p["designation"] == [[{"name": "language", "valueCode": "vi"}, {"name": "value", "valueString": "Nữ"}]]
    assert _params(lookup(GENDER, "2", display_language="vi-VN"))["display"] == ["Nữ"]
    assert _params(lookup(f"{GENDER}|0.1.0", "1"))["display"] == ["Male"]


def test_lookup_covers_every_listed_code() -> None:
    for name, table in CODE_TABLES.items():
        for code, c in table.codes.items():
            p = _params(lookup(profiles.CS[f"t54-{name}"], code, display_language="vi"))
            assert p["display"] == [c.vi]


@pytest.mark.parametrize("system,code,version,status,why", [
    ("https://example.org/unknown", "1", None, 404, "Unknown code system"),
    (GENDER, "9", None, 404, "is not in code system"),
    (ETHNICITY, "99", None, 404, "may still exist"),
    (NATIONALITY, "VN", None, 404, "not-present"),
    (GENDER, "1", "9.9", 404, "version '9.9' is not known"),
    (GENDER, "", None, 400, "non-empty"),
    (f"{GENDER}|0.1.0", "1", "0.2.0", 400, "differs"),
])
def test_lookup_failures(system: str, code: str, version: str | None, status: int, why: str) -> None:
    with pytest.raises(FhirError) as exc:
        lookup(system, code, version)
    assert exc.value.status == status and why in str(exc.value)
    assert exc.value.issues[0].code == ("not-found" if status == 404 else "invalid")


def test_value_set_contains_is_three_valued() -> None:
    assert value_set_contains(VS_GENDER, GENDER, "1") is True
    assert value_set_contains(VS_GENDER, GENDER, "4") is False
    assert value_set_contains(VS_GENDER, ETHNICITY, "1") is False  # right code, other system
    assert value_set_contains(VS_GENDER, None, "2") is True
    assert value_set_contains(f"{VS_GENDER}|0.1.0", GENDER, "3") is True
    assert value_set_contains(VS_ETHNICITY, ETHNICITY, "01") is True
    assert value_set_contains(VS_ETHNICITY, ETHNICITY, "99") is None  # fragment, unlisted
    assert value_set_contains(VS_NATIONALITY, NATIONALITY, "VN") is None  # not-present
    assert value_set_contains(VS_NATIONALITY, GENDER, "1") is False
    with pytest.raises(FhirError) as exc:
        value_set_contains("https://example.org/ValueSet/x", GENDER, "1")
    assert _status(exc) == (404, "not-found")


def test_every_project_value_set_holds_its_code_system() -> None:
    for cs_id, url in profiles.CS.items():
        vs = profiles.VS[f"vs-{cs_id}"]
        cs = next(r for r in profiles.resources().values() if r.get("url") == url)
        for concept in cs.get("concept", []):
            assert value_set_contains(vs, url, concept["code"]) is True
        expected_unlisted = False if cs["content"] == "complete" else None
        assert value_set_contains(vs, url, "no-such-code") is expected_unlisted


def test_validate_code_true_false_and_display() -> None:
    ok = _params(validate_code(VS_GENDER, GENDER, "1"))
    assert ok == {"result": [True], "display": ["Male"]}
    assert _params(validate_code(VS_GENDER, None, "1"))["result"] == [True]  # the only system is inferred
    bad = _params(validate_code(VS_GENDER, GENDER, "7"))
    assert bad["result"] == [False] and "not in value set" in bad["message"][0]
    assert _params(validate_code(VS_GENDER, GENDER, "2", display="Nữ"))["result"] == [True]
    wrong = _params(validate_code(VS_GENDER, GENDER, "2", display="Male"))
    assert wrong["result"] == [False] and "Display 'Male' is wrong" in wrong["message"][0] and wrong["display"] == ["Female"]


def test_validate_code_with_coding_and_codeable_concept() -> None:
    assert _params(validate_code(VS_GENDER, None, None, coding={"system": GENDER, "code": "3"}))["result"] == [True]
    cc = {"coding": [{"system": "http://loinc.org", "code": "x"}, {"system": GENDER, "code": "1"}]}
    assert _params(validate_code(VS_GENDER, None, None, codeable_concept=cc))["result"] == [True]
    cc_bad = {"coding": [{"system": GENDER, "code": "8"}, {"system": GENDER}]}
    res = _params(validate_code(VS_GENDER, None, None, codeable_concept=cc_bad))
    assert res["result"] == [False] and "'8'" in res["message"][0] and "no code" in res["message"][0]


def test_validate_code_unchecked_open_list_is_true_with_a_message() -> None:
    res = _params(validate_code(VS_NATIONALITY, NATIONALITY, "VN"))
    assert res["result"] == [True] and "unchecked" in res["message"][0]
    assert _params(validate_code(VS_ETHNICITY, ETHNICITY, "01"))["display"] == ["Kinh"]


@pytest.mark.parametrize("kwargs,status", [
    ({"url": "https://example.org/ValueSet/x", "system": GENDER, "code": "1"}, 404),
    ({"url": VS_GENDER, "system": GENDER, "code": "1", "value_set_version": "2"}, 404),
    ({"url": None, "system": GENDER, "code": "1"}, 400),
    ({"url": VS_GENDER, "system": GENDER, "code": None}, 400),
    ({"url": VS_GENDER, "system": None, "code": None, "coding": "x"}, 400),
    ({"url": VS_GENDER, "system": None, "code": None, "codeable_concept": {"coding": []}}, 400),
    ({"url": VS_GENDER, "system": None, "code": None, "codeable_concept": {"coding": 3}}, 400),
])
def test_validate_code_errors(kwargs: dict, status: int) -> None:
    with pytest.raises(FhirError) as exc:
        validate_code(**kwargs)
    assert exc.value.status == status
