"""The discharge paper (XML7) and the record summary (XML8) of an insurance episode read as text."""

from __future__ import annotations

import re

import httpx
import pytest

from .helpers import patient_id

pytestmark = pytest.mark.anyio

MA_LK = "6800124121500000089"  # examples/bhyt/giamdinhhs-130.xml, the first HOSO


def _field(page: str, label: str) -> list[str]:
    return re.findall(rf"<dt>{re.escape(label)}</dt><dd>(.*?)</dd>", page)


async def test_the_discharge_paper_and_the_summary_read_as_text(doctor: httpx.AsyncClient) -> None:
    pid = await patient_id(doctor, MA_LK)
    page = (await doctor.get(f"/app/patient/{pid}")).text
    assert "Viêm phổi, không đặc hiệu" in _field(page, "Chẩn đoán ra viện")  # in both papers
    assert _field(page, "Ngày ra viện")[0] == "24/12/2024 08:11"
    assert _field(page, "Bác sĩ") == ["Phạm Ngọc Thảo"]
    assert set(_field(page, "Ngày chứng từ")) == {"24/12/2024"}
    assert _field(page, "Hình thức khám chữa bệnh") == ["Điều trị nội trú (03)"]  # the code, in the transfer dataset's words
    assert _field(page, "Tóm tắt kết quả xét nghiệm, cận lâm sàng") == ["X-quang: đám mờ đáy phổi phải. CRP 85 mg/L &lt;cao&gt;; BC 15 G/L &amp; N 85%."]
    assert "<CHI_TIEU" not in page and "&lt;CHI_TIEU" not in page and "MA_LK</dt>" not in page  # no XML, no link key
    english = (await doctor.get(f"/app/patient/{pid}", params={"lang": "en"})).text
    assert _field(english, "Discharged")[0] == "24/12/2024 08:11" and "Viêm phổi, không đặc hiệu" in _field(english, "Diagnosis at discharge")


async def test_document_kinds_are_in_the_pages_language(doctor: httpx.AsyncClient) -> None:
    from .conftest import CCCD

    pid = await patient_id(doctor, CCCD)  # examples/transfer54/record-1.json: its transfer letter
    summary = re.findall(r'<details class="doc"[^>]*><summary>(.*?)</summary>', (await doctor.get(f"/app/patient/{pid}")).text)
    assert any("Giấy chuyển tuyến" in s for s in summary) and not any("Referral note" in s for s in summary)
    english = re.findall(r'<details class="doc"[^>]*><summary>(.*?)</summary>', (await doctor.get(f"/app/patient/{pid}", params={"lang": "en"})).text)
    assert any("Referral note" in s for s in english)
