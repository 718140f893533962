"""Hypothesis strategies over the whole value space of the transfer dataset.

valid_records() aims at the edges a mapping can get wrong: any Unicode text XML can carry
(';', '<', '&', ']]>', quotes, CR/LF, astral characters), values at their maximum length,
birth dates with unknown parts, dates from year 0001 to 9999, several insurance cards with
lists that line up, and any subset of the optional fields.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Callable

from hypothesis import strategies as st

from .fields import BY_NAME, CODE_TABLES, FIELDS, Field
from .schema import FORMAT_ITEM, KIND_ITEM, closed_codes

XML_CHARS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in range(0x20) if c not in (0x9, 0xA, 0xD)] + ["\ufffe", "\uffff"])
TRICKY_CHARS = st.sampled_from(list(";<>&]\"' \t\r\nĐđăâêôơưỹỵẠạẤấẪẫỆệỮữ°₂😷"))
TRICKY = st.one_of(TRICKY_CHARS, st.sampled_from(["]]>", "<![CDATA[", "&amp;", "\r\n", "Nguyễn Thị Ánh", "Đắk Lắk"]))
_SPACE = re.compile(r"\s")
TOKEN_CHARS = XML_CHARS.filter(lambda c: c != ";" and not _SPACE.match(c))
_MAX_FREE = 400  # cap for unbounded text so runs stay fast; long values are covered by bounded fields


def text(max_length: int | None) -> st.SearchStrategy[str]:
    """Non-empty XML-representable text up to max_length characters (sometimes exactly at it)."""
    limit = max_length or _MAX_FREE
    pieces = st.lists(st.one_of(st.text(XML_CHARS, min_size=1, max_size=20), TRICKY), min_size=1, max_size=30)
    mixed = pieces.map(lambda ps: "".join(ps)[:limit])
    options = [mixed, st.text(st.one_of(XML_CHARS, TRICKY_CHARS), min_size=1, max_size=limit)]
    if max_length:
        options.append(st.text(XML_CHARS, min_size=max_length, max_size=max_length))
    return st.one_of(*options).filter(bool)


def _joined(item: st.SearchStrategy[str], limit: int | None) -> st.SearchStrategy[str]:
    """';'-joined items, dropping trailing items until it fits `limit`."""
    def fit(items: list[str]) -> str:
        while limit and len(items) > 1 and len(";".join(items)) > limit:
            items = items[:-1]
        return ";".join(items)
    return st.lists(item, min_size=1, max_size=15).map(fit)


def _regex(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(re.compile(pattern, re.ASCII), fullmatch=True)


def _date8() -> st.SearchStrategy[str]:
    return st.dates(date(1, 1, 1), date(9999, 12, 31)).map(lambda d: f"{d.year:04d}{d:%m%d}")


def _decimal(max_length: int) -> st.SearchStrategy[str]:
    whole = _regex("[0-9]{1,%d}" % max_length)
    frac = st.one_of(st.just(""), _regex(r"\.[0-9]{1,%d}" % max(1, max_length - 2)))
    return st.tuples(whole, frac).map("".join).filter(lambda s: len(s) <= max_length)


def value(f: Field) -> st.SearchStrategy[str]:
    """Any valid value of one field taken on its own (cross-field rules are applied by valid_records)."""
    codes = closed_codes(f)
    if codes is not None:
        return st.sampled_from(codes)
    if f.item_format == "date8":
        item = _date8()
    elif f.item_format == "token":
        item = st.text(TOKEN_CHARS, min_size=1, max_size=12)
    elif f.item_format:
        item = _regex(FORMAT_ITEM[f.item_format])
    elif f.kind == "text":
        return text(f.max_length)
    elif f.kind == "decimal":
        return _decimal(f.max_length or 12)
    elif f.kind == "integer":
        item = _regex("[0-9]{1,%d}" % (f.max_length or 9))
    else:
        item = _regex(KIND_ITEM[f.kind])
    return _joined(item, f.max_length) if f.multi else item


def _moment() -> st.SearchStrategy[datetime]:
    return st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59)).map(
        lambda d: d.replace(second=0, microsecond=0))


def _dt12(d: datetime) -> str:
    return f"{d.year:04d}{d:%m%d%H%M}"


@st.composite
def birth_date(draw: Callable, not_after: datetime) -> str:
    """A birth date no later than `not_after`, sometimes with unknown (00) parts."""
    born = draw(st.datetimes(datetime(1, 1, 1), not_after)).replace(second=0, microsecond=0)
    shape = draw(st.sampled_from(["full", "date", "month", "year"]))
    full = _dt12(born)
    return {"full": full, "date": full[:8] + "0000", "month": full[:6] + "000000", "year": full[:4] + "00000000"}[shape]


@st.composite
def cards(draw: Callable) -> dict[str, str]:
    """1-5 cards; each card list is present or absent, and present lists have one value per card."""
    n = draw(st.integers(1, 5))
    out: dict[str, str] = {}
    if draw(st.booleans()):
        out["MA_THE_BHYT"] = ";".join(draw(st.lists(_regex(FORMAT_ITEM["card"]), min_size=n, max_size=n)))
    if draw(st.booleans()):
        out["MA_DKBD"] = ";".join(draw(st.lists(_regex(FORMAT_ITEM["facility"]), min_size=n, max_size=n)))
    spans = draw(st.lists(st.tuples(st.dates(date(1, 1, 1), date(9999, 12, 31)), st.integers(0, 3000)),
                          min_size=n, max_size=n))
    spans = [(d, min(d + timedelta(days=k), date(9999, 12, 31)) if d.year < 9990 else d) for d, k in spans]
    if draw(st.booleans()):
        out["GT_THE_TU"] = ";".join(f"{a.year:04d}{a:%m%d}" for a, _ in spans)
    if draw(st.booleans()):
        out["GT_THE_DEN"] = ";".join(f"{b.year:04d}{b:%m%d}" for _, b in spans)
    return out


SPECIAL = {"NGAY_SINH", "NGAY_VAO", "NGAY_VAO_NOI_TRU", "NGAY_RA", "MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN"}


@st.composite
def valid_records(draw: Callable) -> dict[str, str]:
    """A record validate() accepts, drawn from the whole value space of each field."""
    rec: dict[str, str] = {}
    for f in FIELDS:
        if f.name in SPECIAL or (not f.required and not draw(st.booleans())):
            continue
        rec[f.name] = draw(value(f))
    vao, nt, ra = sorted(draw(st.lists(_moment(), min_size=3, max_size=3)))
    rec["NGAY_VAO"], rec["NGAY_RA"] = _dt12(vao), _dt12(ra)
    if draw(st.booleans()):
        rec["NGAY_VAO_NOI_TRU"] = _dt12(nt)
    rec["NGAY_SINH"] = draw(birth_date(vao))
    rec.update(draw(cards()))
    return {f.name: rec[f.name] for f in FIELDS if f.name in rec}


__all__ = ["valid_records", "value", "text", "birth_date", "cards", "BY_NAME", "CODE_TABLES"]
