"""The workspace's addresses, built in one place (ids are FHIR ids: nothing in them to escape in a
path, though pages still escape the whole address where they put it into HTML)."""

from __future__ import annotations


def patient(patient_id: str) -> str:
    return f"/app/patient/{patient_id}"


def episode(patient_id: str, encounter_id: str) -> str:
    return f"{patient(patient_id)}/episode/{encounter_id}"


def transfer(patient_id: str, encounter_id: str) -> str:
    """The transfer paper of an episode (``?print=1``: its print view; ``/record.json``… its downloads)."""
    return f"{patient(patient_id)}/transfer/{encounter_id}"
