"""The workspace's words in Vietnamese and English: one table, looked up by key.

Vietnamese is the default; ``?lang=en`` (or ``vi``) switches and is remembered in a cookie.
A key missing from the table is a bug a test finds (:func:`text` raises ``KeyError``).
"""

from __future__ import annotations

from typing import Mapping

LANGS = ("vi", "en")
COOKIE = "lt_lang"

#: key → (Vietnamese, English)
WORDS: Mapping[str, tuple[str, str]] = {
    "app": ("Liên Thông — Hồ sơ bệnh nhân", "Liên Thông — Patient records"),
    "skip": ("Bỏ qua, đến nội dung chính", "Skip to main content"),
    "find": ("Tìm bệnh nhân", "Find a patient"),
    "tools": ("Công cụ tích hợp", "Integration tools"),
    "signout": ("Đăng xuất", "Sign out"),
    "signin": ("Đăng nhập", "Sign in"),
    "signed_in_as": ("Đang đăng nhập:", "Signed in as"),
    "signin_with": ("Đăng nhập bằng", "Sign in with"),
    "signed_out": ("Bạn đã đăng xuất.", "You are signed out."),
    "expired": ("Phiên làm việc đã hết hạn; hãy đăng nhập lại.", "Your session has expired; sign in again."),
    "signin_failed": ("Không đăng nhập được", "Sign-in failed"),
    "start_again": ("Đăng nhập lại", "Sign in again"),
    "lang_switch": ("English", "Tiếng Việt"),
    "search_label": ("CCCD, số thẻ BHYT, mã bệnh nhân, mã đợt điều trị (MA_LK) hoặc họ tên",
                     "Citizen id (CCCD), insurance card number, facility patient id, episode code (MA_LK) or name"),
    "search_button": ("Tìm", "Search"),
    "search_kind": ("Tìm theo", "Search by"),
    "kind_auto": ("Tự nhận biết", "Detect"),
    "kind_cccd": ("CCCD", "Citizen id (CCCD)"),
    "kind_bhyt": ("Số thẻ BHYT", "Insurance card number"),
    "kind_pid": ("Mã bệnh nhân tại cơ sở", "Facility patient id"),
    "kind_malk": ("Mã đợt điều trị (MA_LK)", "Episode code (MA_LK)"),
    "kind_name": ("Họ tên", "Name"),
    "results": ("Kết quả", "Results"),
    "no_results": ("Không tìm thấy bệnh nhân nào.", "No patient found."),
    "too_many": ("Chỉ hiện {n} kết quả đầu; hãy tìm cụ thể hơn.", "Only the first {n} results are shown; narrow the search."),
    "name": ("Họ tên", "Name"),
    "birth_date": ("Ngày sinh", "Birth date"),
    "gender": ("Giới tính", "Gender"),
    "address": ("Địa chỉ", "Address"),
    "last_facility": ("Cơ sở gần nhất", "Last facility"),
    "identifiers": ("Định danh", "Identifiers"),
    "age": ("Tuổi", "Age"),
    "male": ("Nam", "Male"),
    "female": ("Nữ", "Female"),
    "other": ("Khác", "Other"),
    "unknown": ("Không rõ", "Unknown"),
    "not_found": ("Không tìm thấy", "Not found"),
    "forbidden": ("Không có quyền", "Not allowed"),
    "error": ("Có lỗi", "Something went wrong"),
    "back_to_search": ("Về trang tìm kiếm", "Back to the search"),
    "years": ("tuổi", "years"),
    "allergies": ("Dị ứng", "Allergies"),
    "insurance_cards": ("Thẻ BHYT", "Insurance cards"),
    "record_of": ("Hồ sơ của", "Record of"),
    # records
    "timeline": ("Các đợt khám, chữa bệnh", "Episodes of care"),
    "no_episodes": ("Chưa có đợt khám, chữa bệnh nào.", "No episode of care yet."),
    "episode_dates": ("Thời gian", "Dates"),
    "facility": ("Cơ sở", "Facility"),
    "care_type": ("Loại hình", "Care type"),
    "main_diagnosis": ("Bệnh chính", "Main diagnosis"),
    "outcome": ("Kết quả điều trị", "Outcome"),
    "discharge": ("Hình thức ra viện", "Discharge"),
    "open_episode": ("Xem đợt điều trị", "Open the episode"),
    "ongoing": ("đang điều trị", "ongoing"),
    "care_IMP": ("Nội trú", "Inpatient"),
    "care_AMB": ("Ngoại trú", "Outpatient"),
    "care_EMER": ("Cấp cứu", "Emergency"),
    "care_SS": ("Nội trú ban ngày", "Short stay"),
    "care_HH": ("Tại nhà", "Home care"),
    "care_VR": ("Khám từ xa", "Remote consultation"),
    "care_FLD": ("Lưu động", "Field care"),
    "care_OBSENC": ("Theo dõi", "Observation"),
    "care_PRENC": ("Trước nhập viện", "Pre-admission"),
    "care_ACUTE": ("Nội trú cấp tính", "Inpatient acute"),
    "care_NONAC": ("Nội trú không cấp tính", "Inpatient non-acute"),
    "labs": ("Kết quả xét nghiệm", "Laboratory results"),
    "no_labs": ("Chưa có kết quả xét nghiệm.", "No laboratory result yet."),
    "date": ("Ngày", "Date"),
    "value": ("Kết quả", "Value"),
    "unit": ("Đơn vị", "Unit"),
    "ref_range": ("Khoảng tham chiếu", "Reference range"),
    "flag": ("Đánh giá", "Flag"),
    "flag_H": ("Cao", "High"),
    "flag_L": ("Thấp", "Low"),
    "flag_N": ("Bình thường", "Normal"),
    "flag_A": ("Bất thường", "Abnormal"),
    "flag_HH": ("Rất cao", "Critically high"),
    "flag_LL": ("Rất thấp", "Critically low"),
    "flag_reported": ("Theo kết quả cơ sở xét nghiệm gửi", "As the laboratory reported it"),
    "flag_computed": ("Tính từ khoảng tham chiếu (cơ sở không đánh giá)", "Computed from the reference range (the laboratory gave no flag)"),
    "trend": ("Diễn biến", "Trend"),
    "n_results": ("{n} kết quả", "{n} results"),
    "vitals": ("Dấu hiệu sinh tồn", "Vital signs"),
    "weight": ("Cân nặng", "Body weight"),
    "pulse": ("Mạch", "Pulse"),
    "blood_pressure": ("Huyết áp", "Blood pressure"),
    "systolic": ("Tâm thu", "Systolic"),
    "diastolic": ("Tâm trương", "Diastolic"),
    "temperature": ("Nhiệt độ", "Body temperature"),
    "readings": ("Các số đo", "Readings"),
    "latest": ("Gần nhất", "Latest"),
}


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else "vi"


def text(key: str, lang: str, **values: object) -> str:
    """The word ``key`` in ``lang`` with ``{name}`` placeholders filled."""
    vi, en = WORDS[key]
    out = en if lang == "en" else vi
    return out.format(**values) if values else out
