"""The transfer paper: the $transfer54 record laid out as the national form, printable and downloadable."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from fastapi import FastAPI

from mappings.transfer54.fhir import to_fhir
from server import jsonio

from .conftest import CCCD, EXAMPLES
from .helpers import encounters, fhir, is_insurance, patient_id, patient_of, transfer_episodes

pytestmark = pytest.mark.anyio

RECORD = json.loads((EXAMPLES / "transfer54" / "record-1.json").read_text(encoding="utf-8"))


async def _paper_url(doctor: httpx.AsyncClient) -> tuple[str, str]:
    """The patient of record 1 and the transfer paper its record page links to."""
    pid = await patient_id(doctor, CCCD)
    page = await doctor.get(f"/app/patient/{pid}")
    assert page.status_code == 200
    assert "Lần chuyển tuyến gần nhất" in page.text and RECORD["SO_CHUYENTUYEN"] in page.text
    links = set(re.findall(rf'href="(/app/patient/{pid}/transfer/[^"?/]+)"', page.text))
    assert len(links) == 1
    return pid, links.pop()


async def test_the_paper_shows_the_record(doctor: httpx.AsyncClient) -> None:
    _, url = await _paper_url(doctor)
    r = await doctor.get(url)
    assert r.status_code == 200
    text = r.text
    assert 'style="' not in text and "<script" not in text
    assert "<title>Giấy chuyển tuyến 9460/2024/CT — Phan Ngọc An" in text
    assert "Đủ điều kiện chuyển tuyến" in text  # MA_LYDO_CT 1 in words (codes.json)
    for field in ("CHAN_DOAN_RV", "MA_BENH_CHINH", "TINH_TRANG_CT", "MA_BAC_SI", "HUONG_DIEU_TRI", "PHUONGTIEN_VC", "HOTEN_NGUOI_HT", "MA_THE_BHYT", "SO_CCCD"):
        assert RECORD[field] in text, field
    assert "N18.3" in text and "I10" in text  # the secondary diagnoses
    assert "CRP 85 mg/L &lt;cao&gt;; BC 15 G/L &amp; N 85%" in text  # escaped, not markup
    assert "01/01/2024 – 31/12/2024" in text  # the card's validity
    assert 'href="/app/static/transfer.css' in text and '<header class="top">' in text


async def test_english_labels(doctor: httpx.AsyncClient) -> None:
    _, url = await _paper_url(doctor)
    r = await doctor.get(url, params={"lang": "en"})
    assert r.status_code == 200
    assert "Reason for transfer" in r.text and "Condition at transfer" in r.text
    assert "Transfer indicated and eligible" in r.text
    assert "Lý do chuyển tuyến" not in r.text


async def test_print_view_has_no_navigation(doctor: httpx.AsyncClient) -> None:
    _, url = await _paper_url(doctor)
    screen = await doctor.get(url)
    assert f'href="{url}?print=1' in screen.text
    r = await doctor.get(url, params={"print": "1"})
    assert r.status_code == 200
    assert "<nav" not in r.text and 'class="top"' not in r.text and "Đăng xuất" not in r.text
    assert RECORD["TINH_TRANG_CT"] in r.text and "transfer.css" in r.text
    css = await doctor.get(re.search(r'href="(/app/static/transfer\.css[^"]*)"', r.text).group(1).replace("&amp;", "&"))
    assert css.status_code == 200 and "@page" in css.text and "A4" in css.text


async def test_downloads_are_the_operation_output(doctor: httpx.AsyncClient, examples: FastAPI) -> None:
    _, url = await _paper_url(doctor)
    eid = url.rsplit("/", 1)[1]
    async with await fhir(examples) as api:
        as_json = await api.get(f"Encounter/{eid}/$transfer54")
        as_xml = await api.get(f"Encounter/{eid}/$transfer54", params={"_format": "xml"})
    assert as_json.status_code == 200 and as_xml.status_code == 200
    record = await doctor.get(f"{url}/record.json")
    assert record.status_code == 200 and record.content == as_json.content
    assert record.json() == RECORD
    assert record.headers["content-disposition"].startswith("attachment;")
    xml = await doctor.get(f"{url}/record.xml")
    assert xml.status_code == 200 and xml.content == as_xml.content
    assert "attachment" in xml.headers["content-disposition"]
    bundle = await doctor.get(f"{url}/bundle.json")
    assert bundle.status_code == 200 and "attachment" in bundle.headers["content-disposition"]
    assert bundle.content == jsonio.dumps(to_fhir(as_json.json()))  # the transaction the record maps to
    assert bundle.json()["type"] == "transaction"
    assert {e["resource"]["resourceType"] for e in bundle.json()["entry"]} >= {"Patient", "Encounter", "DocumentReference", "Condition"}


async def test_an_episode_without_transfer_data_says_so(doctor: httpx.AsyncClient, examples: FastAPI) -> None:
    letters = await transfer_episodes(examples)
    encounter = next(e for e in await encounters(examples) if e["id"] not in letters and is_insurance(e))
    pid = patient_of(encounter)
    for path in ("", "/record.json", "/bundle.json"):
        r = await doctor.get(f"/app/patient/{pid}/transfer/{encounter['id']}{path}")
        assert r.status_code == 422, path
        assert "không có dữ liệu chuyển tuyến" in r.text and r.headers["content-type"].startswith("text/html")
    page = await doctor.get(f"/app/patient/{pid}")
    assert f"/transfer/{encounter['id']}" not in page.text


async def test_the_paper_of_another_patient_is_not_found(doctor: httpx.AsyncClient, examples: FastAPI) -> None:
    pid, url = await _paper_url(doctor)
    other = next(e for e in await encounters(examples) if patient_of(e) != pid)
    eid = url.rsplit("/", 1)[1]
    assert (await doctor.get(f"/app/patient/{patient_of(other)}/transfer/{eid}")).status_code == 404
    assert (await doctor.get(f"/app/patient/{patient_of(other)}/transfer/{eid}/record.json")).status_code == 404
