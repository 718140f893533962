"""Finding a patient by each thing a doctor may have in hand (issue 15's list)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.rest.conftest import client_for, token_for

from .conftest import CCCD

pytestmark = pytest.mark.anyio


def _listed(page: str) -> list[str]:
    return re.findall(r'href="/app/patient/([^"]+)"', page)


async def _find(client: httpx.AsyncClient, q: str, kind: str = "auto") -> list[str]:
    r = await client.get("/app/", params={"q": q, "kind": kind})
    assert r.status_code == 200, r.text
    return _listed(r.text)


async def test_each_identifier_finds_the_same_patient(doctor: httpx.AsyncClient) -> None:
    # examples/transfer54/record-1.json: CCCD, card, facility patient id, episode code (MA_LK)
    (pid,) = await _find(doctor, CCCD)
    assert await _find(doctor, "HT3688357822248") == [pid]
    assert await _find(doctor, "ht3688357822248", "bhyt") == [pid]  # cards are written in capitals
    assert await _find(doctor, "BN6410524") == [pid]
    assert await _find(doctor, "BN6410524", "pid") == [pid]
    assert await _find(doctor, "CT240700000057") == [pid]
    assert await _find(doctor, "CT240700000057", "malk") == [pid]
    assert await _find(doctor, "CT240700000057", "cccd") == []  # the chosen kind is the one searched
    assert await _find(doctor, "000000000000") == []


async def test_names_are_found_without_accents_and_namesakes_told_apart(doctor: httpx.AsyncClient) -> None:
    app = doctor._transport.app  # type: ignore[attr-defined]
    async with client_for(app, await token_for(app)) as fhir:
        for born, city in (("1950-02-03", "Huế"), ("1988-11-30", "Cần Thơ")):
            r = await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": "Nguyễn", "given": ["Văn", "Đức"], "text": "Nguyễn Văn Đức"}],
                                                 "gender": "male", "birthDate": born, "address": [{"city": city}]})
            assert r.status_code == 201, r.text
    r = await doctor.get("/app/", params={"q": "nguyen van duc"})
    assert len(_listed(r.text)) == 2
    assert "03/02/1950" in r.text and "30/11/1988" in r.text and "Huế" in r.text and "Cần Thơ" in r.text
    assert len(await _find(doctor, "NGUYỄN VĂN ĐỨC")) == 2
    assert await _find(doctor, "nguyen van dung") == []


async def test_the_result_names_the_last_facility(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get("/app/", params={"q": CCCD})
    row = re.search(r"<tbody>(.*)</tbody>", r.text, re.S).group(1)  # type: ignore[union-attr]
    assert "92001" in row and "19/07/2024" in row  # record-1's facility (MA_CSKCB) and its episode's date


async def test_odd_input_is_a_page_not_an_error(doctor: httpx.AsyncClient) -> None:
    for q in ("|", "\\", "a,b", "$x", "<script>alert(1)</script>", "x" * 500, "%", "  "):
        r = await doctor.get("/app/", params={"q": q})
        assert r.status_code == 200, (q, r.status_code)
        assert "<script>alert" not in r.text
    r = await doctor.get("/app/", params={"q": CCCD, "kind": "nonsense"})
    assert r.status_code == 200 and len(_listed(r.text)) == 1
