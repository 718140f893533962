"""One episode's page: its facts, diagnoses, care and documents, and its insurance tables as $bhyt-xml writes them."""

from __future__ import annotations

import base64

import httpx
import pytest
from fastapi import FastAPI

from .conftest import CCCD
from .helpers import encounters, fhir, is_insurance, patient_id, patient_of

pytestmark = pytest.mark.anyio


async def _insurance_episode(app: FastAPI) -> dict:
    """An insurance episode with medicines (the first example of giamdinhhs-130)."""
    return next(e for e in await encounters(app) if is_insurance(e) and e["period"]["start"].startswith("2024-12-15"))


async def test_insurance_tables_are_shown_and_downloadable(doctor: httpx.AsyncClient, examples: FastAPI) -> None:
    encounter = await _insurance_episode(examples)
    pid, eid = patient_of(encounter), encounter["id"]
    r = await doctor.get(f"/app/patient/{pid}/episode/{eid}")
    assert r.status_code == 200
    assert 'style="' not in r.text and "<script" not in r.text  # the CSP allows neither
    assert 'id="bhyt-XML1"' in r.text and 'id="bhyt-XML2"' in r.text and "Theo chuẩn 130." in r.text
    assert "6800124121500000089" in r.text  # MA_LK, in the XML1 table
    assert "J18.9" in r.text and "Bệnh chính" in r.text  # the main diagnosis with its ICD-10 code
    assert "Amlodipin" in r.text and "Hết sốt, ho giảm" in r.text  # a medicine, a clinical note
    async with await fhir(examples) as api:
        own = await api.get(f"Encounter/{eid}/$bhyt-xml")
        other = await api.get(f"Encounter/{eid}/$bhyt-xml", params={"standard": "4210"})
    xml = await doctor.get(f"/app/patient/{pid}/episode/{eid}/bhyt.xml")
    assert xml.status_code == 200 and xml.content == own.content
    assert xml.headers["content-disposition"].startswith("attachment;")
    xml = await doctor.get(f"/app/patient/{pid}/episode/{eid}/bhyt.xml", params={"standard": "4210"})
    assert xml.content == other.content
    chosen = await doctor.get(f"/app/patient/{pid}/episode/{eid}", params={"standard": "4210"})
    assert "Theo chuẩn 4210." in chosen.text and '<option value="4210" selected>' in chosen.text


async def test_an_episode_without_insurance_data_says_so(doctor: httpx.AsyncClient) -> None:
    pid = await patient_id(doctor, CCCD)
    page = await doctor.get(f"/app/patient/{pid}")
    eid = page.text.split(f"/app/patient/{pid}/transfer/", 1)[1].split('"', 1)[0]
    r = await doctor.get(f"/app/patient/{pid}/episode/{eid}")
    assert r.status_code == 200
    assert "không có dữ liệu BHYT" in r.text and "E11.9" in r.text and "Xem giấy chuyển tuyến" in r.text
    xml = await doctor.get(f"/app/patient/{pid}/episode/{eid}/bhyt.xml")
    assert xml.status_code == 422 and xml.headers["content-type"].startswith("text/html")
    en = await doctor.get(f"/app/patient/{pid}/episode/{eid}", params={"lang": "en"})
    assert "This episode has no insurance data" in en.text and "Diagnoses" in en.text


async def test_an_episode_of_another_patient_is_not_found(doctor: httpx.AsyncClient, examples: FastAPI) -> None:
    pid = await patient_id(doctor, CCCD)
    other = next(e for e in await encounters(examples) if patient_of(e) != pid)
    assert (await doctor.get(f"/app/patient/{pid}/episode/{other['id']}")).status_code == 404
    assert (await doctor.get(f"/app/patient/{pid}/episode/{other['id']}/bhyt.xml")).status_code == 404
    assert (await doctor.get(f"/app/patient/{patient_of(other)}/episode/{other['id']}")).status_code == 200


async def test_documents_and_care_on_the_patient_page(doctor: httpx.AsyncClient, examples: FastAPI) -> None:
    async with await fhir(examples) as api:
        doc = (await api.get("DocumentReference/example-1-documentreference-6")).json()
    text = base64.b64decode(doc["content"][0]["attachment"]["data"]).decode("utf-8")
    r = await doctor.get("/app/patient/example-1-patient-0")
    assert r.status_code == 200 and text in r.text  # a text/plain attachment, readable
    encounter = await _insurance_episode(examples)
    page = await doctor.get(f"/app/patient/{patient_of(encounter)}")
    assert "Amlodipin" in page.text and "Định lượng Creatinin" in page.text
    assert f'/episode/{encounter["id"]}#bhyt-XML' in page.text  # an insurance table links to the episode's tables
    assert "<?xml" not in page.text and "GIAMDINHHS" not in page.text
    assert 'href="/app/static/care.css' in page.text


async def test_an_episode_reads_its_results_as_the_record_does(doctor: httpx.AsyncClient) -> None:
    # examples/core/patient-bundle-trends.json, the episode of 31/10/2025: a blood-pressure panel, flagged labs
    pid = await patient_id(doctor, "001085012345")
    page = await doctor.get(f"/app/patient/{pid}")
    eid = page.text.split(f"/app/patient/{pid}/episode/", 1)[1].split('"', 1)[0]  # the newest episode comes first
    r = await doctor.get(f"/app/patient/{pid}/episode/{eid}")
    assert r.status_code == 200
    assert "Huyết áp" in r.text and "130/82 mmHg" in r.text  # the panel's two components, named in Vietnamese
    assert "Cân nặng" in r.text and "Body weight" not in r.text
    assert '<span class="flag abnormal"' in r.text and ">Cao<" in r.text  # the laboratory's H, in words
    en = await doctor.get(f"/app/patient/{pid}/episode/{eid}", params={"lang": "en"})
    assert "Blood pressure" in en.text and ">High<" in en.text
