"""Reading a $validate request: resource or Parameters body, mode and profile from both places."""

from __future__ import annotations

import pytest

from server.fhir.operations.validate import read_request
from server.fhir.outcome import FhirError

PATIENT = {"resourceType": "Patient"}


def params(*parameter: dict) -> dict:
    return {"resourceType": "Parameters", "parameter": list(parameter)}


def test_plain_resource_body() -> None:
    assert read_request(PATIENT, []) == (PATIENT, None, [])


def test_parameters_body_with_mode_and_profiles() -> None:
    body = params({"name": "resource", "resource": PATIENT}, {"name": "mode", "valueCode": "update"}, {"name": "profile", "valueCanonical": "urn:a"})
    assert read_request(body, [("profile", "urn:b"), ("profile", "urn:a")]) == (PATIENT, "update", ["urn:a", "urn:b"])


def test_query_mode_alone_and_empty_body() -> None:
    assert read_request(None, [("mode", "delete")]) == (None, "delete", [])


@pytest.mark.parametrize(("body", "query"), [
    (PATIENT, [("mode", "nonsense")]),
    (params({"name": "mode", "valueCode": "create"}), [("mode", "update")]),
    (params({"valueCode": "create"}), []),
    (params({"name": "profile", "valueInteger": 3}), []),
])
def test_bad_requests_are_400(body: dict, query: list) -> None:
    with pytest.raises(FhirError) as err:
        read_request(body, query)
    assert err.value.status == 400
