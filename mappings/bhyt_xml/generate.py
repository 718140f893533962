"""Deterministic sample insurance (BHYT) episodes with realistic Vietnamese content.

For the examples, demos and the 100 MB import benchmark: every episode passes ``check_episode``,
a seed always gives the same episodes, and over a few dozen episodes every field of every table of
the layout turns up.  Row builders return the fields of both standards (``THANH_TIEN`` for 4210,
``THANH_TIEN_BV``/``_BH`` for 130 …); ``_fit`` keeps what the table's layout has, in layout order, and
fills the rest from the field's rule in ``values.json`` or its kind.

``python -m mappings.bhyt_xml.generate examples/bhyt`` rewrites the example envelopes.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Callable, Iterator

from ..transfer54.generate import (
    CARD_GROUPS, DIAGNOSES, FACILITIES, FAMILY, GIVEN_F, GIVEN_M, MIDDLE_F, MIDDLE_M, PLACES, SECONDARY,
    STREETS, YHCT,
)
from .envelope import Episode, Header
from .layouts import TableLayout, layouts
from .values import field_rule, max_length
from .writer import EnvelopeWriter, write_envelope

# (code, name, unit, strength, route code, dose, unit price)
DRUGS = [
    ("40.17", "Paracetamol", "Viên", "500mg", "1.01", "1 viên x 3 lần/ngày", "450"),
    ("40.521", "Metformin", "Viên", "850mg", "1.01", "1 viên x 2 lần/ngày", "1200"),
    ("40.218", "Ceftriaxon", "Lọ", "1g", "2.15", "1 lọ x 2 lần/ngày, tiêm tĩnh mạch", "23500.5"),
    ("40.1012", "Natri clorid 0,9%", "Chai", "500ml", "2.15", "1 chai/ngày, truyền tĩnh mạch", "9870"),
    ("40.88", "Amlodipin", "Viên", "5mg", "1.01", "1 viên/ngày", "365.75"),
    ("40.350", "Omeprazol", "Viên", "20mg", "1.01", "1 viên trước ăn sáng", "780"),
    ("40.699", "Salbutamol", "Ống", "5mg/2,5ml", "3.05", "Khí dung 1 ống x 3 lần/ngày", "4620"),
]
# (code, name, group, unit price, lab?)
SERVICES = [
    ("22.0120.1370", "Tổng phân tích tế bào máu ngoại vi", "2", "65400", True),
    ("23.0075.1494", "Định lượng Glucose [Máu]", "2", "21500", True),
    ("23.0133.1494", "Định lượng Creatinin [Máu]", "2", "21500", True),
    ("18.0068.0028", "Chụp X-quang ngực thẳng", "3", "65400", False),
    ("18.0001.0001", "Siêu âm ổ bụng", "3", "43900", False),
    ("21.0014.1778", "Điện tim thường", "3", "32800", False),
    ("01.0002.1888", "Ngày giường bệnh Nội khoa loại 1", "15", "194600.50", False),
]
SUPPLIES = [("N03.05.010", "Bơm tiêm nhựa 5ml", "Cái", "1150"), ("N04.01.020", "Kim luồn tĩnh mạch", "Cái", "12600.5"),
            ("N05.01.030", "Găng tay y tế", "Đôi", "2900")]
# (index code, name, numeric?, unit)
RESULTS = [("WBC", "Số lượng bạch cầu", True, "G/L"), ("HGB", "Huyết sắc tố", True, "g/L"),
           ("GLU", "Glucose", True, "mmol/L"), ("CRE", "Creatinin", True, "µmol/L"),
           ("HBSAG", "HBsAg test nhanh", False, ""), ("XQ", "Kết quả X-quang", False, "")]
PROGRESS = ["Bệnh nhân tỉnh, tiếp xúc tốt, sốt nhẹ 37,8°C; ho ít, không khó thở.",
            "Huyết áp 130/80 mmHg, mạch 86 l/ph; phổi ran ẩm giảm <so với hôm qua> & ăn uống được.",
            "Hết sốt, ho giảm. Tiếp tục kháng sinh, theo dõi \"dấu hiệu sinh tồn\".",
            "Ổn định, cho ra viện, hẹn tái khám sau 1 tuần."]
DEPARTMENTS = ["K01", "K02", "K03", "K19", "K26", "K48"]
TREATMENTS = ["Nội khoa", "Kháng sinh đường tĩnh mạch, thở oxy", "Phẫu thuật nội soi", "Điều trị triệu chứng"]
PHRASES = ["Theo dõi thêm", "Bình thường", "Không ghi nhận bất thường", "Đã tư vấn cho người bệnh và gia đình",
           "Cấp theo chỉ định của bác sĩ điều trị", "Xã Quảng Tân, huyện Quảng Xương, Thanh Hóa"]
LOAI_KCB = {"130": ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"], "4210": ["1", "2", "3"]}
LOAI_KCB["3176"] = LOAI_KCB["130"]
#: tables of 130 and 3176 an episode may have besides XML1–XML5 (XML0: check-in; XML12: assessment)
OPTIONAL_130 = ("XML0", "XML6", "XML7", "XML8", "XML9", "XML10", "XML11", "XML12", "XML13", "XML14", "XML15")
CONDITIONS = ["Tỉnh, tiếp xúc được, mạch 96 l/ph, HA 110/70 mmHg", "Mệt, sốt 38,5°C, SpO2 93% khí trời",
              "Ổn định, tự đi lại được"]
_CENT = Decimal("0.01")


def _dt(d: datetime) -> str:
    return d.strftime("%Y%m%d%H%M")


def _d8(d: datetime) -> str:
    return d.strftime("%Y%m%d")


def _money(x: Decimal) -> str:
    """VND as the tables write it: no decimals when whole, else up to two."""
    x = x.quantize(_CENT, ROUND_HALF_UP)
    return str(int(x)) if x == x.to_integral_value() else f"{x:.2f}"


def _person(rng: random.Random, male: bool) -> str:
    middle = rng.choice(MIDDLE_M if male else MIDDLE_F)
    return f"{rng.choice(FAMILY)} {middle} {rng.choice(GIVEN_M if male else GIVEN_F)}"


@dataclass
class _Ctx:
    """What all tables of one episode agree on (patient, cards, stay, money totals)."""
    rng: random.Random
    standard: str
    ma_lk: str
    male: bool
    name: str
    born: datetime
    birth_shape: str
    place: tuple[str, str, str, str, str, str]
    cards: list[tuple[str, str, str, str]]
    arrival: datetime
    departure: datetime
    inpatient: bool
    diagnosis: tuple[str, str, str]
    secondary: list[str]
    facility: str
    destination: str
    doctor: str
    doctor_name: str
    department: str
    result: str
    discharge: str
    totals: dict[str, Decimal] = field(default_factory=dict)
    _shared: dict[str, Callable[[], str]] | None = None

    @property
    def shared(self) -> dict[str, Callable[[], str]]:
        """The episode-level field builders, made once per episode."""
        if self._shared is None:
            self._shared = _episode_fields(self)
        return self._shared

    def birth(self, width: int) -> str:
        """Birth date with the episode's unknown parts, 8 or 12 digits."""
        full = _dt(self.born)
        text = {"full": full, "date": full[:8] + "0000", "month": full[:6] + "000000",
                "year": full[:4] + "00000000"}[self.birth_shape]
        return text[:width]

    def moment(self, lo_days: int = 0, hi_days: int = 0) -> datetime:
        """A moment in the stay (or up to the given days around it)."""
        lo = self.arrival + timedelta(days=lo_days)
        hi = self.departure + timedelta(days=hi_days)
        span = max(0, int((hi - lo).total_seconds() // 60))
        return lo + timedelta(minutes=self.rng.randint(0, span))

    def add(self, name: str, amount: Decimal) -> None:
        self.totals[name] = self.totals.get(name, Decimal(0)) + amount


def _context(rng: random.Random, index: int, standard: str) -> _Ctx:
    male = rng.random() < 0.5
    start = datetime(2017, 1, 1) if standard == "4210" else datetime(2024, 1, 1)
    arrival = start + timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
    inpatient = rng.random() < 0.6
    stay = timedelta(minutes=rng.randint(3 * 24 * 60, 12 * 24 * 60) if inpatient else rng.randint(20, 300))
    place = rng.choice(PLACES)
    n_cards = rng.choice([1, 1, 1, 2, 3]) if standard != "4210" else rng.choice([1, 1, 1, 2])
    cards = []
    for i in range(n_cards):
        year = arrival.year - (n_cards - 1 - i)
        cards.append((f"{rng.choice(CARD_GROUPS)}{rng.randint(1, 5)}{place[0]}{rng.randrange(10**10):010d}",
                      rng.choice(FACILITIES), f"{year}0101", f"{year}1231"))
    diagnoses = DIAGNOSES if not male else [d for d in DIAGNOSES if not d[0].startswith("O")]
    facility, destination = rng.sample(FACILITIES, 2)
    transferred = rng.random() < 0.2
    return _Ctx(
        rng=rng, standard=standard, ma_lk=f"{facility}{arrival:%y%m%d}{index:06d}{rng.randrange(100):02d}",
        male=male, name=_person(rng, male),
        born=arrival - timedelta(days=rng.randint(30, 90 * 365), minutes=rng.randint(0, 1439)),
        birth_shape=rng.choice(["full", "date", "date", "date", "month", "year"]), place=place, cards=cards,
        arrival=arrival, departure=arrival + stay, inpatient=inpatient, diagnosis=rng.choice(diagnoses),
        secondary=rng.sample(SECONDARY, rng.randint(0, 3)), facility=facility, destination=destination,
        doctor=f"{rng.randrange(10**6):06d}/{rng.choice(['HCM', 'HNO', 'DNA'])}-CCHN",
        doctor_name=_person(rng, rng.random() < 0.5), department=rng.choice(DEPARTMENTS),
        result=rng.choice(["1", "2", "2", "3", "4", "6", "7"]) if not transferred else "3",
        discharge="2" if transferred else rng.choice(["1", "1", "1", "3", "4"]),
    )


# --------------------------------------------------------------------------- fields shared by tables

def _episode_fields(c: _Ctx) -> dict[str, Callable[[], str]]:
    """Episode-level fields by name (the same name means the same fact in every table and standard)."""
    rng = c.rng
    prov, prov_name, dist, dist_name, comm, comm_name = c.place
    icd, diagnosis, signs = c.diagnosis
    card_sep = ";"
    return {
        "MA_LK": lambda: c.ma_lk,
        "MA_BN": lambda: f"BN{rng.randrange(10**7):07d}",
        "HO_TEN": lambda: c.name,
        "SO_CCCD": lambda: f"0{prov}{rng.randrange(10**9):09d}",
        "GIOI_TINH": lambda: "1" if c.male else "2",
        "NHOM_MAU": lambda: rng.choice(["A", "B", "AB", "O", "A+", "O-"]),
        "MA_QUOCTICH": lambda: "000",
        "MA_DANTOC": lambda: rng.choice(["01", "01", "01", "02", "03", "06", "08", "55"]),
        "MA_NGHE_NGHIEP": lambda: f"{rng.randint(1, 30):05d}",
        "DIA_CHI": lambda: f"Số {rng.randint(1, 300)} {rng.choice(STREETS)}, {comm_name}, {dist_name}, {prov_name}",
        "MATINH_CU_TRU": lambda: prov, "MAHUYEN_CU_TRU": lambda: dist, "MAXA_CU_TRU": lambda: comm,
        "DIEN_THOAI": lambda: f"09{rng.randrange(10**8):08d}",
        "MA_THE_BHYT": lambda: card_sep.join(k[0] for k in c.cards),
        "MA_THE": lambda: card_sep.join(k[0] for k in c.cards),
        "MA_DKBD": lambda: card_sep.join(k[1] for k in c.cards),
        "GT_THE_TU": lambda: card_sep.join(k[2] for k in c.cards),
        "GT_THE_DEN": lambda: card_sep.join(k[3] for k in c.cards),
        "LY_DO_VV": lambda: "Đau ngực, khó thở 2 ngày nay" if icd.startswith("I") else "Sốt, mệt mỏi",
        "CHAN_DOAN_VAO": lambda: f"Theo dõi {diagnosis.lower()}",
        "CHAN_DOAN_RV": lambda: diagnosis, "TEN_BENH": lambda: diagnosis,
        "MA_BENH_CHINH": lambda: icd,
        "MA_BENH_KT": lambda: ";".join(c.secondary), "MA_BENHKHAC": lambda: ";".join(c.secondary),
        "MA_BENH_YHCT": lambda: rng.choice(YHCT),
        "DAU_HIEU_LS": lambda: signs,
        "MA_DOITUONG_KCB": lambda: rng.choice(["1.1", "1.2", "2", "3.1", "7", "1.12"]),  # up to 4 since 4750
        "MA_NOI_DI": lambda: c.facility, "MA_NOI_DEN": lambda: c.destination,
        "MA_CSKCB_DI": lambda: ";".join(rng.sample(FACILITIES, rng.randint(1, 3))),  # 3176: every facility on the way
        "MA_CSKCB_DEN": lambda: c.destination, "TINH_TRANG_CT": lambda: rng.choice(CONDITIONS),
        "MA_NOI_CHUYEN": lambda: rng.choice(FACILITIES),
        "MA_TAI_NAN": lambda: rng.choice(["0", "0", "0", "1", "2"]),
        "NGAY_VAO": lambda: _dt(c.arrival), "NGAY_RA": lambda: _dt(c.departure),
        "NGAY_VAO_NOI_TRU": lambda: _dt(c.arrival + timedelta(minutes=rng.randint(0, 59))),
        "NGAY_TTOAN": lambda: _dt(c.departure + timedelta(minutes=rng.randint(0, 120))),
        "SO_NGAY_DTRI": lambda: str(max(1, (c.departure.date() - c.arrival.date()).days)),
        "PP_DIEU_TRI": lambda: rng.choice(TREATMENTS), "PP_DIEUTRI": lambda: rng.choice(TREATMENTS),
        "KET_QUA_DTRI": lambda: c.result,
        "MA_LOAI_RV": lambda: c.discharge, "TINH_TRANG_RV": lambda: c.discharge,
        "MA_LYDO_CT": lambda: rng.choice(["1", "1", "2"]),
        "MA_LYDO_VVIEN": lambda: rng.choice(["1", "2", "3"]),
        "NAM_QT": lambda: str(c.departure.year), "THANG_QT": lambda: str(c.departure.month),
        "MA_LOAI_KCB": lambda: ("3" if c.standard == "4210" else "03") if c.inpatient else rng.choice(
            LOAI_KCB[c.standard]),
        "MA_KHOA": lambda: c.department, "MA_KHOA_RV": lambda: c.department,
        "MA_CSKCB": lambda: c.facility, "MA_KHUVUC": lambda: rng.choice(["K1", "K2", "K3"]),
        "CAN_NANG": lambda: rng.choice([str(rng.randint(3, 95)), f"{rng.randint(3, 95)}.{rng.randint(1, 9)}"]),
        "MA_HSBA": lambda: f"HSBA{rng.randrange(10**6):06d}",
        # 3176 allows 255: the head's practising-licence number, as hospitals write it
        "MA_TTDV": lambda: c.doctor if c.standard == "3176" else str(rng.randint(1000, 9999)),
        "MA_BAC_SI": lambda: c.doctor, "MA_BS": lambda: c.doctor, "TEN_BS": lambda: c.doctor_name,
        "NGUOI_THUC_HIEN": lambda: c.doctor, "MA_BS_DOC_KQ": lambda: c.doctor,
        "NGAY_CT": lambda: _d8(c.departure),
        "NGAY_TAI_KHAM": lambda: ";".join(_d8(c.departure + timedelta(days=d))
                                          for d in sorted(rng.sample(range(7, 60), rng.randint(1, 3)))),
        "NGAY_HEN_KL": lambda: _d8(c.departure + timedelta(days=rng.randint(7, 30))),
        "SO_LUU_TRU": lambda: f"LT{rng.randrange(10**5)}", "MA_YTE": lambda: f"YT{rng.randrange(10**5)}",
        "GHI_CHU": lambda: rng.choice(["Tái khám sau 1 tuần", "Uống thuốc theo đơn", PHRASES[0]]),
        "HO_TEN_CHA": lambda: _person(rng, True), "HO_TEN_ME": lambda: _person(rng, False),
        "HUONG_DIEU_TRI": lambda: "Tiếp tục điều trị tại tuyến trên",
        "PHUONGTIEN_VC": lambda: rng.choice(["Xe cứu thương", "Tự túc"]),
        "HOTEN_NGUOI_HT": lambda: _person(rng, rng.random() < 0.3),
        "CHUCDANH_NGUOI_HT": lambda: rng.choice(["Điều dưỡng", "Bác sĩ", "Y sĩ"]),
        "QT_BENHLY": lambda: "Bệnh khởi phát 3 ngày, điều trị tuyến dưới không đỡ.",
        "TOMTAT_KQ": lambda: "X-quang: đám mờ đáy phổi phải. CRP 85 mg/L <cao>; BC 15 G/L & N 85%.",
        "CAN_NANG_CON": lambda: str(rng.randint(2500, 4000)),
        "NAM_NAM_LIEN_TUC": lambda: f"{c.arrival.year - rng.randint(0, 3)}0101",
        "MIEN_CUNG_CT": lambda: f"{c.arrival.year}0101",
        "NGAY_MIEN_CCT": lambda: f"{c.arrival.year}0101",
        "MA_PTTT_QT": lambda: rng.choice(["96.04", "47.01", "89.52"]),
        "GIAY_CHUYEN_TUYEN": lambda: f"{rng.randint(1, 9999)}/{c.arrival.year}/GCT",
        "LY_DO_VNT": lambda: "Tình trạng bệnh cần theo dõi nội trú",
        "MA_LY_DO_VNT": lambda: f"{rng.randint(1, 9)}",
    }


def _filler(c: _Ctx, lay: TableLayout, name: str) -> str:
    """A plausible value for a field no builder knows, from its rule in values.json or its kind."""
    rng = c.rng
    f = lay.field(name)
    assert f is not None
    rule = field_rule(lay.standard, lay.table, name)
    if rule is not None and rule.codes is not None:
        return rng.choice(list(rule.codes[2]))
    if rule is not None and rule.format is not None:
        fmt = rule.format
        if fmt.name == "facility":
            return rng.choice(FACILITIES)
        if fmt.name == "card":
            return c.cards[0][0]
        if fmt.name == "citizen_id":
            return f"0{c.place[0]}{rng.randrange(10**9):09d}"
        if fmt.name == "ethnicity":
            return "01"
        published = max_length(lay.standard, lay.table, f)
        width = 12 if "yyyyMMddHHmm" in fmt.dates and (len(fmt.dates) == 1 or rng.random() < 0.3) and (published or 12) >= 12 else 8
        if fmt.unknown_parts:
            return c.birth(width)
        moment = c.moment(-200, 30)
        return _dt(moment) if width == 12 else _d8(moment)
    limit = max_length(lay.standard, lay.table, f) or f.max_length or 255
    if f.kind == "integer":
        return str(rng.randint(0, 10 ** min(limit, 3) - 1))
    if f.kind == "decimal":
        return _money(Decimal(rng.randint(0, 500000)) / rng.choice([1, 1, 100]))
    if name.startswith(("HO_TEN", "HOTEN", "NGUOI_")):
        text = _person(rng, rng.random() < 0.5)
    elif "CCCD" in name:
        text = f"0{c.place[0]}{rng.randrange(10**9):09d}"
    elif name.startswith("MA_THE"):
        text = f"{rng.choice(CARD_GROUPS)}{rng.randint(1, 5)}{c.place[0]}{rng.randrange(10**10):010d}"
    elif name.startswith("MA_") or limit <= 10:
        text = f"{name.split('_')[-1][:2]}{rng.randrange(10**4)}"
    elif name.startswith(("SO_", "SO", "QUYEN_SO", "LAN_")):
        text = str(rng.randint(1, 9)) if "CON" in name or "LAN" in name else f"{rng.randint(1, 9999)}/{c.arrival.year}"
    elif "NOI" in name or name.startswith(("DIA_CHI", "DON_VI")):
        text = rng.choice(PHRASES[-1:] + [f"Bệnh viện đa khoa {c.place[1]}"])
    else:
        text = rng.choice(PHRASES)
    return text[:limit].strip() or "1"


def _fit(c: _Ctx, lay: TableLayout, values: dict[str, Callable[[], str] | str], keep: frozenset[str],
         extra: float = 0.35, drop: float = 0.08) -> dict[str, str]:
    """One record of ``lay``: known values in layout order, unknown layout fields sometimes filled,
    optional fields sometimes left out."""
    rng = c.rng
    out: dict[str, str] = {}
    for f in lay.fields:
        v = values.get(f.name)
        if v is None:
            if rng.random() >= extra:
                continue
            text = _filler(c, lay, f.name)
        else:
            if f.name not in keep and rng.random() < drop:
                continue
            text = v() if callable(v) else v
        limit = max_length(lay.standard, lay.table, f)
        if limit is not None and len(text) > limit:
            text = text[:limit].strip()
        if text:
            out[f.name] = text
    return out


_KEEP = frozenset({"MA_LK", "STT", "HO_TEN", "NGAY_VAO", "NGAY_RA", "MA_THE_BHYT", "MA_THE", "GIOI_TINH",
                   "MA_THUOC", "TEN_THUOC", "MA_DICH_VU", "TEN_DICH_VU", "SO_LUONG", "DON_GIA", "THANH_TIEN",
                   "THANH_TIEN_BV", "MA_CHI_SO", "GIA_TRI", "DIEN_BIEN", "DIEN_BIEN_LS", "MA_BENH_CHINH",
                   "MA_BENH", "T_TONGCHI", "T_TONGCHI_BV"})


# --------------------------------------------------------------------------- rows

def _costs(c: _Ctx, qty: Decimal, price: Decimal, kind: str) -> dict[str, str]:
    """Money of one row under both standards' names; adds to the episode totals."""
    rng = c.rng
    rate = rng.choice([100, 100, 100, 50])
    level = rng.choice([80, 80, 95, 100])
    total = (qty * price).quantize(_CENT, ROUND_HALF_UP)
    covered = (total * rate / 100).quantize(_CENT, ROUND_HALF_UP)
    paid = (covered * level / 100).quantize(_CENT, ROUND_HALF_UP)
    copay = covered - paid
    self_pay = total - covered
    c.add(kind, total)
    c.add("BH", covered)
    c.add("BHTT", paid)
    c.add("BNCCT", copay)
    c.add("BNTT", self_pay)
    zero = "0"
    return {
        "SO_LUONG": _money(qty), "DON_GIA": _money(price), "DON_GIA_BV": _money(price),
        "DON_GIA_BH": _money(price * rate / 100), "TYLE_TT": str(rate), "TYLE_TT_BH": str(rate),
        "TYLE_TT_DV": "100", "THANH_TIEN": _money(total), "THANH_TIEN_BV": _money(total),
        "THANH_TIEN_BH": _money(covered), "MUC_HUONG": str(level), "T_BHTT": _money(paid),
        "T_BNCCT": _money(copay), "T_BNTT": _money(self_pay), "T_NGUONKHAC": zero, "T_NGOAIDS": zero,
        "T_TRANTT": zero, "PHAM_VI": "1", "T_NGUONKHAC_NSNN": zero, "T_NGUONKHAC_VTNN": zero,
        "T_NGUONKHAC_VTTN": zero, "T_NGUONKHAC_CL": zero,
    }


def _drug_rows(c: _Ctx, lay: TableLayout) -> list[dict[str, str]]:
    rng = c.rng
    rows = []
    for stt, (code, name, unit, strength, route, dose, price) in enumerate(
            rng.sample(DRUGS, rng.randint(1, 5)), 1):
        qty = Decimal(rng.choice([1, 2, 5, 10, 14, 20, 30])) / rng.choice([1, 1, 1, 2])
        when = c.moment()
        values: dict[str, Callable[[], str] | str] = {
            **c.shared, **_costs(c, qty, Decimal(price), "THUOC"),
            "STT": str(stt), "MA_THUOC": code, "TEN_THUOC": name, "DON_VI_TINH": unit, "HAM_LUONG": strength,
            "DUONG_DUNG": route, "LIEU_DUNG": dose, "CACH_DUNG": "Uống sau ăn" if route == "1.01" else "Theo y lệnh",
            "SO_DANG_KY": f"VD-{rng.randint(10000, 40000)}-{rng.randint(17, 24)}", "MA_NHOM": "4",
            "TT_THAU": f"G1;N4;{c.arrival.year - 1}", "MA_BENH": c.diagnosis[0],
            "NGAY_YL": _dt(when), "NGAY_TH_YL": _dt(when + timedelta(minutes=rng.randint(0, 90))),
            "MA_PTTT": "1", "DANG_BAO_CHE": "Viên nén" if unit == "Viên" else "Dung dịch",
        }
        rows.append(_fit(c, lay, values, _KEEP))
    return rows


def _service_rows(c: _Ctx, lay: TableLayout) -> tuple[list[dict[str, str]], list[tuple[str, str, str]]]:
    rng = c.rng
    rows = []
    labs = []
    chosen = rng.sample(SERVICES, rng.randint(1, 5))
    supplies = rng.sample(SUPPLIES, rng.randint(0, 2))
    for stt, item in enumerate(chosen + supplies, 1):
        ordered = c.moment()
        done = ordered + timedelta(minutes=rng.randint(5, 120))
        result = done + timedelta(minutes=rng.randint(10, 240))
        values: dict[str, Callable[[], str] | str] = {**c.shared, "STT": str(stt), "MA_BENH": c.diagnosis[0],
                                                      "NGAY_YL": _dt(ordered), "NGAY_TH_YL": _dt(done), "MA_PTTT": "1"}
        if len(item) == 5:
            code, name, group, price, lab = item
            values.update(_costs(c, Decimal(1), Decimal(price), "DVKT"), MA_DICH_VU=code, TEN_DICH_VU=name,
                          MA_NHOM=group, DON_VI_TINH="Lần", NGAY_KQ=_dt(result),
                          MA_MAY=f"{'XN' if lab else 'CĐHA'}.1.{rng.randrange(10**5):05d}")
            if lab:
                labs.append((code, name, _dt(result)))
        else:
            code, name, unit, price = item
            qty = Decimal(rng.randint(1, 4))
            values.update(_costs(c, qty, Decimal(price), "VTYT"), MA_VAT_TU=code, TEN_VAT_TU=name, MA_NHOM="10",
                          DON_VI_TINH=unit, GOI_VTYT="G1", TT_THAU=f"G1;N2;{c.arrival.year - 1}")
        rows.append(_fit(c, lay, values, _KEEP))
    return rows, labs


def _result_rows(c: _Ctx, lay: TableLayout, labs: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    rng = c.rng
    rows = []
    for code, _name, when in labs:
        for index, name, numeric, unit in rng.sample(RESULTS, rng.randint(1, 3)):
            value = f"{rng.uniform(1, 20):.{rng.choice([0, 1, 2])}f}" if numeric else rng.choice(
                ["Âm tính", "Dương tính", "Bóng tim không to, phổi sáng"])
            rows.append(_fit(c, lay, {**c.shared, "STT": str(len(rows) + 1), "MA_DICH_VU": code,
                                      "MA_CHI_SO": index, "TEN_CHI_SO": name, "GIA_TRI": value,
                                      "DON_VI_DO": unit, "NGAY_KQ": when,
                                      "KET_LUAN": rng.choice(["Bình thường", "Tăng", "Giảm"]),
                                      "MA_MAY": f"XN.1.{rng.randrange(10**5):05d}"}, _KEEP))
    return rows


def _progress_rows(c: _Ctx, lay: TableLayout) -> list[dict[str, str]]:
    rng = c.rng
    days = max(1, (c.departure - c.arrival).days)
    rows = []
    for stt in range(1, rng.randint(1, min(4, days + 1)) + 1):
        when = _dt(c.arrival + timedelta(days=stt - 1, minutes=rng.randint(0, 600)))
        text = rng.choice(PROGRESS)
        rows.append(_fit(c, lay, {**c.shared, "STT": str(stt), "DIEN_BIEN_LS": text, "DIEN_BIEN": text,
                                  "THOI_DIEM_DBLS": when, "NGAY_YL": when,
                                  "GIAI_DOAN_BENH": rng.choice(["Cấp", "Ổn định"]),
                                  "HOI_CHAN": "Hội chẩn khoa" if rng.random() < 0.2 else "",
                                  "PHAU_THUAT": "Nội soi cắt ruột thừa" if c.diagnosis[0] == "K35.8" else ""},
                         _KEEP))
    return rows


def _summary(c: _Ctx, lay: TableLayout) -> dict[str, str]:
    t = c.totals
    zero = Decimal(0)
    whole = t.get("THUOC", zero) + t.get("DVKT", zero) + t.get("VTYT", zero)
    money = {"T_THUOC": t.get("THUOC", zero), "T_VTYT": t.get("VTYT", zero), "T_TONGCHI": whole,
             "T_TONGCHI_BV": whole, "T_TONGCHI_BH": t.get("BH", zero), "T_BNTT": t.get("BNTT", zero),
             "T_BNCCT": t.get("BNCCT", zero), "T_BHTT": t.get("BHTT", zero), "T_NGUONKHAC": zero,
             "T_BHTT_GDV": zero, "T_NGOAIDS": zero}
    values: dict[str, Callable[[], str] | str] = {**c.shared, "STT": "1",
                                                  **{k: _money(v) for k, v in money.items()}}
    if c.standard == "4210":
        values["NGAY_SINH"] = c.birth(8)
        values["MA_BENH"] = c.diagnosis[0]
    else:
        values["NGAY_SINH"] = c.birth(12)
    if not c.inpatient:
        values.pop("NGAY_VAO_NOI_TRU")
    if c.discharge != "2":
        for n in ("MA_NOI_DEN", "GIAY_CHUYEN_TUYEN"):
            values.pop(n, None)
    return _fit(c, lay, values, _KEEP | {"MA_CSKCB", "NGAY_SINH", "T_THUOC", "T_BHTT", "KET_QUA_DTRI"})


def _single(c: _Ctx, lay: TableLayout) -> dict[str, str]:
    values: dict[str, Callable[[], str] | str] = {**c.shared, "NGAY_SINH": c.birth(12)}
    return _fit(c, lay, values, _KEEP, extra=0.6)


def _rows(c: _Ctx, lay: TableLayout) -> list[dict[str, str]]:
    n = c.rng.randint(1, 3)
    return [_fit(c, lay, {**c.shared, "STT": str(i), "NGAY_SINH": c.birth(12)}, _KEEP, extra=0.6)
            for i in range(1, n + 1)]


def episode(rng: random.Random, index: int, standard: str, optional_tables: float = 0.3) -> Episode:
    """One valid episode; each 130 table XML6–XML15 is present with probability ``optional_tables``."""
    c = _context(rng, index, standard)
    tabs = layouts(standard)
    tables: dict[str, list[dict[str, str]]] = {}
    tables["XML2"] = _drug_rows(c, tabs["XML2"])
    tables["XML3"], labs = _service_rows(c, tabs["XML3"])
    results = _result_rows(c, tabs["XML4"], labs)
    if results:
        tables["XML4"] = results
    tables["XML5"] = _progress_rows(c, tabs["XML5"])
    tables = {"XML1": [_summary(c, tabs["XML1"])], **tables}
    if standard != "4210":
        for t in OPTIONAL_130:
            if t == "XML13":  # the transfer paper goes with a transfer (and shows a 3176 episode's names)
                present = c.discharge == "2" or standard == "3176" or rng.random() < optional_tables / 3
            else:
                present = (t == "XML7" and c.inpatient and rng.random() < 0.5) or rng.random() < optional_tables
            if present:
                lay = tabs[t]
                tables[t] = [_single(c, lay)] if lay.single else _rows(c, lay)
                if t == "XML13" and standard == "3176":
                    tables[t][0]["MA_CSKCB_DI"] = c.shared["MA_CSKCB_DI"]()
    ordered = {t: tables[t] for t in tabs if t in tables}
    return Episode(ma_lk=c.ma_lk, standard=standard, tables=ordered)


def episodes(seed: int, count: int, standard: str, optional_tables: float = 0.3) -> Iterator[Episode]:
    """``count`` valid episodes of one standard, the same for the same seed (generated lazily)."""
    if standard not in LOAI_KCB:
        raise ValueError(f"unknown standard {standard!r}")
    rng = random.Random(f"bhyt-{standard}-{seed}")
    for i in range(count):
        yield episode(rng, i, standard, optional_tables)


def header(seed: int) -> Header:
    rng = random.Random(seed)
    return Header(macskcb=rng.choice(FACILITIES), ngaylap=f"2025{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}")


def write_examples(folder: str | Path) -> list[str]:
    """The example envelopes of every standard (130 with most of XML0 and XML6–XML15; 3176 with its transfer paper)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for standard, count, optional in (("130", 4, 0.7), ("3176", 2, 0.5), ("4210", 3, 0.0)):
        name = f"giamdinhhs-{standard}.xml"
        data = write_envelope(header(int(standard)),
                              episodes(2025, count, standard, optional))
        (out / name).write_bytes(data)
        names.append(name)
    return names


def write_big_envelope(path: str | Path, target_bytes: int, seed: int, standard: str = "130") -> int:
    """Stream episodes into ``path`` until it holds about ``target_bytes``; returns the episodes written.
    Memory stays bounded by one episode (the benchmark's 100 MB envelope)."""
    with open(path, "wb") as fp:
        writer = EnvelopeWriter(fp, header(seed))
        room = target_bytes - fp.tell() - 64  # the closing tags
        for ep in episodes(seed, 10**12, standard):
            if room <= 0:
                break
            room -= writer.write(ep)
        return writer.close()


__all__ = ["episodes", "episode", "write_examples", "write_big_envelope", "header"]

if __name__ == "__main__":  # python -m mappings.bhyt_xml.generate examples/bhyt
    import sys

    print("\n".join(write_examples(sys.argv[1] if len(sys.argv) > 1 else "examples/bhyt")))
