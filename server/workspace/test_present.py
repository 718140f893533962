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
