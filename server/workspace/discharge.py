"""The discharge paper (XML7, *Giấy ra viện*) and the record summary (XML8, *Tóm tắt hồ sơ bệnh
án*) of an insurance episode, readable as text.

The insurance mapping keeps each of these tables as a DocumentReference holding the table's XML
(as the facility sent it). Here the XML is read back with the envelope's own table reader, and
each filled field is shown under its name in the page's language, dates as dd/mm/yyyy, codes as
the transfer dataset's code tables word them where the field shares one.
"""

from __future__ import annotations

import base64
from typing import Any

from mappings.bhyt_xml.envelope import parse_table

from .codewords import code_words
from .context import Ctx
from .layout import h

#: the tables read as papers
PAPERS = ("XML7", "XML8")

#: field → (Vietnamese, English, how its value reads: "text", "day" (yyyymmdd), "moment"
#: (yyyymmddHHMM), or a transfer-dataset field whose code table words it)
FIELDS: dict[str, tuple[str, str, str]] = {
    "SO_LUU_TRU": ("Số lưu trữ", "Archive number", "text"),
    "MA_YTE": ("Mã y tế", "Medical record number", "text"),
    "MA_KHOA_RV": ("Khoa ra viện", "Discharging department", "text"),
    "MA_LOAI_KCB": ("Hình thức khám chữa bệnh", "Type of care", "MA_LOAI_KCB"),
    "NGAY_VAO": ("Ngày vào viện", "Admitted", "moment"),
    "NGAY_RA": ("Ngày ra viện", "Discharged", "moment"),
    "DON_VI": ("Đơn vị", "Unit", "text"),
    "CHAN_DOAN_VAO": ("Chẩn đoán vào viện", "Diagnosis on admission", "text"),
    "QT_BENHLY": ("Quá trình bệnh lý và diễn biến lâm sàng", "Course of the illness", "text"),
    "TOMTAT_KQ": ("Tóm tắt kết quả xét nghiệm, cận lâm sàng", "Test results, summarised", "text"),
    "CHAN_DOAN_RV": ("Chẩn đoán ra viện", "Diagnosis at discharge", "text"),
    "PP_DIEUTRI": ("Phương pháp điều trị", "Treatment given", "text"),
    "KET_QUA_DTRI": ("Kết quả điều trị", "Outcome", "KET_QUA_DTRI"),
    "MA_DINH_CHI_THAI": ("Đình chỉ thai nghén", "Pregnancy terminated", "text"),
    "NGUYENNHAN_DINHCHI": ("Nguyên nhân đình chỉ thai", "Reason for termination", "text"),
    "THOIGIAN_DINHCHI": ("Thời gian đình chỉ thai", "Terminated on", "moment"),
    "TUOI_THAI": ("Tuổi thai (tuần)", "Gestational age (weeks)", "text"),
    "NGAY_SINHCON": ("Ngày sinh con", "Date of birth of the child", "day"),
    "NGAY_CONCHET": ("Ngày con chết", "Date of the child's death", "day"),
    "SO_CONCHET": ("Số con chết", "Children who died", "text"),
    "SO_NGAY_NGHI": ("Số ngày nghỉ", "Days of sick leave", "text"),
    "NGOAITRU_TUNGAY": ("Nghỉ ngoại trú từ ngày", "Outpatient leave from", "day"),
    "NGOAITRU_DENNGAY": ("Nghỉ ngoại trú đến ngày", "Outpatient leave until", "day"),
    "HO_TEN_CHA": ("Họ tên cha", "Father's name", "text"),
    "HO_TEN_ME": ("Họ tên mẹ", "Mother's name", "text"),
    "NGUOI_GIAM_HO": ("Người giám hộ", "Guardian", "text"),
    "MA_CHA": ("Mã BHXH của cha", "Father's insurance number", "text"),
    "MA_ME": ("Mã BHXH của mẹ", "Mother's insurance number", "text"),
    "MA_THE_TAM": ("Mã thẻ BHYT tạm", "Temporary insurance card", "text"),
    "GHI_CHU": ("Ghi chú", "Notes", "text"),
    "MA_BS": ("Mã bác sĩ", "Doctor's code", "text"),
    "TEN_BS": ("Bác sĩ", "Doctor", "text"),
    "MA_TTDV": ("Thủ trưởng đơn vị", "Head of the facility", "text"),
    "NGAY_CT": ("Ngày chứng từ", "Dated", "day"),
}
#: fields that say nothing to a reader of the paper
HIDDEN = frozenset({"MA_LK", "STT", "DU_PHONG"})


def records(doc: dict[str, Any], table: str) -> list[dict[str, str]]:
    """The table's records held by the document (none when it holds no readable table)."""
    for content in doc.get("content") or []:
        data = (content.get("attachment") or {}).get("data")
        if not data:
            continue
        try:
            return [dict(r) for r in parse_table(table, base64.b64decode(data, validate=True))]
        except Exception:  # noqa: BLE001 - bad base64, or the table reader's refusal: shown as not readable
            return []
    return []


def _value(kind: str, value: str, lang: str) -> str:
    if kind == "day" and len(value) >= 8 and value[:8].isdigit():
        return f"{value[6:8]}/{value[4:6]}/{value[:4]}"
    if kind == "moment" and len(value) >= 12 and value[:12].isdigit():
        return f"{value[6:8]}/{value[4:6]}/{value[:4]} {value[8:10]}:{value[10:12]}"
    if kind not in ("text", "day", "moment"):
        words = code_words(kind, value, lang)
        return f"{words} ({value})" if words else value
    return value


def render(ctx: Ctx, doc: dict[str, Any], table: str) -> str:
    """The paper's filled fields as a definition list (escaped HTML); empty when unreadable."""
    out = []
    for record in records(doc, table):
        rows = []
        for name, value in record.items():
            if name in HIDDEN or value in (None, ""):
                continue
            vi, en, kind = FIELDS.get(name, (name, name, "text"))
            rows.append(f"<dt>{h(en if ctx.lang == 'en' else vi)}</dt><dd>{h(_value(kind, str(value), ctx.lang))}</dd>")
        if rows:
            out.append(f'<dl class="doc-fields paper-fields">{"".join(rows)}</dl>')
    return "".join(out)
