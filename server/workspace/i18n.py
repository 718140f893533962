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
}


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else "vi"


def text(key: str, lang: str, **values: object) -> str:
    """The word ``key`` in ``lang`` with ``{name}`` placeholders filled."""
    vi, en = WORDS[key]
    out = en if lang == "en" else vi
    return out.format(**values) if values else out
