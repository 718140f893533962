"""Deterministic sample transfer records with realistic Vietnamese content.

For demos, fixtures and load tests: every record is valid by validate(), and a seed always
gives the same records so failures can be reproduced.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from .fields import BY_NAME, CODE_TABLES

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Kim", "Thanh", "Mỹ"]
GIVEN_M = ["Anh", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Quang", "Sơn", "Tuấn", "Việt"]
GIVEN_F = ["An", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Nga", "Oanh", "Thảo", "Yến"]
STREETS = ["Trần Phú", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Điện Biên Phủ", "Hùng Vương", "Quang Trung"]
# (province code, province, district code, district, commune code, commune)
PLACES = [
    ("01", "Hà Nội", "001", "Quận Ba Đình", "00001", "Phường Phúc Xá"),
    ("79", "TP Hồ Chí Minh", "760", "Quận 1", "26734", "Phường Bến Nghé"),
    ("48", "Đà Nẵng", "490", "Quận Liên Chiểu", "20194", "Phường Hòa Minh"),
    ("46", "Thừa Thiên Huế", "474", "TP Huế", "19753", "Phường Phú Hội"),
    ("68", "Lâm Đồng", "672", "TP Đà Lạt", "24778", "Phường 4"),
    ("92", "Cần Thơ", "916", "Quận Ninh Kiều", "31117", "Phường An Hòa"),
]
FACILITIES = ["01001", "01005", "79001", "79024", "48001", "46001", "68001", "92001"]
# (ICD-10, diagnosis, signs)
DIAGNOSES = [
    ("J18.9", "Viêm phổi, không đặc hiệu", "Sốt 38,5°C; ho khạc đờm; ran ẩm đáy phổi phải"),
    ("I21.9", "Nhồi máu cơ tim cấp", "Đau thắt ngực trái lan tay trái; vã mồ hôi; HA 90/60 mmHg"),
    ("I63.9", "Nhồi máu não", "Yếu nửa người phải; nói khó; Glasgow 13 điểm"),
    ("K35.8", "Viêm ruột thừa cấp", "Đau hố chậu phải; sốt 38°C; phản ứng thành bụng (+)"),
    ("E11.9", "Đái tháo đường týp 2", "Đường huyết 22 mmol/L; khát nhiều; mệt mỏi"),
    ("A09", "Tiêu chảy và viêm dạ dày ruột", "Tiêu chảy 8 lần/ngày; mất nước độ 2"),
    ("S06.0", "Chấn động não", "Sau tai nạn giao thông; nôn 2 lần; đau đầu"),
    ("O80", "Đẻ thường một thai", "Chuyển dạ giai đoạn 1; ối vỡ sớm"),
]
SECONDARY = ["I10", "E78.5", "N18.3", "K21.0", "J44.9", "E66.9"]
YHCT = ["U50.031", "U62.481", "U78.341"]
SERVICES = ["Chụp X-quang ngực thẳng", "Công thức máu", "Siêu âm ổ bụng", "Điện tim", "CT sọ não", "Sinh hóa máu"]
DRUGS = ["Ceftriaxon 1g x 2 lọ/ngày", "Paracetamol 500mg x 3 viên/ngày", "Natri clorid 0,9% 500ml", "Aspirin 81mg x 1 viên"]
CARD_GROUPS = ["DN", "HT", "HS", "GD", "TE", "CN", "HN", "BT"]


def _name(rng: random.Random, male: bool) -> str:
    middle = rng.choice(MIDDLE_M if male else MIDDLE_F)
    return f"{rng.choice(FAMILY)} {middle} {rng.choice(GIVEN_M if male else GIVEN_F)}"


def _dt(d: datetime) -> str:
    return d.strftime("%Y%m%d%H%M")


def _birth(rng: random.Random, arrival: datetime) -> str:
    born = arrival - timedelta(days=rng.randint(30, 95 * 365), minutes=rng.randint(0, 1439))
    kind = rng.random()
    if kind < 0.1:
        return f"{born.year:04d}00000000"
    if kind < 0.2:
        return f"{born.year:04d}{born.month:02d}000000"
    if kind < 0.6:
        return born.strftime("%Y%m%d") + "0000"
    return _dt(born)


def _cards(rng: random.Random, arrival: datetime, province: str) -> dict[str, str]:
    n = rng.choice([1, 1, 1, 2, 3])
    cards, dkbd, start, end = [], [], [], []
    for i in range(n):
        cards.append(f"{rng.choice(CARD_GROUPS)}{rng.randint(1, 5)}{province}{rng.randrange(10**10):010d}")
        dkbd.append(rng.choice(FACILITIES))
        year = arrival.year - (n - 1 - i)
        start.append(f"{year}0101")
        end.append(f"{year}1231")
    return {"MA_THE_BHYT": ";".join(cards), "MA_DKBD": ";".join(dkbd),
            "GT_THE_TU": ";".join(start), "GT_THE_DEN": ";".join(end)}


def record(rng: random.Random, index: int) -> dict[str, str]:
    """One valid record; optional fields are present with probability ~0.7."""
    male = rng.random() < 0.5
    arrival = datetime(2024, 1, 1) + timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
    departure = arrival + timedelta(minutes=rng.randint(30, 20 * 24 * 60))
    prov, prov_name, dist, dist_name, comm, comm_name = rng.choice(PLACES)
    icd, diagnosis, signs = rng.choice(DIAGNOSES if not male else [d for d in DIAGNOSES if d[0][0] != "O"])
    src, dst = rng.sample(FACILITIES, 2)
    inpatient = rng.random() < 0.6
    rec = {
        "MA_LK": f"CT{arrival:%y%m}{index:06d}{rng.randrange(100):02d}",
        "SO_HOSO": f"HS{rng.randrange(100000):05d}",
        "SO_CHUYENTUYEN": f"{rng.randint(1, 9999)}/{arrival.year}/CT",
        "GIAY_CHUYEN_TUYEN": f"GCT-{rng.randrange(100000):05d}",
        "MA_CSKCB": src, "MA_NOI_DI": src, "MA_NOI_DEN": dst,
        "MA_BN": f"BN{rng.randrange(10**7):07d}",
        "HO_TEN": _name(rng, male),
        "SO_CCCD": f"0{prov}{rng.randrange(10**9):09d}",
        "NGAY_SINH": _birth(rng, arrival),
        "GIOI_TINH": "1" if male else "2",
        "NHOM_MAU": rng.choice(["A+", "A-", "B+", "B-", "AB+", "O+", "O-"]),
        "MA_QUOCTICH": "000",
        "MA_DANTOC": rng.choice(["01"] * 6 + list(CODE_TABLES["ethnicity"].codes)),
        "MA_NGHE_NGHIEP": f"{rng.randint(1, 30):05d}",
        "DIA_CHI": f"Số {rng.randint(1, 300)} {rng.choice(STREETS)}, {comm_name}, {dist_name}, {prov_name}",
        "MATINH_CU_TRU": prov, "MAHUYEN_CU_TRU": dist, "MAXA_CU_TRU": comm,
        "DIEN_THOAI": f"09{rng.randrange(10**8):08d}",
        **_cards(rng, arrival, prov),
        "MA_DOITUONG_KCB": rng.choice(["1.1", "2", "3.1", "7"]),
        "MA_LOAI_KCB": "03" if inpatient else rng.choice(["01", "02", "09"]),
        "NGAY_VAO": _dt(arrival),
        "NGAY_VAO_NOI_TRU": _dt(arrival + timedelta(minutes=rng.randint(0, 29))) if inpatient else "",
        "NGAY_RA": _dt(departure),
        "MA_KHOA": rng.choice(["K01", "K02", "K03;K19", "K26"]),
        "LY_DO_VV": "Đau ngực, khó thở 2 ngày nay" if icd.startswith("I") else "Sốt, mệt mỏi",
        "CHAN_DOAN_VAO": f"Theo dõi {diagnosis.lower()}",
        "DAU_HIEU_LS": signs,
        "QT_BENHLY": "Bệnh khởi phát 3 ngày, điều trị tuyến dưới không đỡ.",
        "TOMTAT_KQ": "X-quang: đám mờ đáy phổi phải. CRP 85 mg/L <cao>; BC 15 G/L & N 85%.",
        "CHAN_DOAN_RV": diagnosis,
        "MA_BENH_CHINH": icd,
        "MA_BENH_KT": ";".join(rng.sample(SECONDARY, rng.randint(1, 3))),
        "MA_BENH_YHCT": rng.choice(YHCT),
        "PP_DIEUTRI": "Kháng sinh đường tĩnh mạch, thở oxy",
        "TEN_DICH_VU": "; ".join(rng.sample(SERVICES, 2)),
        "TEN_THUOC": "; ".join(rng.sample(DRUGS, 2)),
        "CAN_NANG": rng.choice([str(rng.randint(3, 95)), f"{rng.randint(3, 95)}.{rng.randint(0, 9)}"]),
        "KET_QUA_DTRI": rng.choice(["2", "3", "4", "6"]),
        "TINH_TRANG_CT": f"Tỉnh, tiếp xúc được, mạch {rng.randint(60, 130)} l/ph, HA {rng.randint(85, 160)}/{rng.randint(50, 95)} mmHg",
        "MA_LOAI_RV": "2",
        "MA_LYDO_CT": rng.choice(["1", "1", "2"]),
        "HUONG_DIEU_TRI": "Tiếp tục điều trị tại tuyến trên, đánh giá lại",
        "PHUONGTIEN_VC": rng.choice(["Xe cứu thương", "Tự túc"]),
        "HOTEN_NGUOI_HT": "Điều dưỡng " + _name(rng, rng.random() < 0.3),
        "CHUCDANH_NGUOI_HT": rng.choice(["Điều dưỡng", "Bác sĩ", "Y sĩ"]),
        "MA_BAC_SI": f"{rng.randrange(10**6):06d}/{rng.choice(['HCM', 'HNO', 'DNA'])}-CCHN",
        "MA_TTDV": str(rng.randint(1000, 9999)),
    }
    for name in list(rec):
        if not BY_NAME[name].required and rng.random() < 0.3:
            del rec[name]
    if "MA_THE_BHYT" not in rec:  # cards travel together or not at all
        for name in ("MA_DKBD", "GT_THE_TU", "GT_THE_DEN"):
            rec.pop(name, None)
    return {k: v for k, v in rec.items() if v}


def records(seed: int, n: int) -> list[dict[str, str]]:
    """n valid records, the same for the same seed."""
    rng = random.Random(seed)
    return [record(rng, i) for i in range(n)]


def write_examples(folder: str, count: int = 3, seed: int = 54) -> list[str]:
    """Write ``count`` records and the transaction Bundles they map to (``*.bundle.json``)."""
    from pathlib import Path

    from server import jsonio

    from .fhir import to_fhir

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for n, record in enumerate(records(seed, count), 1):
        (out / f"record-{n}.json").write_bytes(jsonio.dumps(record, pretty=True) + b"\n")
        (out / f"record-{n}.bundle.json").write_bytes(jsonio.dumps(to_fhir(record), pretty=True) + b"\n")
        names += [f"record-{n}.json", f"record-{n}.bundle.json"]
    return names


if __name__ == "__main__":  # python -m mappings.transfer54.generate examples/transfer54
    import sys

    print("\n".join(write_examples(sys.argv[1] if len(sys.argv) > 1 else "examples/transfer54")))
