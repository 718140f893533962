"""Realistic, anonymised GIAMDINHHS envelopes, written the way hospital software writes them.

Why: the reader, the value checks and the mapping were built from the decisions' tables; real files
exported by hospital software depart from them in known ways (issue 11: "only 10 of 60 imported
whole").  This module makes envelopes that carry those departures, one switchable ``PATTERNS`` entry
each, so tests and ``benchmarks/bhyt_realistic.py`` can hold the pipeline to them without real data.

Everything here is invented: names, identity numbers, cards, phone numbers, house numbers and codes
come from a seeded ``random.Random`` over small pools of common words (the province, district and
ward names are public place names); no value was taken from a real person's record.  Field names and their order come
from the published lists (``published.json``: the receiving portal's 4750 order, and the 3176
implementation's for its renamed XML13 fields), never from ``layouts.json``; the XML text and the
table element names are written by this module's own code, not by ``writer.py``, so it is an
encoder independent of the one it tests.

API: ``build(seed, patterns, hoso)`` gives the bytes and the episodes a reader must get from them;
``envelope(...)`` the bytes only; ``corpus(n, seed)`` a mix like real files; ``fixtures()`` one small
envelope per pattern (committed under ``testdata/realistic``, regenerated with
``python -m mappings.bhyt_xml.realistic --fixtures``).
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from pathlib import Path
from random import Random

from .envelope import Episode, Header

_PUBLISHED = Path(__file__).with_name("published.json")
FIXTURES = Path(__file__).with_name("testdata") / "realistic"

#: pattern name → what it puts in the envelope (one entry per departure seen in real files)
PATTERNS: dict[str, str] = {
    "doituong-4": "XML1/XML14 MA_DOITUONG_KCB with 4 characters such as 1.12 (size 4 since 4750)",
    "ttdv-licence": "MA_TTDV of XML1, XML7 and XML8 holding a practitioner's licence number such as "
                    "004078/CT-CCHN (14-15 characters; 4750 publishes 10)",
    "cccd-other": "SO_CCCD that is not 12 digits: 9 or 10 digits, or a passport number (a capital and 7 digits)",
    "money-order": "XML2/XML3 money in the decision's order T_BNTT, T_BNCCT, T_BHTT, all three non-zero "
                   "(without it: T_BHTT, T_BNCCT, T_BNTT, as older software writes them)",
    "dates-8": "8-character dates (yyyyMMdd) in XML6, XML9, XML14 and XML15 (the tables present), and "
               "two cards: XML1/XML13 MA_THE_BHYT and GT_THE_DEN as ';'-separated lists",
    "tables-0-12": "tables XML0 (check-in) and XML12 (medical assessment, no MA_LK, flat) in the HOSO, "
                   "and XML13 PP_DIEU_TRI",
    "published-sizes": "free-text, document-number and code-list values of XML9, XML13, XML14 and XML15 "
                       "exactly as long as the published size (4000 characters where it is unlimited)",
    "comma-decimal": "XML2/XML3 quantities and prices written with a decimal comma (0,5)",
    "std-3176": "Decision 3176: XML13 MA_CSKCB_DI (several ';'-separated facility codes), MA_CSKCB_DEN, "
                "TINH_TRANG_CT; MA_TTDV a licence number (3176 allows 255) in every table",
    "unknown-element": "elements no layout knows: XML1 <MA_KV>, XML3 <TEN_KHOA>",
    "empty-elements": "fields without a value written as <X/> or <X></X> (without it: left out)",
    "no-declaration": "table documents without an XML declaration",
    "crlf": "CRLF line ends, also inside multi-line values",
    "indent": "envelope and table documents indented, one element a line",
    "base64-wrap": "NOIDUNGFILE base64 wrapped at 76 columns",
    "bom": "a UTF-8 byte order mark before each table document",
    "several-hoso": "2 to 4 HOSO in the envelope",
    "tables-omitted": "only the tables the episode cannot do without (XML1 and XML2 or XML3, plus the "
                      "tables other patterns need)",
}

#: how often each pattern turns up in ``corpus`` (a guess at real exports, not a measurement)
_FREQUENCY: dict[str, float] = {
    "doituong-4": 0.3, "ttdv-licence": 0.35, "cccd-other": 0.2, "money-order": 0.6, "dates-8": 0.25,
    "tables-0-12": 0.15, "published-sizes": 0.1, "comma-decimal": 0.25, "std-3176": 0.15,
    "unknown-element": 0.2, "empty-elements": 0.5, "no-declaration": 0.3, "crlf": 0.3, "indent": 0.4,
    "base64-wrap": 0.3, "bom": 0.15, "several-hoso": 0.4, "tables-omitted": 0.3,
}

#: the decisions' element names per table: (root, list, record); list None = fields under root
SHAPES: dict[str, tuple[str, str | None, str | None]] = {
    "XML0": ("CHI_TIEU_TRANG_THAI_KCB", "DSACH_TRANG_THAI_KCB", "TRANG_THAI_KCB"),
    "XML1": ("TONG_HOP", None, None),
    "XML2": ("CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC"),
    "XML3": ("CHITIEU_CHITIET_DVKT_VTYT", "DSACH_CHI_TIET_DVKT", "CHI_TIET_DVKT"),
    "XML4": ("CHITIEU_CHITIET_DICHVUCANLAMSANG", "DSACH_CHI_TIET_CLS", "CHI_TIET_CLS"),
    "XML5": ("CHITIEU_CHITIET_DIENBIENLAMSANG", "DSACH_CHI_TIET_DIEN_BIEN_BENH", "CHI_TIET_DIEN_BIEN_BENH"),
    "XML6": ("CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS",
             "DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS", "HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS"),
    "XML7": ("CHI_TIEU_DU_LIEU_GIAY_RA_VIEN", None, None),
    "XML8": ("CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN", None, None),
    "XML9": ("CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH", "DSACH_GIAYCHUNGSINH", "DU_LIEU_GIAY_CHUNG_SINH"),
    "XML10": ("CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI", None, None),
    "XML11": ("CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI", None, None),
    "XML12": ("CHI_TIEU_DU_LIEU_GIAM_DINH_YKHOA", None, None),
    "XML13": ("CHI_TIEU_GIAYCHUYENTUYEN", None, None),
    "XML14": ("CHI_TIEU_GIAYHEN_KHAMLAI", None, None),
    "XML15": ("CHI_TIEU_DIEUTRI_BENHLAO", "DSACH_CHITIET_DIEUTRI_BENHLAO", "CHITIET_DIEUTRI_BENHLAO"),
}

#: unknown elements the pattern adds: table → (inserted after, name, value)
UNKNOWN = {"XML1": ("MA_KHUVUC", "MA_KV", "KV2"), "XML3": ("MA_KHOA", "TEN_KHOA", "Khoa Nội tổng hợp")}
_MONEY = ("T_BNTT", "T_BNCCT", "T_BHTT")
_PRICED = ("SO_LUONG", "DON_GIA", "DON_GIA_BV", "DON_GIA_BH")  # what the comma pattern writes with ','
LONG = 4000  # length of a value where the published size is unlimited ("n")
_ENVELOPE_NS = ('xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')


# ============================================================================ published lists

@lru_cache(maxsize=1)
def _published() -> dict:
    return json.loads(_PUBLISHED.read_text(encoding="utf-8"))["tables"]


def _source(standard: str, table: str) -> tuple[str, str]:
    """(standard, source) whose order a table follows: 3176's own list only where it has one."""
    if standard == "3176" and table in _published()["3176"]:
        return "3176", "qhis_qd3176_entities"
    return "130", "portal_validation_4750"


@cache
def published_order(standard: str, table: str) -> tuple[str, ...]:
    """Field names of a table in the published order (portal 4750 sheet; 3176 implementation)."""
    std, src = _source(standard, table)
    rows = [f for f in _published()[std][table] if f["order"].get(src)]
    return tuple(f["name"] for f in sorted(rows, key=lambda f: f["order"][src]))


@cache
def published_size(standard: str, table: str, name: str) -> int | None:
    """The published maximum length (4750 appendix, else the portal sheet, else 3176's); None: unlimited."""
    for std, src in (("130", "qd4750_appendix"), ("130", "portal_validation_4750"), ("3176", "qhis_qd3176_entities")):
        row = next((f for f in _published().get(std, {}).get(table, []) if f["name"] == name), None)
        size = row["size"].get(src) if row else None
        if size == "n":
            return None
        if isinstance(size, int):
            return size
    return None


# ============================================================================ invented data pools

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý"]
MIDDLE_M = ["Văn", "Hữu", "Minh", "Đức", "Quốc", "Thanh", "Công", "Gia"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Kim", "Thanh", "Mỹ", "Bảo"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Hùng", "Khang", "Long", "Nam", "Phúc", "Quân", "Sơn", "Tuấn", "Vinh"]
GIVEN_F = ["Anh", "Hà", "Hạnh", "Hoa", "Lan", "Linh", "Mai", "Ngân", "Thảo", "Trang", "Vy", "Yến", "Uyên"]
#: (province code, province, district code, district, commune code, commune)
PLACES = [("79", "Thành phố Hồ Chí Minh", "774", "Quận 5", "27301", "Phường 4"),
          ("79", "Thành phố Hồ Chí Minh", "769", "Thành phố Thủ Đức", "26800", "Phường Linh Trung"),
          ("01", "Thành phố Hà Nội", "005", "Quận Cầu Giấy", "00163", "Phường Dịch Vọng"),
          ("92", "Thành phố Cần Thơ", "916", "Quận Ninh Kiều", "31117", "Phường An Hòa"),
          ("48", "Thành phố Đà Nẵng", "492", "Quận Hải Châu", "20227", "Phường Thạch Thang"),
          ("56", "Tỉnh Khánh Hòa", "568", "Thành phố Nha Trang", "22366", "Phường Lộc Thọ"),
          ("74", "Tỉnh Bình Dương", "718", "Thành phố Thủ Dầu Một", "25771", "Phường Phú Cường")]
STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung", "Hùng Vương",
           "Phan Đình Phùng", "Võ Thị Sáu", "Điện Biên Phủ"]
CARD_GROUPS = ["DN", "HC", "HT", "GD", "TE", "HN", "CN", "XK", "HS", "SV", "NO", "BT"]
LICENCE_PLACES = ["HCM", "CT", "HNO", "DNA", "KH", "BD", "BYT"]
OCCUPATIONS = ["00000", "21120", "22110", "23300", "41100", "51310", "61110", "71120", "91120"]
BLOOD = ["A", "B", "O", "AB", "O+", "A+", "B+"]
DEPARTMENTS = [("K01", "Khoa Khám bệnh"), ("K02", "Khoa Hồi sức cấp cứu"), ("K03", "Khoa Nội tổng hợp"),
               ("K19", "Khoa Ngoại tổng hợp"), ("K26", "Khoa Phụ sản"), ("K48", "Khoa Nhi")]
#: (ICD-10, name, inpatient, reason for the visit)
DISEASES = [("J18.9", "Viêm phổi, không đặc hiệu", True, "Sốt, ho có đờm 4 ngày"),
            ("J20.9", "Viêm phế quản cấp, không đặc hiệu", False, "Ho, sổ mũi 3 ngày"),
            ("I10", "Bệnh lý tăng huyết áp vô căn (nguyên phát)", False, "Tái khám tăng huyết áp"),
            ("E11.9", "Bệnh đái tháo đường không phụ thuộc insulin, không có biến chứng", False, "Khám định kỳ"),
            ("K29.7", "Viêm dạ dày, không đặc hiệu", False, "Đau thượng vị, ợ chua"),
            ("A09", "Tiêu chảy và viêm dạ dày ruột do nhiễm trùng", True, "Tiêu lỏng nhiều lần, sốt"),
            ("N39.0", "Nhiễm trùng đường tiết niệu, vị trí không xác định", True, "Tiểu buốt, sốt"),
            ("K35.8", "Viêm ruột thừa cấp, khác và không xác định", True, "Đau hố chậu phải 1 ngày"),
            ("I63.9", "Nhồi máu não, không đặc hiệu", True, "Yếu nửa người phải đột ngột"),
            ("J44.1", "Bệnh phổi tắc nghẽn mạn tính có đợt cấp", True, "Khó thở tăng, ho đờm"),
            ("M54.5", "Đau vùng thắt lưng", False, "Đau lưng 2 tuần")]
BIRTH = ("O80", "Đẻ thường một thai", True, "Chuyển dạ")
THREATENED = ("O20.0", "Dọa sẩy thai", False, "Đau bụng, ra huyết, thai 10 tuần")
TB = ("A15.0", "Lao phổi, có xác nhận bằng kính hiển vi đờm")
HIV = ("B20", "Bệnh HIV gây bệnh nhiễm trùng và ký sinh trùng")
SECONDARY = [("I10", "Tăng huyết áp"), ("E78.5", "Tăng lipid máu"), ("K21.9", "Trào ngược dạ dày thực quản"),
             ("E11.9", "Đái tháo đường type 2"), ("J30.4", "Viêm mũi dị ứng")]
#: (code, name, strength, unit, form, route, unit price VND, registration)
DRUGS = [("40.17", "Paracetamol", "500mg", "Viên", "Viên nén", "1.01", "350", "VD-21458-14"),
         ("40.56", "Amoxicilin", "500mg", "Viên", "Viên nang", "1.01", "1200", "VD-18877-13"),
         ("40.98", "Ceftriaxon", "1g", "Lọ", "Bột pha tiêm", "2.10", "18500", "VN-20311-17"),
         ("40.523", "Omeprazol", "20mg", "Viên", "Viên nang tan trong ruột", "1.01", "950.5", "VD-24512-16"),
         ("40.601", "Natri clorid 0,9%", "500ml", "Chai", "Dung dịch tiêm truyền", "2.15", "9450", "VD-22190-15"),
         ("40.389", "Metformin", "850mg", "Viên", "Viên nén bao phim", "1.01", "480", "VD-26330-17"),
         ("40.437", "Amlodipin", "5mg", "Viên", "Viên nén", "1.01", "310.5", "VD-19901-13")]
#: (code, name, MA_NHOM, unit, price, lab indicators (code, name, value range, unit))
SERVICES = [("22.0120.1370", "Tổng phân tích tế bào máu ngoại vi (bằng máy đếm laser)", "1", "Lần", "46200",
             [("WBC", "Số lượng bạch cầu", (4.0, 15.0), "G/L"), ("HGB", "Huyết sắc tố", (110, 160), "g/L"),
              ("PLT", "Số lượng tiểu cầu", (150, 400), "G/L")]),
            ("23.0075.1494", "Định lượng Glucose [Máu]", "1", "Lần", "21500",
             [("GLU", "Glucose", (4.1, 9.5), "mmol/L")]),
            ("23.0020.1493", "Định lượng Creatinin [Máu]", "1", "Lần", "21500",
             [("CRE", "Creatinin", (55, 120), "µmol/L")]),
            ("18.0119.0028", "Chụp X-quang ngực thẳng", "2", "Lần", "65400", []),
            ("21.0014.1778", "Điện tim thường", "3", "Lần", "32800", [])]
EXAM = ("02.1896", "Khám Nội", "13", "Lần", "38700")
BED = ("K03.1922", "Ngày giường bệnh Nội khoa loại 2 hạng II", "15", "Ngày", "215000")
SUPPLIES = [("N03.05.010", "Bơm tiêm nhựa dùng một lần 5ml", "Cái", "1150"),
            ("N04.01.020", "Kim luồn tĩnh mạch 22G", "Cái", "12600.5"),
            ("N02.01.070", "Dây truyền dịch", "Bộ", "4500")]
PROGRESS = ["Người bệnh tỉnh, tiếp xúc tốt, sốt nhẹ 37,8°C.\nHo ít, không khó thở, phổi ran ẩm đáy phải.",
            "Tỉnh, hết sốt, ăn uống được.\nMạch 80 lần/phút, huyết áp 120/70 mmHg.",
            "Diễn biến ổn định, tiếp tục điều trị theo y lệnh.",
            "Sinh hiệu ổn, bụng mềm, vết mổ khô & sạch."]
WORDS = ["người bệnh", "tỉnh táo", "tiếp xúc tốt", "theo dõi", "diễn biến ổn định", "điều trị nội khoa",
         "kháng sinh", "xét nghiệm", "kết quả trong giới hạn bình thường", "hội chẩn", "tư vấn", "gia đình",
         "chăm sóc cấp II", "chế độ ăn bệnh lý", "tái khám", "vận chuyển", "khoa", "bệnh viện", "đường", "phường"]

_CENT = Decimal("0.01")


# ============================================================================ small helpers

def d8(d: date) -> str:
    return d.strftime("%Y%m%d")


def d12(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M")


def money(x: Decimal) -> str:
    """Money as hospital software writes it: no trailing zeros, '.' before cents."""
    x = x.quantize(_CENT, ROUND_HALF_UP)
    return str(int(x)) if x == x.to_integral_value() else format(x.normalize(), "f")


def number(x: Decimal, comma: bool) -> str:
    """A quantity or price; with ``comma`` its decimal point written as ',' (the pattern)."""
    text = money(x)
    return text.replace(".", ",") if comma else text


def sized(rng: Random, n: int | None, words: list[str] = WORDS, sep: str = ", ") -> str:
    """Plausible text exactly ``n`` characters long (``LONG`` for an unlimited field), never
    starting or ending with a blank (the reader trims those)."""
    n = LONG if n is None else n
    parts: list[str] = []
    while sum(map(len, parts)) + len(sep) * len(parts) < n:
        parts.append(rng.choice(words))
    text = sep.join(parts)[:n]
    return text[:-1] + "." if text[-1:].isspace() or text[-1:] in ",;" else text


def code_list(rng: Random, n: int, codes: list[str]) -> str:
    """';'-separated codes, as many as fit in ``n`` characters (at least one)."""
    out = [rng.choice(codes)]
    while True:
        nxt = rng.choice(codes)
        if len(";".join(out + [nxt])) > n:
            return ";".join(out)
        out.append(nxt)


def document_number(rng: Random, n: int, prefix: str) -> str:
    """A document number padded with digits to exactly ``n`` characters."""
    body = f"{prefix}/{rng.randint(1, 99999):05d}"
    return (body + "-" + "".join(str(rng.randint(0, 9)) for _ in range(n)))[:n] if len(body) < n else body[:n]


def licence(rng: Random) -> str:
    """A practitioner's licence number (chứng chỉ hành nghề), e.g. 004078/CT-CCHN."""
    return f"{rng.randint(1, 99999):06d}/{rng.choice(LICENCE_PLACES)}-CCHN"


# ============================================================================ the people and the stay

@dataclass
class Card:
    number: str
    facility: str  # MA_DKBD
    start: date
    end: date


@dataclass
class Person:
    name: str
    sex: str  # "1" male, "2" female
    born: date
    cccd: str
    place: tuple[str, str, str, str, str, str]
    address: str
    phone: str
    occupation: str
    cards: list[Card]

    @property
    def born12(self) -> str:
        return d8(self.born) + "0000"


@dataclass
class Stay:
    """One episode (HOSO): who, where, when, why, and what it cost."""
    rng: Random
    patterns: frozenset[str]
    standard: str
    ma_lk: str
    facility: str
    person: Person
    tables: list[str]
    disease: tuple[str, str, bool, str]
    secondary: list[tuple[str, str]]
    admitted: datetime
    discharged: datetime
    paid: datetime
    inpatient: bool
    department: tuple[str, str]
    doctor: str
    head: str  # MA_TTDV as most files carry it
    head_licence: str
    destination: str  # where a transfer goes
    departures: set[str] = field(default_factory=set)
    totals: dict[str, Decimal] = field(default_factory=dict)
    category: str = ""  # MA_DOITUONG_KCB
    patient_id: str = ""  # MA_BN
    transfer_paper: str = ""  # GIAY_CHUYEN_TUYEN

    def on(self, pattern: str) -> bool:
        return pattern in self.patterns

    def moment(self) -> datetime:
        """A time within the stay (orders, results)."""
        span = max(int((self.discharged - self.admitted).total_seconds() // 60), 1)
        return self.admitted + timedelta(minutes=self.rng.randint(0, span))

    def ttdv(self, table: str) -> str:
        """MA_TTDV: a licence number where the patterns put one, else the short code."""
        if self.standard == "3176" or (self.on("ttdv-licence") and table in ("XML1", "XML7", "XML8")):
            value = self.head_licence
            limit = 255 if self.standard == "3176" else published_size("130", table, "MA_TTDV")
            if limit is not None and len(value) > limit:
                self.departures.add("MA_TTDV")
            return value
        return self.head

    def add(self, name: str, amount: Decimal) -> None:
        self.totals[name] = self.totals.get(name, Decimal(0)) + amount


def _name(rng: Random, sex: str) -> str:
    middle, given = (MIDDLE_M, GIVEN_M) if sex == "1" else (MIDDLE_F, GIVEN_F)
    return f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


def _identity(rng: Random, sex: str, born: date, other: bool) -> str:
    """A 12-digit citizen id (province, sex/century, year, serial) or, with the pattern, an older id
    (9 digits), a 10-digit one, or a passport number."""
    if other:
        kind = rng.choice(["9", "10", "passport"])
        if kind == "passport":
            return rng.choice("BCN") + f"{rng.randint(0, 9999999):07d}"
        return "".join(str(rng.randint(0, 9)) for _ in range(int(kind)))
    century = (0 if born.year < 2000 else 2) + (1 if sex == "2" else 0)
    return f"0{rng.choice(PLACES)[0]}{century}{born.year % 100:02d}{rng.randint(0, 999999):06d}"


def _cards(rng: Random, province: str, facility: str, admitted: datetime, two: bool, child: bool) -> list[Card]:
    """The patient's insurance cards; with ``two`` the first ran out during the stay's month."""
    group = "TE" if child else rng.choice(CARD_GROUPS)
    level = {"TE": 1, "HT": 2, "HN": 3, "CN": 3}.get(group, 4)
    number = f"{group}{level}{province}{rng.randint(0, 9999999999):010d}"
    year_start = date(admitted.year, 1, 1)
    if not two:
        return [Card(number, facility, year_start, date(admitted.year, 12, 31))]
    switch = admitted.date()
    first = Card(number, facility, year_start, switch)
    renewed = f"{group}{level}{province}{rng.randint(0, 9999999999):010d}"
    return [first, Card(renewed, facility, switch + timedelta(days=1), date(admitted.year + 1, 12, 31))]


def _tables(rng: Random, patterns: frozenset[str], inpatient: bool) -> list[str]:
    """Which tables the HOSO carries: those the episode makes, then those the patterns need."""
    tables = ["XML1", "XML2", "XML3", "XML4"]
    if inpatient:
        tables += ["XML5", "XML7", "XML8"] + (["XML11"] if rng.random() < 0.3 else [])
    else:
        tables += ["XML14"] if rng.random() < 0.6 else []
        tables += ["XML10"] if rng.random() < 0.1 else []  # a pregnant outpatient's rest certificate
    if rng.random() < 0.25:
        tables.append("XML13")
    if "tables-omitted" in patterns:
        tables = ["XML1", rng.choice(["XML2", "XML3"])]
    need = {"dates-8": ["XML6", "XML9", "XML13", "XML14", "XML15"], "tables-0-12": ["XML0", "XML12", "XML13"],
            "published-sizes": ["XML9", "XML13", "XML14", "XML15"], "std-3176": ["XML13"],
            "comma-decimal": ["XML2", "XML3"], "money-order": ["XML2", "XML3"], "unknown-element": ["XML3"]}
    for p in PATTERNS:
        if p in patterns:
            tables += need.get(p, [])
    return sorted(set(tables), key=lambda t: int(t[3:]))


def _stay(rng: Random, patterns: frozenset[str], facility: str, index: int) -> Stay:
    """An invented episode at ``facility`` consistent with the patterns chosen."""
    standard = "3176" if "std-3176" in patterns else "130"
    disease = rng.choice(DISEASES)
    tables = _tables(rng, patterns, disease[2])
    if "XML9" in tables:
        disease = BIRTH
        if "XML7" not in tables and "tables-omitted" not in patterns:
            tables = sorted({*tables, "XML5", "XML7", "XML8"}, key=lambda t: int(t[3:]))
    elif "XML10" in tables:
        disease = THREATENED
    inpatient = disease[2]
    mother = disease in (BIRTH, THREATENED)
    sex = "2" if mother else rng.choice("12")
    today = datetime(2024, 1, 1, 7, 0) + timedelta(days=rng.randint(0, 540), minutes=rng.randint(0, 600))
    age_years = rng.randint(20, 40) if mother else rng.randint(1, 88)
    born = date(today.year - age_years, rng.randint(1, 12), rng.randint(1, 28))
    place = rng.choice(PLACES)
    cards = _cards(rng, place[0], facility if rng.random() < 0.7 else f"{place[0]}{rng.randint(1, 99):03d}",
                   today, "dates-8" in patterns, age_years < 6)
    person = Person(
        name=_name(rng, sex), sex=sex, born=born, cccd=_identity(rng, sex, born, "cccd-other" in patterns),
        place=place, address=f"Số {rng.randint(1, 300)}, đường {rng.choice(STREETS)}, {place[5]}, {place[3]}, {place[1]}",
        phone=f"09{rng.randint(0, 99999999):08d}", occupation=rng.choice(OCCUPATIONS), cards=cards)
    days = rng.randint(2, 9) if inpatient else 0
    discharged = today + timedelta(days=days, hours=rng.randint(1, 6))
    secondary = rng.sample(SECONDARY, rng.randint(0, 2))
    if "XML15" in tables:
        secondary.append(TB)
    if "XML6" in tables:
        secondary.append(HIV)
    stay = Stay(
        rng=rng, patterns=patterns, standard=standard,
        ma_lk=f"{today:%y%m%d}{facility[-3:]}{index:02d}{rng.randint(0, 9999):04d}", facility=facility,
        person=person, tables=tables, disease=disease, secondary=[s for s in secondary if s[0] != disease[0]],
        admitted=today, discharged=discharged, paid=discharged + timedelta(minutes=rng.randint(5, 90)),
        inpatient=inpatient,
        department=DEPARTMENTS[4] if disease == BIRTH else rng.choice(DEPARTMENTS[2:4] if inpatient else DEPARTMENTS[:1]),
        doctor=licence(rng), head=f"{rng.randint(1, 999999):06d}", head_licence=licence(rng),
        destination=f"{place[0]}{rng.randint(1, 99):03d}")
    stay.category = _category(stay)
    stay.patient_id = f"BN{rng.randint(0, 99999999):08d}"
    stay.transfer_paper = f"{facility}/{today.year}/{rng.randint(1, 99999):05d}"
    if "cccd-other" in patterns:
        stay.departures.add("SO_CCCD")
    return stay


# ============================================================================ the tables

def _cost_row(s: Stay, qty: Decimal, price: Decimal, scope: int) -> dict[str, str]:
    """Money of one XML2/XML3 row: the fund pays MUC_HUONG of the part in scope (TYLE_TT_BH)."""
    level = int(s.person.cards[-1].number[2])
    rate = {1: 100, 2: 100, 3: 95}.get(level, 80)
    bv = (qty * price).quantize(_CENT, ROUND_HALF_UP)
    bh = (bv * scope / 100).quantize(_CENT, ROUND_HALF_UP)
    bhtt = (bh * rate / 100).quantize(_CENT, ROUND_HALF_UP)
    parts = {"THANH_TIEN_BV": bv, "THANH_TIEN_BH": bh, "T_BNTT": bv - bh, "T_BNCCT": bh - bhtt, "T_BHTT": bhtt}
    for name in ("T_BNTT", "T_BNCCT", "T_BHTT"):
        s.add(name, parts[name])
    s.add("T_TONGCHI_BV", bv)
    s.add("T_TONGCHI_BH", bh)
    zero = {n: "0" for n in ("T_NGUONKHAC_NSNN", "T_NGUONKHAC_VTNN", "T_NGUONKHAC_VTTN", "T_NGUONKHAC_CL", "T_NGUONKHAC")}
    return {**{k: money(v) for k, v in parts.items()}, **zero, "MUC_HUONG": str(rate)}


def _qty(whole: int, half: bool) -> Decimal:
    return Decimal(whole) + (Decimal("0.5") if half else 0)


def xml2(s: Stay) -> list[dict[str, str]]:
    rng = s.rng
    rows = []
    for i, (code, name, strength, unit, form, route, price, reg) in enumerate(rng.sample(DRUGS, rng.randint(1, 4)), 1):
        half = s.on("comma-decimal") and i == 1 or rng.random() < 0.15
        qty = _qty(rng.randint(1, 20), half)
        scope = 50 if i == 2 else 100
        ordered = s.moment()
        row = {"STT": str(i), "MA_THUOC": code, "MA_NHOM": "4", "TEN_THUOC": name, "DON_VI_TINH": unit,
               "HAM_LUONG": strength, "DUONG_DUNG": route, "DANG_BAO_CHE": form,
               "LIEU_DUNG": f"{rng.randint(1, 2)} {unit.lower()}/lần x {rng.randint(1, 3)} lần/ngày",
               "CACH_DUNG": "Uống sau ăn" if route == "1.01" else "Tiêm/truyền theo y lệnh", "SO_DANG_KY": reg,
               "TT_THAU": f"G1;N{rng.randint(1, 5)};{s.admitted.year - 1};{rng.randint(10, 99)}/QĐ-BV",
               "PHAM_VI": "1", "TYLE_TT_BH": str(scope), "SO_LUONG": number(qty, s.on("comma-decimal")),
               "DON_GIA": number(Decimal(price), s.on("comma-decimal")), **_cost_row(s, qty, Decimal(price), scope),
               "MA_KHOA": s.department[0], "MA_BAC_SI": s.doctor, "NGAY_YL": d12(ordered),
               "NGAY_TH_YL": d12(min(ordered + timedelta(minutes=30), s.discharged)), "MA_PTTT": "1",
               "NGUON_CTRA": "1"}
        s.add("T_THUOC", Decimal(row["THANH_TIEN_BV"]))
        rows.append(row)
    return rows


def xml3(s: Stay) -> list[dict[str, str]]:
    rng = s.rng
    items: list[tuple[str, ...]] = [("service",) + EXAM]
    items += [("service",) + svc[:5] for svc in rng.sample(SERVICES, rng.randint(1, 3))]
    if s.inpatient:
        items.append(("bed",) + BED)
    items += [("supply",) + sup for sup in rng.sample(SUPPLIES, rng.randint(1, 2))]
    rows = []
    for i, item in enumerate(items, 1):
        kind = item[0]
        ordered = s.moment()
        if kind == "supply":
            _, code, name, unit, price = item
            qty = _qty(rng.randint(1, 4), False)
            row = {"MA_VAT_TU": code, "MA_NHOM": "10", "TEN_VAT_TU": name, "TT_THAU": f"G1;{s.admitted.year - 1};VT{rng.randint(1, 99)}"}
        else:
            _, code, name, group, unit, price = item
            qty = Decimal(max(1, (s.discharged.date() - s.admitted.date()).days)) if kind == "bed" else Decimal(1)
            row = {"MA_DICH_VU": code, "MA_NHOM": group, "TEN_DICH_VU": name}
            if kind == "bed":
                row["MA_GIUONG"] = f"H{rng.randint(1, 9)}-{rng.randint(1, 40):02d}"
        if s.on("comma-decimal") and kind == "supply" and "." not in price:
            price = f"{price}.5"  # a price with cents, so the comma shows
        dec_price = Decimal(price)
        comma = s.on("comma-decimal")
        row |= {"STT": str(i), "DON_VI_TINH": unit, "PHAM_VI": "1", "SO_LUONG": number(qty, comma),
                "DON_GIA_BV": number(dec_price, comma), "DON_GIA_BH": number(dec_price, comma), "TYLE_TT_DV": "100",
                "TYLE_TT_BH": "100", **_cost_row(s, qty, dec_price, 100), "MA_KHOA": s.department[0],
                "MA_BAC_SI": s.doctor, "MA_BENH": ";".join([s.disease[0]] + [c for c, _ in s.secondary]),
                "NGAY_YL": d12(ordered), "NGAY_TH_YL": d12(min(ordered + timedelta(minutes=20), s.discharged)),
                "MA_PTTT": "1"}
        if kind == "service" and row["MA_NHOM"] == "1":
            row["NGAY_KQ"] = d12(min(ordered + timedelta(minutes=90), s.discharged))
            row["MA_MAY"] = f"XN.1.{s.facility}.{rng.randint(1, 99):05d}"
        if kind == "supply":
            s.add("T_VTYT", Decimal(row["THANH_TIEN_BV"]))
        rows.append(row)
    return rows


def xml4(s: Stay, services: list[dict[str, str]]) -> list[dict[str, str]]:
    rng = s.rng
    rows: list[dict[str, str]] = []
    chosen = {row.get("MA_DICH_VU"): row for row in services}
    for code, _name, _group, _unit, _price, indicators in SERVICES:
        if code not in chosen:
            continue
        done = chosen[code].get("NGAY_KQ") or chosen[code]["NGAY_TH_YL"]
        if not indicators:
            rows.append({"MA_DICH_VU": code, "TEN_CHI_SO": "Kết luận", "MO_TA": "Hình ảnh trong giới hạn bình thường",
                         "KET_LUAN": "Chưa ghi nhận bất thường", "NGAY_KQ": done, "MA_BS_DOC_KQ": licence(rng)})
        for ind, name, (lo, hi), unit in indicators:
            value = Decimal(str(round(rng.uniform(lo, hi), 1)))
            rows.append({"MA_DICH_VU": code, "MA_CHI_SO": ind, "TEN_CHI_SO": name, "GIA_TRI": money(value),
                         "DON_VI_DO": unit, "NGAY_KQ": done, "MA_BS_DOC_KQ": licence(rng)})
    if not rows:
        rows.append({"MA_DICH_VU": "23.0075.1494", "MA_CHI_SO": "GLU", "TEN_CHI_SO": "Glucose", "GIA_TRI": "5.4",
                     "DON_VI_DO": "mmol/L", "NGAY_KQ": d12(s.moment()), "MA_BS_DOC_KQ": licence(rng)})
    for i, row in enumerate(rows, 1):
        row["STT"] = str(i)
    return rows


def xml5(s: Stay) -> list[dict[str, str]]:
    rng = s.rng
    days = max(1, (s.discharged.date() - s.admitted.date()).days)
    rows = []
    for i in range(min(days, 4)):
        at = min(s.admitted + timedelta(days=i, hours=2), s.discharged)
        rows.append({"STT": str(i + 1), "DIEN_BIEN_LS": rng.choice(PROGRESS),
                     "GIAI_DOAN_BENH": "Giai đoạn ổn định" if i else "Khởi phát",
                     "HOI_CHAN": "Hội chẩn khoa: thống nhất hướng điều trị" if i == 1 else "",
                     "THOI_DIEM_DBLS": d12(at), "NGUOI_THUC_HIEN": s.doctor})
    return rows


def _cards_fields(s: Stay, many: bool) -> dict[str, str]:
    cards = s.person.cards if many else s.person.cards[-1:]
    return {"MA_THE_BHYT": ";".join(c.number for c in cards), "MA_DKBD": ";".join(c.facility for c in cards),
            "GT_THE_TU": ";".join(d8(c.start) for c in cards), "GT_THE_DEN": ";".join(d8(c.end) for c in cards)}


def _category(s: Stay) -> str:
    """MA_DOITUONG_KCB: 3 characters, or 4 (since 4750) with the pattern."""
    return s.rng.choice(["1.10", "1.11", "1.12", "3.10"]) if s.on("doituong-4") else s.rng.choice(
        ["1.1", "1.2", "1.3", "1.4", "1.7", "2.1", "3.1"])


def xml1(s: Stay) -> dict[str, str]:
    p, rng = s.person, s.rng
    transfer = "XML13" in s.tables
    row = {"MA_LK": s.ma_lk, "STT": "1", "MA_BN": s.patient_id, "HO_TEN": p.name,
           "SO_CCCD": p.cccd, "NGAY_SINH": p.born12, "GIOI_TINH": p.sex,
           "NHOM_MAU": rng.choice(BLOOD) if rng.random() < 0.3 else "", "MA_QUOCTICH": "000", "MA_DANTOC": "01",
           "MA_NGHE_NGHIEP": p.occupation, "DIA_CHI": p.address, "MATINH_CU_TRU": p.place[0],
           "MAHUYEN_CU_TRU": p.place[2], "MAXA_CU_TRU": p.place[4], "DIEN_THOAI": p.phone,
           **_cards_fields(s, True), "LY_DO_VV": s.disease[3], "CHAN_DOAN_VAO": s.disease[1],
           "CHAN_DOAN_RV": "; ".join([s.disease[1]] + [n for _, n in s.secondary]), "MA_BENH_CHINH": s.disease[0],
           "MA_BENH_KT": ";".join(c for c, _ in s.secondary), "MA_DOITUONG_KCB": s.category,
           "MA_NOI_DEN": s.destination if transfer else "", "NGAY_VAO": d12(s.admitted),
           "NGAY_VAO_NOI_TRU": d12(s.admitted + timedelta(minutes=45)) if s.inpatient else "",
           "NGAY_RA": d12(s.discharged), "GIAY_CHUYEN_TUYEN": s.transfer_paper if transfer else "",
           "SO_NGAY_DTRI": str(max(1, (s.discharged.date() - s.admitted.date()).days)),
           "PP_DIEU_TRI": "Nội khoa" if s.disease[0] != "K35.8" else "Phẫu thuật nội soi cắt ruột thừa",
           "KET_QUA_DTRI": "3" if transfer else rng.choice("12"), "MA_LOAI_RV": "2" if transfer else "1",
           "GHI_CHU": "" if rng.random() < 0.7 else "Người bệnh tự túc tiền ăn & chi phí ngoài danh mục",
           "NGAY_TTOAN": d12(s.paid)}
    totals = {n: money(s.totals.get(n, Decimal(0))) for n in
              ("T_THUOC", "T_VTYT", "T_TONGCHI_BV", "T_TONGCHI_BH", "T_BNTT", "T_BNCCT", "T_BHTT")}
    row |= {**totals, "T_NGUONKHAC": "0", "T_BHTT_GDV": "0", "NAM_QT": str(s.paid.year),
            "THANG_QT": str(s.paid.month), "MA_LOAI_KCB": "03" if s.inpatient else "01", "MA_KHOA": s.department[0],
            "MA_CSKCB": s.facility, "MA_KHUVUC": "", "CAN_NANG": f"{rng.randint(45, 80)}.{rng.randint(0, 9)}",
            "CAN_NANG_CON": "3200" if s.disease == BIRTH else "",
            "NGAY_TAI_KHAM": d8(s.discharged.date() + timedelta(days=14)) if "XML14" in s.tables else "",
            "MA_HSBA": f"{s.admitted.year}/{rng.randint(1, 99999):05d}", "MA_TTDV": s.ttdv("XML1")}
    return row


def xml0(s: Stay) -> list[dict[str, str]]:
    """Check-in records (trạng thái KCB): the registration and the first order."""
    p, card = s.person, s.person.cards[-1]
    base = {"MA_LK": s.ma_lk, "MA_BN": s.patient_id, "HO_TEN": p.name, "SO_CCCD": p.cccd, "NGAY_SINH": p.born12,
            "GIOI_TINH": p.sex, "MA_THE_BHYT": card.number, "MA_DKBD": card.facility, "GT_THE_TU": d8(card.start),
            "GT_THE_DEN": d8(card.end), "MA_DOITUONG_KCB": s.category, "NGAY_VAO": d12(s.admitted),
            "NGAY_VAO_NOI_TRU": d12(s.admitted + timedelta(minutes=45)) if s.inpatient else "",
            "MA_LOAI_KCB": "03" if s.inpatient else "01", "MA_CSKCB": s.facility}
    first = {**base, "STT": "1", "MA_DICH_VU": EXAM[0], "TEN_DICH_VU": EXAM[1], "NGAY_YL": d12(s.admitted)}
    drug = DRUGS[0]
    second = {**base, "STT": "2", "MA_THUOC": drug[0], "TEN_THUOC": f"{drug[1]} {drug[2]}",
              "NGAY_YL": d12(s.admitted + timedelta(minutes=30))}
    return [first, second]


def xml6(s: Stay) -> list[dict[str, str]]:
    """HIV/AIDS care record: dates of 8 characters, as published."""
    p, rng = s.person, s.rng
    start = s.admitted.date()
    diagnosed = start - timedelta(days=rng.randint(400, 2000))
    arv = diagnosed + timedelta(days=rng.randint(7, 60))
    return [{"MA_LK": s.ma_lk, "MA_THE_BHYT": p.cards[-1].number, "SO_CCCD": p.cccd, "NGAY_SINH": d8(p.born),
             "GIOI_TINH": p.sex, "DIA_CHI": p.address, "MATINH_CU_TRU": p.place[0], "MAHUYEN_CU_TRU": p.place[2],
             "MAXA_CU_TRU": p.place[4], "NGAYKD_HIV": d8(diagnosed), "NOI_LAY_MAU_XN": s.facility,
             "NOI_XN_KD": s.facility, "NOI_BDDT_ARV": s.facility, "BDDT_ARV": d8(arv),
             "MA_PHAC_DO_DIEU_TRI_BD": "TDF+3TC+DTG", "MA_BAC_PHAC_DO_BD": "1", "MA_LYDO_DTRI": "1",
             "LOAI_DTRI_LAO": "1", "SANG_LOC_LAO": "1", "PHACDO_DTRI_LAO": "1",
             "NGAYBD_DTRI_LAO": d8(start - timedelta(days=60)), "NGAYKT_DTRI_LAO": d8(start + timedelta(days=120)),
             "KQ_DTRI_LAO": "1", "MA_LYDO_XNTL_VR": "1", "NGAY_XN_TLVR": d8(start - timedelta(days=30)),
             "KQ_XNTL_VR": "1", "NGAY_KQ_XN_TLVR": d8(start - timedelta(days=23)), "MA_LOAI_BN": "1",
             "GIAI_DOAN_LAM_SANG": "2", "NHOM_DOI_TUONG": "1", "MA_TINH_TRANG_DK": "1;3", "LAN_XN_PCR": "1",
             "NGAY_XN_PCR": d8(start - timedelta(days=10)), "NGAY_KQ_XN_PCR": d8(start - timedelta(days=3)),
             "MA_KQ_XN_PCR": "0", "NGAY_BAT_DAU_DT_CTX": d8(arv), "MA_XU_TRI": "1",
             "NGAY_BAT_DAU_XU_TRI": d8(start), "NGAY_KET_THUC_XU_TRI": d8(s.discharged.date()),
             "MA_PHAC_DO_DIEU_TRI": "TDF+3TC+DTG", "MA_BAC_PHAC_DO": "1", "SO_NGAY_CAP_THUOC_ARV": "90",
             "NGAY_CHUYEN_PHAC_DO": d8(start - timedelta(days=200)), "LY_DO_CHUYEN_PHAC_DO": "2",
             "MA_CSKCB": s.facility}]


def xml7(s: Stay) -> dict[str, str]:
    rng = s.rng
    return {"MA_LK": s.ma_lk, "SO_LUU_TRU": f"LT{s.admitted.year}/{rng.randint(1, 99999):05d}",
            "MA_YTE": f"YT{rng.randint(0, 9999999):07d}", "MA_KHOA_RV": s.department[0], "NGAY_VAO": d12(s.admitted),
            "NGAY_RA": d12(s.discharged), "TUOI_THAI": "39" if s.disease == BIRTH else "",
            "CHAN_DOAN_RV": s.disease[1], "PP_DIEUTRI": "Điều trị nội khoa, theo dõi sát sinh hiệu",
            "GHI_CHU": "Tái khám sau 2 tuần hoặc khi có bất thường", "MA_TTDV": s.ttdv("XML7"), "MA_BS": s.doctor,
            "TEN_BS": _name(rng, rng.choice("12")), "NGAY_CT": d8(s.discharged.date()),
            "SO_NGAY_NGHI": str(rng.randint(3, 10)) if rng.random() < 0.5 else ""}


def xml8(s: Stay) -> dict[str, str]:
    return {"MA_LK": s.ma_lk, "MA_LOAI_KCB": "3", "DON_VI": "Công ty TNHH Thương mại Dịch vụ An Phú",
            "NGAY_VAO": d12(s.admitted), "NGAY_RA": d12(s.discharged), "CHAN_DOAN_VAO": s.disease[1],
            "CHAN_DOAN_RV": s.disease[1], "QT_BENHLY": f"{s.disease[3]}.\nVào viện điều trị tại {s.department[1]}.",
            "TOMTAT_KQ": "Công thức máu: bạch cầu tăng nhẹ.\nX-quang: tổn thương phù hợp chẩn đoán.",
            "PP_DIEUTRI": "Nội khoa", "NGAY_SINHCON": d8(s.admitted.date()) if s.disease == BIRTH else "",
            "KET_QUA_DTRI": "1", "MA_TTDV": s.ttdv("XML8"), "NGAY_CT": d8(s.discharged.date())}


def xml9(s: Stay) -> list[dict[str, str]]:
    """Birth certificate: the patient is the mother."""
    p, rng = s.person, s.rng
    born = s.admitted + timedelta(hours=rng.randint(1, 12))
    sex = rng.choice("12")
    return [{"MA_LK": s.ma_lk, "MA_BHXH_NND": p.cards[-1].number[-10:], "MA_THE_NND": p.cards[-1].number,
             "HO_TEN_NND": p.name, "NGAYSINH_NND": d8(p.born), "MA_DANTOC_NND": "01",
             "SO_CCCD_NND": _identity(rng, p.sex, p.born, False),
             "NGAYCAP_CCCD_NND": d8(date(max(p.born.year + 16, 2021), rng.randint(1, 12), rng.randint(1, 28))),
             "NOICAP_CCCD_NND": "Cục Cảnh sát quản lý hành chính về trật tự xã hội", "NOI_CU_TRU_NND": p.address,
             "MA_QUOCTICH": "000", "MATINH_CU_TRU": p.place[0], "MAHUYEN_CU_TRU": p.place[2],
             "MAXA_CU_TRU": p.place[4], "HO_TEN_CHA": _name(rng, "1"),
             "MA_THE_TAM": f"TE1{p.place[0]}{rng.randint(0, 9999999999):010d}", "HO_TEN_CON": "",
             "GIOI_TINH_CON": sex, "SO_CON": "1", "LAN_SINH": str(rng.randint(1, 3)), "SO_CON_SONG": "1",
             "CAN_NANG_CON": str(rng.randint(2600, 3900)), "NGAY_SINH_CON": d12(born),
             "NOI_SINH_CON": f"{s.department[1] if s.department[0] == 'K26' else 'Khoa Phụ sản'}, cơ sở {s.facility}",
             "TINH_TRANG_CON": "Khỏe mạnh", "SINHCON_PHAUTHUAT": "0", "SINHCON_DUOI32TUAN": "0",
             "GHI_CHU": "Sinh thường", "NGUOI_DO_DE": _name(rng, "2"), "NGUOI_GHI_PHIEU": _name(rng, "2"),
             "NGAY_CT": d8(s.discharged.date()), "SO": str(rng.randint(1, 9999)), "QUYEN_SO": f"{rng.randint(1, 12):02d}/{born.year}",
             "MA_TTDV": s.ttdv("XML9")}]


def xml10(s: Stay) -> dict[str, str]:
    rng = s.rng
    start = s.discharged.date()
    return {"MA_LK": s.ma_lk, "SO_SERI": f"{rng.randint(1, 999999):06d}", "SO_CT": f"{rng.randint(1, 9999)}/GNDT",
            "SO_NGAY": "10", "DON_VI": "Trường Tiểu học Hòa Bình", "CHAN_DOAN_RV": s.disease[1], "TU_NGAY": d8(start),
            "DEN_NGAY": d8(start + timedelta(days=9)), "MA_TTDV": s.ttdv("XML10"), "TEN_BS": _name(rng, "2"),
            "MA_BS": s.doctor, "NGAY_CT": d8(start)}


def xml11(s: Stay) -> dict[str, str]:
    rng = s.rng
    start = s.discharged.date()
    return {"MA_LK": s.ma_lk, "SO_CT": f"{rng.randint(1, 9999)}/GCN", "SO_SERI": f"{rng.randint(1, 999999):06d}",
            "SO_KCB": f"{s.admitted.year}/{rng.randint(1, 99999)}", "DON_VI": "Công ty Cổ phần Xây dựng Minh Long",
            "MA_BHXH": s.person.cards[-1].number[-10:], "MA_THE_BHYT": s.person.cards[-1].number,
            "CHAN_DOAN_RV": s.disease[1], "PP_DIEUTRI": "Nội khoa", "SO_NGAY_NGHI": "5", "TU_NGAY": d8(start),
            "DEN_NGAY": d8(start + timedelta(days=4)), "MA_TTDV": s.ttdv("XML11"), "MA_BS": s.doctor,
            "NGAY_CT": d8(start), "MAU_SO": "CT07"}


def xml12(s: Stay) -> dict[str, str]:
    """Medical assessment (giám định y khoa): no MA_LK; the person is the patient."""
    p, rng = s.person, s.rng
    met = s.discharged.date() + timedelta(days=rng.randint(7, 30))
    return {"NGUOI_CHU_TRI": _name(rng, rng.choice("12")), "CHUC_VU": "1", "NGAY_HOP": d8(met), "HO_TEN": p.name,
            "NGAY_SINH": d8(p.born), "SO_CCCD": p.cccd,
            "NGAY_CAP_CCCD": d8(date(max(p.born.year + 16, 2021), 6, 15)),
            "NOI_CAP_CCCD": "Cục Cảnh sát quản lý hành chính về trật tự xã hội", "DIA_CHI": p.address,
            "MATINH_CU_TRU": p.place[0], "MAHUYEN_CU_TRU": p.place[2], "MAXA_CU_TRU": p.place[4],
            "MA_BHXH": p.cards[-1].number[-10:], "MA_THE_BHYT": p.cards[-1].number, "NGHE_NGHIEP": "Công nhân",
            "DIEN_THOAI": p.phone, "MA_DOI_TUONG": "1", "KHAM_GIAM_DINH": "1",
            "SO_BIEN_BAN": f"{rng.randint(1, 9999)}/GĐYK-{met.year}", "TYLE_TTCT_CU": "0", "DANG_HUONG_CHE_DO": "1",
            "NGAY_CHUNG_TU": d8(met), "SO_GIAY_GIOI_THIEU": f"{rng.randint(1, 9999)}/GGT",
            "NGAY_DE_NGHI": d8(met - timedelta(days=5)), "MA_DONVI": f"BHXH{p.place[0]}",
            "GIOI_THIEU_CUA": f"Bảo hiểm xã hội {p.place[3]}",
            "KET_QUA_KHAM": "Di chứng sau điều trị, vận động hạn chế nhẹ", "SO_VAN_BAN_CAN_CU": "56/2017/TT-BYT",
            "TYLE_TTCT_MOI": "21", "TONG_TYLE_TTCT": "21", "DANG_KHUYETTAT": "1", "MUC_DO_KHUYETTAT": "3",
            "DE_NGHI": "Hưởng chế độ theo quy định", "DUOC_XACDINH": "Suy giảm khả năng lao động 21%"}


def xml13(s: Stay) -> dict[str, str]:
    """Transfer paper; 3176 names the facilities MA_CSKCB_DI / MA_CSKCB_DEN and adds TINH_TRANG_CT."""
    p, rng = s.person, s.rng
    many = s.on("dates-8")
    row = {"MA_LK": s.ma_lk, "SO_HOSO": f"HS{s.admitted.year}-{rng.randint(1, 999999):06d}",
           "SO_CHUYENTUYEN": f"{rng.randint(1, 9999)}/{s.admitted.year}/CT", "GIAY_CHUYEN_TUYEN": s.transfer_paper,
           "MA_CSKCB": s.facility, "HO_TEN": p.name, "NGAY_SINH": p.born12, "GIOI_TINH": p.sex,
           "MA_QUOCTICH": "000", "MA_DANTOC": "01", "MA_NGHE_NGHIEP": p.occupation, "DIA_CHI": p.address,
           "MA_THE_BHYT": _cards_fields(s, many)["MA_THE_BHYT"], "GT_THE_DEN": _cards_fields(s, many)["GT_THE_DEN"],
           "NGAY_VAO": d12(s.admitted), "NGAY_VAO_NOI_TRU": d12(s.admitted + timedelta(minutes=45)) if s.inpatient else "",
           "NGAY_RA": d12(s.discharged), "DAU_HIEU_LS": "Sốt 38,5°C, mạch 96 lần/phút, huyết áp 110/70 mmHg",
           "CHAN_DOAN_RV": s.disease[1], "QT_BENHLY": f"{s.disease[3]}, điều trị không cải thiện",
           "TOMTAT_KQ": "Xét nghiệm máu: bạch cầu 14,2 G/L", "PP_DIEUTRI": "Kháng sinh, hạ sốt, bù dịch",
           "MA_BENH_CHINH": s.disease[0], "MA_BENH_KT": ";".join(c for c, _ in s.secondary),
           "TEN_DICH_VU": "Tổng phân tích tế bào máu; Chụp X-quang ngực thẳng",
           "TEN_THUOC": "Ceftriaxon 1g; Paracetamol 500mg",
           "MA_LOAI_RV": "2", "MA_LYDO_CT": rng.choice("12"), "HUONG_DIEU_TRI": "Tiếp tục điều trị tại tuyến trên",
           "PHUONGTIEN_VC": "Xe cứu thương", "HOTEN_NGUOI_HT": _name(rng, rng.choice("12")),
           "CHUCDANH_NGUOI_HT": "Điều dưỡng", "MA_BAC_SI": s.doctor, "MA_TTDV": s.ttdv("XML13")}
    if s.standard == "3176":
        came_from = [f"{p.place[0]}{rng.randint(1, 99):03d}" for _ in range(rng.randint(1, 3))] + [s.facility]
        row |= {"MA_CSKCB_DI": ";".join(came_from), "MA_CSKCB_DEN": s.destination,
                "TINH_TRANG_CT": "Người bệnh tỉnh, sinh hiệu ổn định khi chuyển"}
    else:
        row |= {"MA_NOI_DI": s.facility, "MA_NOI_DEN": s.destination}
        if s.on("tables-0-12"):
            row["PP_DIEU_TRI"] = "Nội khoa"
    return row


def xml14(s: Stay) -> dict[str, str]:
    p, card, rng = s.person, s.person.cards[-1], s.rng
    return {"MA_LK": s.ma_lk, "SO_GIAYHEN_KL": f"{rng.randint(1, 99999)}/GH", "MA_CSKCB": s.facility,
            "HO_TEN": p.name, "NGAY_SINH": p.born12, "GIOI_TINH": p.sex, "DIA_CHI": p.address,
            "MA_THE_BHYT": card.number, "GT_THE_DEN": d8(card.end), "NGAY_VAO": d12(s.admitted),
            "NGAY_VAO_NOI_TRU": d12(s.admitted + timedelta(minutes=45)) if s.inpatient else "",
            "NGAY_RA": d12(s.discharged), "NGAY_HEN_KL": d8(s.discharged.date() + timedelta(days=14)),
            "CHAN_DOAN_RV": s.disease[1], "MA_BENH_CHINH": s.disease[0],
            "MA_BENH_KT": ";".join(c for c, _ in s.secondary), "MA_DOITUONG_KCB": s.category,
            "MA_BAC_SI": s.doctor, "MA_TTDV": s.ttdv("XML14"), "NGAY_CT": d8(s.discharged.date())}


def xml15(s: Stay) -> list[dict[str, str]]:
    p = s.person
    start = s.admitted.date() - timedelta(days=30)
    return [{"MA_LK": s.ma_lk, "STT": "1", "MA_BN": s.patient_id, "HO_TEN": p.name, "SO_CCCD": p.cccd,
             "PHANLOAI_LAO_VITRI": "1", "PHANLOAI_LAO_TS": "1", "PHANLOAI_LAO_HIV": "1" if "XML6" in s.tables else "2",
             "PHANLOAI_LAO_VK": "1", "PHANLOAI_LAO_KT": "2", "LOAI_DTRI_LAO": "1", "NGAYBD_DTRI_LAO": d8(start),
             "PHACDO_DTRI_LAO": "1", "NGAYKT_DTRI_LAO": d8(start + timedelta(days=180)), "KET_QUA_DTRI_LAO": "1",
             "MA_CSKCB": s.facility, "NGAYKD_HIV": d8(start - timedelta(days=700)) if "XML6" in s.tables else "",
             "BDDT_ARV": d8(start - timedelta(days=650)) if "XML6" in s.tables else "",
             "NGAY_BAT_DAU_DT_CTX": d8(start + timedelta(days=3))}]


#: fields pattern 7 fills to the published size, per table: "text" (words), "name", "number"
#: (document numbers) or "codes" (';'-separated codes)
SIZED: dict[str, dict[str, str]] = {
    "XML9": {"HO_TEN_NND": "name", "NOICAP_CCCD_NND": "text", "NOI_CU_TRU_NND": "text", "HO_TEN_CHA": "name",
             "HO_TEN_CON": "name", "NOI_SINH_CON": "text", "TINH_TRANG_CON": "text", "GHI_CHU": "text",
             "NGUOI_DO_DE": "name", "NGUOI_GHI_PHIEU": "name", "SO": "number", "QUYEN_SO": "number"},
    "XML13": {"SO_HOSO": "number", "SO_CHUYENTUYEN": "number", "GIAY_CHUYEN_TUYEN": "number", "HO_TEN": "name",
              "DIA_CHI": "text", "DAU_HIEU_LS": "text", "CHAN_DOAN_RV": "text", "QT_BENHLY": "text",
              "TOMTAT_KQ": "text", "PP_DIEUTRI": "text", "MA_BENH_KT": "codes", "TEN_DICH_VU": "text",
              "TEN_THUOC": "text", "PP_DIEU_TRI": "text", "TINH_TRANG_CT": "text", "HUONG_DIEU_TRI": "text",
              "PHUONGTIEN_VC": "text", "HOTEN_NGUOI_HT": "name", "CHUCDANH_NGUOI_HT": "text", "MA_BAC_SI": "licences"},
    "XML14": {"SO_GIAYHEN_KL": "number", "HO_TEN": "name", "DIA_CHI": "text", "CHAN_DOAN_RV": "text",
              "MA_BENH_KT": "codes", "MA_BAC_SI": "licences"},
    "XML15": {"MA_BN": "number", "HO_TEN": "name"},
}


def _fill_sizes(s: Stay, table: str, record: dict[str, str]) -> None:
    """Pattern 7: values exactly as long as the published size (or as many codes as fit)."""
    rng = s.rng
    names = FAMILY + MIDDLE_F + MIDDLE_M + GIVEN_F + GIVEN_M
    for name, kind in SIZED.get(table, {}).items():
        if name not in record:
            continue
        n = published_size("130", table, name)
        if kind == "codes":
            record[name] = code_list(rng, n or 100, [c for c, _ in SECONDARY] + [TB[0], "J30.4", "E78.5"])
        elif kind == "licences":
            record[name] = code_list(rng, n or 255, [licence(rng) for _ in range(30)])
        elif kind == "number":
            record[name] = document_number(rng, n or 50, f"{s.facility}/{s.admitted.year}")
        else:
            record[name] = sized(rng, n, names if kind == "name" else WORDS, " " if kind == "name" else ", ")


# ============================================================================ writing XML

@dataclass(frozen=True)
class Style:
    """How one hospital's software writes its files (the quirk patterns)."""
    declaration: str | None  # None: no XML declaration in the table documents
    bom: bool
    newline: str
    indent: bool
    wrap: bool
    empties: bool
    money_published: bool


def _style(rng: Random, patterns: frozenset[str]) -> Style:
    decl = rng.choice(['<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'])
    return Style(declaration=None if "no-declaration" in patterns else decl, bom="bom" in patterns,
                 newline="\r\n" if "crlf" in patterns else "\n", indent="indent" in patterns,
                 wrap="base64-wrap" in patterns, empties="empty-elements" in patterns,
                 money_published="money-order" in patterns)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def field_order(standard: str, table: str, style: Style, unknown: bool) -> list[str]:
    """The order the software writes a table's fields in: the published one, the money trio
    reversed without the money-order pattern, and the unknown element after its neighbour."""
    order = list(published_order(standard, table))
    if table in ("XML2", "XML3") and not style.money_published:
        at = [order.index(n) for n in _MONEY]
        for i, name in zip(sorted(at), reversed(_MONEY), strict=True):
            order[i] = name
    if unknown and table in UNKNOWN:
        after, name, _ = UNKNOWN[table]
        order.insert(order.index(after) + 1, name)
    return order


def _element(rng: Random, name: str, value: str, style: Style) -> str | None:
    """One field as text, or None when the software leaves it out."""
    if value == "":
        if not style.empties:
            return None
        return f"<{name}/>" if rng.random() < 0.5 else f"<{name}></{name}>"
    return f"<{name}>{escape(value.replace(chr(10), style.newline))}</{name}>"


def table_document(rng: Random, standard: str, table: str, records: list[dict[str, str]], style: Style,
                   unknown: bool) -> tuple[bytes, list[dict[str, str]]]:
    """A table document, and its records as a reader must get them (fields written, in order)."""
    root, lst, rec = SHAPES[table]
    order = field_order(standard, table, style, unknown)
    nl = style.newline if style.indent else ""
    pad = (lambda depth: "  " * depth) if style.indent else (lambda depth: "")
    depth = 1 if lst is None else 3
    lines = [f"{pad(0)}<{root}>"]
    if lst:
        lines.append(f"{pad(1)}<{lst}>")
    read: list[dict[str, str]] = []
    for record in records:
        if rec:
            lines.append(f"{pad(2)}<{rec}>")
        got: dict[str, str] = {}
        for name in order:
            text = _element(rng, name, record.get(name, ""), style)
            if text is not None:
                lines.append(pad(depth) + text)
                got[name] = record.get(name, "")
        if rec:
            lines.append(f"{pad(2)}</{rec}>")
        read.append(got)
    if lst:
        lines.append(f"{pad(1)}</{lst}>")
    lines.append(f"</{root}>")
    body = nl.join(lines)
    if style.declaration:
        body = style.declaration + style.newline + body
    data = body.encode("utf-8")
    return (b"\xef\xbb\xbf" + data if style.bom else data), read


def _base64(data: bytes, style: Style) -> str:
    text = base64.b64encode(data).decode("ascii")
    if not style.wrap:
        return text
    return style.newline.join(text[i:i + 76] for i in range(0, len(text), 76))


# ============================================================================ one HOSO, one envelope

_ROW_TABLES = {"XML0": xml0, "XML6": xml6, "XML9": xml9, "XML15": xml15}
_SINGLE_TABLES = {"XML7": xml7, "XML8": xml8, "XML10": xml10, "XML11": xml11, "XML12": xml12, "XML13": xml13,
                  "XML14": xml14}


def _records(s: Stay) -> dict[str, list[dict[str, str]]]:
    """Every table's records (values as the software holds them; '' = no value)."""
    drugs, services = xml2(s), xml3(s)  # always made: XML1's totals count them even when not sent
    out: dict[str, list[dict[str, str]]] = {"XML1": [xml1(s)], "XML2": drugs, "XML3": services}
    if "XML4" in s.tables:
        out["XML4"] = xml4(s, services)
    if "XML5" in s.tables:
        out["XML5"] = xml5(s)
    for table in s.tables:
        if table in _ROW_TABLES:
            out[table] = _ROW_TABLES[table](s)
        elif table in _SINGLE_TABLES:
            out[table] = [_SINGLE_TABLES[table](s)]
    sent = {t: out[t] for t in s.tables}
    for table, records in sent.items():
        for r in records:
            if table != "XML12":  # the medical assessment is not keyed by episode
                r.setdefault("MA_LK", s.ma_lk)
            if s.on("published-sizes"):
                _fill_sizes(s, table, r)
            if s.on("unknown-element") and table in UNKNOWN:
                r[UNKNOWN[table][1]] = UNKNOWN[table][2]
                s.departures.add(UNKNOWN[table][1])
            if table in ("XML2", "XML3"):
                s.departures.update(n for n in _PRICED if "," in r.get(n, ""))
    return sent


@dataclass(frozen=True)
class Generated:
    """One generated envelope: its bytes, and what reading it must give."""
    seed: int
    patterns: frozenset[str]
    data: bytes
    header: Header
    episodes: tuple[Episode, ...]  # values as a reader gets them (trimmed, line ends LF)
    #: per episode, the fields whose departures the import policy must report as warnings
    departures: tuple[frozenset[str], ...]


def _hoso(rng: Random, s: Stay, style: Style, nl: str) -> tuple[str, Episode]:
    files: list[str] = []
    tables: dict[str, list[dict[str, str]]] = {}
    for table, records in _records(s).items():
        doc, read = table_document(rng, s.standard, table, records, style, s.on("unknown-element"))
        tables[table] = read
        files.append(f"<FILEHOSO><LOAIHOSO>{table}</LOAIHOSO><NOIDUNGFILE>{_base64(doc, style)}</NOIDUNGFILE></FILEHOSO>")
    if style.indent:
        inner = nl.join("        " + f for f in files)
        xml = f"      <HOSO>{nl}{inner}{nl}      </HOSO>"
    else:
        xml = "<HOSO>" + "".join(files) + "</HOSO>"
    return xml, Episode(ma_lk=s.ma_lk, standard=s.standard, tables=tables)


def choose_patterns(rng: Random) -> frozenset[str]:
    """A mix like one hospital's export: each pattern at its own frequency, at least one."""
    chosen = {p for p in PATTERNS if rng.random() < _FREQUENCY[p]}
    return frozenset(chosen or {rng.choice(list(PATTERNS))})


def build(seed: int, patterns: Iterable[str] | None = None, hoso: int | None = None) -> Generated:
    """The envelope of ``seed`` with ``patterns`` (None: a random mix, as ``corpus`` uses; empty:
    none, the published layout written plainly).  ``hoso``: the number of HOSO (default 1, or 2-4
    with several-hoso)."""
    rng = Random(f"realistic:{seed}")
    chosen = choose_patterns(rng) if patterns is None else frozenset(patterns)
    unknown = chosen - PATTERNS.keys()
    if unknown:
        raise ValueError(f"unknown pattern(s): {', '.join(sorted(unknown))}; known: {', '.join(PATTERNS)}")
    count = hoso if hoso is not None else (rng.randint(2, 4) if "several-hoso" in chosen else 1)
    if count < 1:
        raise ValueError("an envelope needs at least one HOSO")
    style = _style(rng, chosen)
    nl = style.newline if style.indent else ""
    facility = f"{rng.choice(PLACES)[0]}{rng.randint(1, 99):03d}"
    stays = [_stay(Random(f"realistic:{seed}:{i}"), chosen, facility, i) for i in range(1, count + 1)]
    made = [_hoso(Random(f"realistic:{seed}:{i}:xml"), s, style, nl) for i, s in enumerate(stays, 1)]
    header = Header(macskcb=facility, ngaylap=d8(max(s.paid for s in stays).date()),
                    soluonghoso=str(count), chukydonvi="<CHUKYDONVI/>")
    sep = style.newline
    ind = (lambda n: "  " * n) if style.indent else (lambda n: "")
    parts = ['<?xml version="1.0" encoding="utf-8"?>', f"<GIAMDINHHS {_ENVELOPE_NS}>",
             f"{ind(1)}<THONGTINDONVI><MACSKCB>{facility}</MACSKCB></THONGTINDONVI>", f"{ind(1)}<THONGTINHOSO>",
             f"{ind(2)}<NGAYLAP>{header.ngaylap}</NGAYLAP>", f"{ind(2)}<SOLUONGHOSO>{count}</SOLUONGHOSO>",
             f"{ind(2)}<DANHSACHHOSO>", *(xml for xml, _ in made), f"{ind(2)}</DANHSACHHOSO>",
             f"{ind(1)}</THONGTINHOSO>", f"{ind(1)}<CHUKYDONVI/>", "</GIAMDINHHS>", ""]
    data = sep.join(parts).encode("utf-8")
    return Generated(seed=seed, patterns=chosen, data=data, header=header,
                     episodes=tuple(ep for _, ep in made), departures=tuple(frozenset(s.departures) for s in stays))


def envelope(seed: int, patterns: Iterable[str] | None = None, hoso: int | None = None) -> bytes:
    """The bytes of ``build(seed, patterns, hoso)``."""
    return build(seed, patterns, hoso).data


def corpus(n: int, seed: int = 2024) -> Iterator[Generated]:
    """``n`` envelopes mixing the patterns as real exports do (each its own random mix)."""
    for i in range(n):
        yield build(seed * 100_003 + i)


# ============================================================================ fixtures

def _fixture_seed(name: str) -> int:
    """A seed per fixture that does not move when patterns are added or reordered."""
    return zlib.crc32(name.encode("ascii")) % 100_000


def fixtures() -> dict[str, Generated]:
    """File name → a small envelope for each pattern alone, plus ``plain.xml`` with none."""
    out = {"plain.xml": build(_fixture_seed("plain"), ())}
    for name in PATTERNS:
        out[f"{name}.xml"] = build(_fixture_seed(name), {name})
    return out


def write_fixtures(folder: Path = FIXTURES) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, gen in fixtures().items():
        path = folder / name
        path.write_bytes(gen.data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mappings.bhyt_xml.realistic", description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", action="store_true", help=f"write the fixtures to {FIXTURES}")
    ap.add_argument("--out", type=Path, default=FIXTURES, help="folder for --fixtures")
    ap.add_argument("--list", action="store_true", help="list the patterns")
    ap.add_argument("--seed", type=int, default=1, help="seed of the envelope written to stdout")
    ap.add_argument("--patterns", help="comma-separated patterns (default: a random mix; '' for none)")
    ap.add_argument("--hoso", type=int, help="number of HOSO")
    args = ap.parse_args(argv)
    if args.list:
        for name, what in PATTERNS.items():
            print(f"{name:16} {what}")
        return 0
    if args.fixtures:
        for path in write_fixtures(args.out):
            print(path)
        return 0
    chosen = None if args.patterns is None else [p for p in args.patterns.split(",") if p]
    sys.stdout.buffer.write(envelope(args.seed, chosen, args.hoso))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
