"""Small builders shared by the REST tests."""

from __future__ import annotations

from typing import Any

JSON = {"Content-Type": "application/fhir+json"}


def patient(cccd: str = "001085012345", family: str = "Nguyễn", given: str = "Văn An", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:test:cccd", "value": cccd}],
        "name": [{"family": family, "given": given.split()}],
        "gender": "male",
        "birthDate": "1985-07-14",
        **extra,
    }


def issues(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"]


def expressions(body: dict[str, Any]) -> set[str]:
    return {e for i in issues(body) for e in i.get("expression", [])}
