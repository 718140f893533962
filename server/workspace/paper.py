"""The transfer paper (Giấy chuyển tuyến) laid out like the national form, from a 54-field record.

The record is what ``Encounter/{id}/$transfer54`` returns, so the paper shows exactly the data
the operation exports. The form's lines are a table (:data:`LINES`): the words of each line and
the fields it shows, formatted by the field's kind (dates ``dd/mm/yyyy``, codes with their words).
"""

from __future__ import annotations

from typing import Callable

from .codewords import code_words
from .context import Ctx
from .layout import h

Fields = dict[str, str]


def moment12(value: str | None) -> str:
    """``yyyyMMddHHmm`` (``00`` for what is unknown) as ``dd/mm/yyyy hh:mm``, as far as known."""
    if not value:
        return ""
    year, month, day, hour, minute = value[:4], value[4:6], value[6:8], value[8:10], value[10:12]
    date = "/".join(p for p in (day, month, year) if p and p != "00") if month != "00" else year
    time = f" {hour}:{minute}" if hour and minute and (hour, minute) != ("00", "00") else ""
    return date + time


def _items(value: str | None) -> list[str]:
    return [v for v in (value or "").split(";") if v]


def _coded(field: str) -> Callable[[Ctx, Fields], str]:
    def show(ctx: Ctx, r: Fields) -> str:
        code = r.get(field)
        words = code_words(field, code, ctx.lang)
        return h(f"{words} ({code})" if words and code else code or "")
    return show


def _text(field: str) -> Callable[[Ctx, Fields], str]:
    return lambda ctx, r: h(r.get(field, ""))


def _moment(field: str) -> Callable[[Ctx, Fields], str]:
    return lambda ctx, r: h(moment12(r.get(field)))


def _cards(ctx: Ctx, r: Fields) -> str:
    """Each card with its validity and registered facility (the four fields are ';'-parallel)."""
    cards, sites, starts, ends = (_items(r.get(f)) for f in ("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN"))
    out = []
    for i, card in enumerate(cards):
        valid = " – ".join(moment12(x[i]) for x in (starts, ends) if i < len(x))
        site = sites[i] if i < len(sites) else ""
        out.append(f'<span class="card-no">{h(card)}</span>'
                   + (f" · {ctx.t('valid')} {h(valid)}" if valid else "") + (f" · {ctx.t('registered_at')} {h(site)}" if site else ""))
    return "<br>".join(out)


def _diagnosis(names: dict[str, str]) -> Callable[[Ctx, Fields], str]:
    """CHAN_DOAN_RV, then the main and secondary ICD-10 codes, each with its name when known."""
    def show(ctx: Ctx, r: Fields) -> str:
        def coded(code: str) -> str:
            return f'<span class="icd">{h(code)}</span>' + (f" {h(names[code])}" if names.get(code) else "")
        main = r.get("MA_BENH_CHINH")
        lines = [h(r.get("CHAN_DOAN_RV", ""))]
        if main:
            lines.append(f'{ctx.t("dx_main")}: {coded(main)}')
        secondary = _items(r.get("MA_BENH_KT"))
        if secondary:
            lines.append(f'{ctx.t("dx_secondary")}: ' + "; ".join(coded(c) for c in secondary))
        if r.get("MA_BENH_YHCT"):
            lines.append(f'{ctx.t("dx_yhct")}: {h(r["MA_BENH_YHCT"])}')
        return "<br>".join(x for x in lines if x)
    return show


def _person(name_field: str, title_field: str) -> Callable[[Ctx, Fields], str]:
    return lambda ctx, r: h(", ".join(x for x in (r.get(name_field), r.get(title_field)) if x))


def _period(ctx: Ctx, r: Fields) -> str:
    return h(" – ".join(x for x in (moment12(r.get("NGAY_VAO")), moment12(r.get("NGAY_RA"))) if x))


def lines(names: dict[str, str]) -> tuple[tuple[str, tuple[tuple[str, Callable[[Ctx, Fields], str]], ...]], ...]:
    """The form's blocks: (heading word, ((line word, how it shows), …)); ``names``: ICD-10 code → name."""
    return (
        ("p_patient", (
            ("p_name", _text("HO_TEN")), ("p_birth", _moment("NGAY_SINH")), ("p_gender", _coded("GIOI_TINH")),
            ("p_cccd", _text("SO_CCCD")), ("p_patient_id", _text("MA_BN")), ("p_ethnicity", _coded("MA_DANTOC")),
            ("p_nationality", _text("MA_QUOCTICH")), ("p_occupation", _text("MA_NGHE_NGHIEP")), ("p_address", _text("DIA_CHI")),
            ("p_phone", _text("DIEN_THOAI")), ("p_blood", _text("NHOM_MAU")),
            ("p_card", _cards), ("p_category", _text("MA_DOITUONG_KCB")),
        )),
        ("p_treated", (
            ("p_care_type", _coded("MA_LOAI_KCB")), ("p_period", _period), ("p_inpatient", _moment("NGAY_VAO_NOI_TRU")),
            ("p_department", _text("MA_KHOA")), ("p_visit_reason", _text("LY_DO_VV")), ("p_admission_dx", _text("CHAN_DOAN_VAO")),
        )),
        ("p_summary", (
            ("p_signs", _text("DAU_HIEU_LS")), ("p_course", _text("QT_BENHLY")), ("p_results", _text("TOMTAT_KQ")),
            ("p_diagnosis", _diagnosis(names)), ("p_method", _text("PP_DIEUTRI")), ("p_services", _text("TEN_DICH_VU")),
            ("p_medicines", _text("TEN_THUOC")), ("p_weight", _text("CAN_NANG")), ("p_result", _coded("KET_QUA_DTRI")),
            ("p_condition", _text("TINH_TRANG_CT")),
        )),
        ("p_transfer", (
            ("p_reason", _coded("MA_LYDO_CT")), ("p_direction", _text("HUONG_DIEU_TRI")), ("p_at", _moment("NGAY_RA")),
            ("p_transport", _text("PHUONGTIEN_VC")), ("p_escort", _person("HOTEN_NGUOI_HT", "CHUCDANH_NGUOI_HT")),
        )),
    )


def _facility(code: str | None, names: dict[str, str]) -> str:
    if not code:
        return ""
    return h(f"{names[code]} ({code})" if names.get(code) else code)


def render(ctx: Ctx, r: Fields, *, icd_names: dict[str, str], facilities: dict[str, str], doctors: dict[str, str]) -> str:
    """The paper as an ``<article>``; lines with nothing to show are left out."""
    blocks = []
    for heading, rows in lines(icd_names):
        shown = [(key, show(ctx, r)) for key, show in rows]
        dl = "".join(f"<dt>{ctx.t(key)}</dt><dd>{value}</dd>" for key, value in shown if value)
        if dl:
            blocks.append(f'<section class="block"><h2>{ctx.t(heading)}</h2><dl class="lines">{dl}</dl></section>')
    doctor = r.get("MA_BAC_SI", "")
    head = r.get("MA_TTDV", "")
    numbers = "".join(f'<div>{ctx.t(k)}: <b>{h(r[f])}</b></div>' for k, f in (("p_number", "SO_CHUYENTUYEN"), ("p_paper_no", "GIAY_CHUYEN_TUYEN"), ("p_record_no", "SO_HOSO"), ("p_malk", "MA_LK")) if r.get(f))
    sign = (f'<div class="sign"><div class="date">{ctx.t("p_dated")} {h(moment12(r.get("NGAY_RA"))[:10])}</div>'
            f'<div class="who"><div class="role">{ctx.t("p_doctor")}</div>'
            f'<div class="name">{h(doctors.get(doctor, ""))}</div><div>{ctx.t("p_certificate")}: {h(doctor)}</div></div>'
            + (f'<div class="who"><div class="role">{ctx.t("p_head")}</div><div class="name">{h(doctors.get(head, ""))}</div><div>{ctx.t("p_code")}: {h(head)}</div></div>' if head else "")
            + "</div>")
    return (
        '<article class="paper" aria-labelledby="paper-title">'
        '<header class="paper-head">'
        f'<div class="issuer"><div>{ctx.t("p_issuer")}</div><b>{_facility(r.get("MA_CSKCB"), facilities)}</b>{numbers}</div>'
        f'<div class="nation"><b>{ctx.t("p_nation")}</b><div>{ctx.t("p_motto")}</div></div></header>'
        f'<h1 id="paper-title">{ctx.t("p_title")}</h1>'
        f'<p class="to">{ctx.t("p_to")}: <b>{_facility(r.get("MA_NOI_DEN"), facilities)}</b></p>'
        f'<p>{ctx.t("p_from")}: <b>{_facility(r.get("MA_NOI_DI"), facilities)}</b> {ctx.t("p_introduces")}</p>'
        + "".join(blocks) + sign + "</article>"
    )
