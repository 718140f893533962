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
    # tools
    "tools_intro": ("Dán hoặc tải lên một giấy chuyển tuyến (54 chỉ tiêu, JSON hoặc XML) hoặc một hồ sơ giám định BHYT "
                    "(GIAMDINHHS, chuẩn 130/4210/3176): loại hồ sơ được nhận biết từ nội dung. Trang này chỉ ra mọi lỗi "
                    "cạnh chỉ tiêu của nó và Bundle FHIR tương ứng.",
                    "Paste or upload a transfer record (the 54 fields, JSON or XML) or an insurance envelope "
                    "(GIAMDINHHS, standards 130/4210/3176): the kind is detected from the content. This page shows "
                    "every problem next to its field, and the FHIR Bundle it maps to."),
    "tools_paste": ("Dán nội dung (JSON hoặc XML)", "Paste the content (JSON or XML)"),
    "tools_file": ("Hoặc chọn tệp (được dùng nếu có)", "Or choose a file (used when given)"),
    "tools_check": ("Kiểm tra", "Check"),
    "tools_result": ("Kết quả kiểm tra", "Check result"),
    "tools_kind_transfer54": ("Giấy chuyển tuyến (54 chỉ tiêu), dạng {form}", "Transfer record (54 fields), {form} form"),
    "tools_kind_bhyt": ("Hồ sơ giám định BHYT (GIAMDINHHS), {n} hồ sơ", "Insurance envelope (GIAMDINHHS), {n} episodes"),
    "tools_valid": ("Không có lỗi.", "No problems found."),
    "tools_problem_count": ("{n} lỗi.", "{n} problems."),
    "tools_field": ("Chỉ tiêu", "Field"),
    "tools_value": ("Giá trị", "Value"),
    "tools_problems": ("Lỗi", "Problems"),
    "tools_other_problems": ("Lỗi không gắn với chỉ tiêu nào", "Problems not tied to a field"),
    "tools_absent": ("(không có)", "(absent)"),
    "tools_bundle": ("Bundle FHIR", "FHIR Bundle"),
    "tools_download": ("Tải Bundle FHIR", "Download the FHIR Bundle"),
    "tools_import": ("Nhập vào hệ thống", "Import"),
    "tools_import_note": ("Nhập qua cùng thao tác như $import-transfer54 và $import-bhyt của API FHIR.",
                          "Imported through the same operations as the FHIR API's $import-transfer54 and $import-bhyt."),
    "tools_read_only": ("Token của bạn không được ghi các tài nguyên này nên không có nút nhập.",
                        "Your token may not write these resources, so there is no import button."),
    "tools_episode": ("Hồ sơ {n}: MA_LK {ma_lk}, chuẩn {standard}", "Episode {n}: MA_LK {ma_lk}, standard {standard}"),
    "tools_table": ("Bảng", "Table"),
    "tools_record": ("Bản ghi", "Record"),
    "tools_warning": ("Cảnh báo", "Warning"),
    "tools_episode_ok": ("Chuyển được sang FHIR.", "Maps to FHIR."),
    "tools_episode_refused": ("Không chuyển được sang FHIR.", "Cannot be mapped to FHIR."),
    "tools_not_usable": ("Không kiểm tra được nội dung này", "This content cannot be checked"),
    "tools_imported": ("Kết quả nhập", "Import result"),
    "tools_resource": ("Tài nguyên", "Resource"),
    "tools_outcome": ("Kết quả", "Outcome"),
    "tools_created": ("Đã tạo", "Created"),
    "tools_updated": ("Đã cập nhật hoặc đã có", "Updated or already there"),
    "tools_failed": ("Bị từ chối", "Refused"),
    "tools_open_patient": ("Mở hồ sơ bệnh nhân", "Open the patient's record"),
    "tools_import_refused": ("Không nhập được", "The import was refused"),
    "tools_check_other": ("Kiểm tra tệp khác", "Check another file"),
    "tools_csrf": ("Biểu mẫu này không phải của phiên làm việc hiện tại; hãy tải lại trang.",
                   "This form does not belong to your current session; reload the page."),
}


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else "vi"


def text(key: str, lang: str, **values: object) -> str:
    """The word ``key`` in ``lang`` with ``{name}`` placeholders filled."""
    vi, en = WORDS[key]
    out = en if lang == "en" else vi
    return out.format(**values) if values else out
