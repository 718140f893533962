"""How FHIR values read on the pages."""

from __future__ import annotations

from datetime import date

from . import present
from .find import kind_of


def test_names_dates_and_ages() -> None:
    assert present.name({"name": [{"use": "usual", "text": "An"}, {"use": "official", "family": "Phan", "given": ["Ngọc", "An"]}]}) == "Phan Ngọc An"
    assert present.day("2024-07-19T05:12:00+07:00") == "19/07/2024" and present.day("1943") == "1943"
    assert present.moment("2024-07-19T05:12:00+07:00") == "19/07/2024 05:12"
    assert present.age("2000-07-20", date(2024, 7, 19)) == 23 and present.age("2000-07-19", date(2024, 7, 19)) == 24
    assert present.age("1943", date(2024, 1, 1)) == 81 and present.age(None) is None and present.age("19xx") is None


def test_identifiers_each_once_with_their_facility() -> None:
    patient = {"identifier": [
        {"system": "http://fhir.ehealth.gov.vn/core/sid/national_id", "value": "068532215795"},
        {"system": "https://lienthong.dev/fhir/sid/ma-bn/92001", "value": "BN6410524"},
        {"system": "http://fhir.ehealth.gov.vn/core/sid/patient-internal-id", "value": "BN6410524"},
        {"system": "http://fhir.ehealth.gov.vn/core/sid/patient-internal-id", "value": "BN-OTHER"},
    ]}
    assert present.identifiers(patient, "vi") == [("CCCD", "068532215795"), ("Mã BN tại 92001", "BN6410524"), ("Mã BN", "BN-OTHER")]
    assert present.identifiers(patient, "en")[1] == ("Patient id at 92001", "BN6410524")


def test_what_was_typed_decides_the_search() -> None:
    assert kind_of("068532215795") == "cccd"
    assert kind_of("ht3688357822248") == "bhyt"
    assert kind_of("nguyen van duc") == "name" and kind_of("Nguyễn Văn Đức") == "name"
    assert kind_of("CT240700000057") == "any-id" and kind_of("BN6410524") == "any-id"


def test_every_word_is_defined_once() -> None:
    """A key written twice in the table would silently keep only its last meaning."""
    import ast
    from collections import Counter
    from pathlib import Path

    from . import i18n

    tree = ast.parse(Path(i18n.__file__).read_text(encoding="utf-8"))
    table = next(n for n in ast.walk(tree) if isinstance(n, ast.Dict) and len(n.keys) > 50)
    twice = [k for k, n in Counter(k.value for k in table.keys if isinstance(k, ast.Constant)).items() if n > 1]
    assert twice == []
