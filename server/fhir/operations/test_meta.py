"""The Meta arithmetic of $meta-add / $meta-delete and the checking of their argument."""

from __future__ import annotations

import pytest

from server.fhir.operations.meta import added, deleted, meta_argument
from server.fhir.outcome import FhirError

CURRENT = {"versionId": "2", "profile": ["http://p/a"], "tag": [{"system": "s", "code": "a", "display": "A"}]}


def test_add_keeps_what_is_there_and_adds_the_rest_once() -> None:
    out = added(CURRENT, {"profile": ["http://p/a", "http://p/b"], "tag": [{"system": "s", "code": "a"}, {"system": "s", "code": "b"}],
                          "security": [{"system": "v3", "code": "R"}]})
    assert out["versionId"] == "2"
    assert out["profile"] == ["http://p/a", "http://p/b"]
    assert out["tag"] == [{"system": "s", "code": "a", "display": "A"}, {"system": "s", "code": "b"}]
    assert out["security"] == [{"system": "v3", "code": "R"}]


def test_delete_matches_profiles_by_url_and_codings_by_system_and_code() -> None:
    out = deleted(CURRENT, {"profile": ["http://p/a"], "tag": [{"system": "s", "code": "a", "display": "other"}], "security": [{"system": "x", "code": "y"}]})
    assert out == {"versionId": "2"}
    assert deleted(CURRENT, {"tag": [{"system": "other", "code": "a"}]})["tag"] == CURRENT["tag"]


@pytest.mark.parametrize("body", [
    {"resourceType": "Patient"},
    {"resourceType": "Parameters", "parameter": []},
    {"resourceType": "Parameters", "parameter": [{"name": "meta", "valueMeta": {"tag": "x"}}]},
    {"resourceType": "Parameters", "parameter": [{"name": "meta", "valueMeta": {"tag": [{"system": "s"}]}}]},
    {"resourceType": "Parameters", "parameter": [{"name": "meta", "valueMeta": {"profile": [3]}}]},
])
def test_a_bad_argument_is_400(body: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(FhirError) as err:
        meta_argument(body)
    assert err.value.status == 400


def test_the_argument() -> None:
    meta = {"tag": [{"system": "s", "code": "a"}]}
    assert meta_argument({"resourceType": "Parameters", "parameter": [{"name": "meta", "valueMeta": meta}]}) == meta
