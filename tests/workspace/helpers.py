"""Finding the examples' patients and episodes through the FHIR API, for the workspace tests."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

from profiles import EXT, SID
from tests.rest.conftest import client_for, token_for


async def fhir(app: FastAPI) -> httpx.AsyncClient:
    """A FHIR client with a full-access token (the operations the pages are compared with)."""
    return client_for(app, await token_for(app))


async def encounters(app: FastAPI) -> list[dict[str, Any]]:
    async with await fhir(app) as api:
        r = await api.get("Encounter", params={"_count": "50"})
        return [e["resource"] for e in r.json()["entry"]]


def patient_of(encounter: dict[str, Any]) -> str:
    return encounter["subject"]["reference"].split("/")[-1]


def is_insurance(encounter: dict[str, Any]) -> bool:
    return any(e["url"] == EXT["bhyt-standard"] for e in encounter.get("extension", []))


async def transfer_episodes(app: FastAPI) -> set[str]:
    """Ids of the Encounters a transfer letter refers to."""
    async with await fhir(app) as api:
        r = await api.get("DocumentReference", params={"_count": "50"})
        docs = [e["resource"] for e in r.json().get("entry", [])]
    assert len(docs) < 50  # all of them on one page
    letters = [d for d in docs if any(i["system"] == SID["so-chuyen-tuyen"] for i in d.get("identifier", []))]
    return {d["context"]["encounter"][0]["reference"].split("/")[-1] for d in letters}


async def patient_id(client: httpx.AsyncClient, query: str) -> str:
    r = await client.get("/app/", params={"q": query})
    ids = re.findall(r'href="/app/patient/([^"]+)"', r.text)
    assert len(ids) == 1, r.text
    return ids[0]
