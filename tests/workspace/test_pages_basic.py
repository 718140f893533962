"""The workspace's first steps: signed out it sends to sign-in; signed in it finds and shows a patient."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from server.storage.base import Query

from .conftest import CCCD, browser, session_for

pytestmark = pytest.mark.anyio


async def test_signed_out_pages_send_to_sign_in_and_back(examples: FastAPI) -> None:
    async with browser(examples) as client:
        r = await client.get("/app/patient/x1?lang=en")
        assert r.status_code == 303
        assert r.headers["location"] == "/app/login?next=%2Fapp%2Fpatient%2Fx1%3Flang%3Den"


async def test_search_by_cccd_then_open_the_patient(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get("/app/", params={"q": CCCD})
    assert r.status_code == 200
    ids = re.findall(r'href="/app/patient/([^"]+)"', r.text)
    assert len(ids) == 1
    assert "Phan Ngọc An" in r.text and "Lâm Đồng" in r.text  # name and address tell namesakes apart
    page = await doctor.get(f"/app/patient/{ids[0]}")
    assert page.status_code == 200
    assert "<title>Hồ sơ của Phan Ngọc An" in page.text
    assert "HT3688357822248" in page.text and "31/12/2024" in page.text  # the card and its validity


async def test_a_patient_token_sees_only_its_own_patient(examples: FastAPI) -> None:
    async with browser(examples) as client:
        await session_for(examples, client, "patient/*.rs", patient="nobody-here", user="bn.x")
        r = await client.get("/app/", params={"q": CCCD})
        assert r.status_code == 200
        assert "/app/patient/" not in r.text


async def test_every_page_has_a_title_of_its_own(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get("/app/", params={"q": CCCD})
    pid = re.findall(r'href="/app/patient/([^"]+)"', r.text)[0]
    record = await doctor.get(f"/app/patient/{pid}")
    episode = re.search(rf'href="(/app/patient/{pid}/episode/[^"]+)"', record.text).group(1)  # type: ignore[union-attr]
    paper = re.search(rf'href="(/app/patient/{pid}/transfer/[^"]+)"', record.text).group(1)  # type: ignore[union-attr]
    titles = {}
    for path in ("/app/", f"/app/?q={CCCD}", f"/app/patient/{pid}", episode, paper, f"{paper}?print=1", "/app/tools", "/app/nowhere"):
        page = await doctor.get(path)
        titles[path] = re.search(r"<title>(.*?)</title>", page.text).group(1)  # type: ignore[union-attr]
        assert titles[path].endswith(" — Liên Thông"), titles[path]
    assert titles[f"{paper}?print=1"] == titles[paper]  # the print view is the paper itself
    del titles[f"{paper}?print=1"]
    assert len(set(titles.values())) == len(titles), titles  # each page says what it is
    assert titles[f"/app/patient/{pid}"] == "Hồ sơ của Phan Ngọc An — Liên Thông" and CCCD in titles[f"/app/?q={CCCD}"]
    assert titles["/app/nowhere"].startswith("Không tìm thấy")


async def test_the_header_warns_of_allergies(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get("/app/", params={"q": "001085012345"})  # examples/core/patient-bundle-trends.json
    pid = re.findall(r'href="/app/patient/([^"]+)"', r.text)[0]
    page = (await doctor.get(f"/app/patient/{pid}")).text
    allergy = re.search(r'<div class="allergy" role="note">(.*?)</div>', page, re.S)
    assert allergy is not None and "Penicillin: Nổi mày đay, khó thở" in allergy.group(1) and "nguy cơ cao" in allergy.group(1)
    found = await doctor.get("/app/", params={"q": CCCD})
    other_id = re.findall(r'href="/app/patient/([^"]+)"', found.text)[0]
    other = (await doctor.get(f"/app/patient/{other_id}")).text
    assert 'class="allergy"' not in other  # no allergy recorded, no warning


async def test_the_record_leaves_the_audit_trail_out(examples: FastAPI) -> None:
    """Each view adds an AuditEvent to the patient's compartment; the page does not read them back,
    or every view of a record would be slower than the last."""
    from server.workspace.reading import record

    async with browser(examples) as client:
        await session_for(examples, client, "user/*.rs user/AuditEvent.rs", user="kiem.toan")
        pid = re.findall(r'href="/app/patient/([^"]+)"', (await client.get("/app/", params={"q": CCCD})).text)[0]
        for _ in range(3):
            assert (await client.get(f"/app/patient/{pid}")).status_code == 200
    await examples.state.audit.flush()
    everything, cut = await record(examples.state.repo, pid)
    audit = await examples.state.repo.store.search(Query("AuditEvent", None, limit=100))
    assert len(audit.versions) >= 4  # the views were audited (the search, the three pages)
    assert "AuditEvent" not in {r["resourceType"] for r in everything} and len(everything) > 5 and not cut


async def test_a_record_larger_than_a_page_reads_says_so(doctor: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.workspace import reading

    pid = re.findall(r'href="/app/patient/([^"]+)"', (await doctor.get("/app/", params={"q": "001085012345"})).text)[0]
    assert "Hồ sơ quá lớn" not in (await doctor.get(f"/app/patient/{pid}")).text
    monkeypatch.setattr(reading, "MAX_RECORD", 1)
    page = (await doctor.get(f"/app/patient/{pid}", params={"lang": "en"})).text
    assert "The record is too large" in page
