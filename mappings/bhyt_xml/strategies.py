"""Hypothesis strategies over the whole value space ``check_episode`` accepts, and just outside it.

``episodes(standard)`` draws writable episodes at the edges a mapping can get wrong: any text XML can
carry (Vietnamese, ``& < > ]]>``, quotes, CR/LF and tabs inside, astral characters), blanks around
values (the round trip trims them), empty values, numbers such as ``007``, ``12.50``, ``-0``, dates from
year 0001 to 9999, birth dates with ``00`` parts, ``;`` lists, fields unknown to both standards, 0..n
rows and any subset of the standard's tables.  Every episode reads back as its own standard.

``episodes(standard, departures=True)`` also draws the departures real files carry that the import
policy accepts with a warning (values.json ``accepted``): values over the published length, citizen
ids of 9 or 10 digits or passport numbers, decimals written with a comma.

``broken_episodes(standard)`` draws ``Broken`` cases: a valid episode with exactly one value breaking
one named rule, and where (table, record, field) so a test can check the reason names the field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Callable

from hypothesis import strategies as st

from .envelope import Episode, Record
from .layouts import STANDARDS, Field, TableLayout, layout, layouts, recognise_episode, table_exists
from .values import Format, field_rule, max_length

XML_CHARS = st.characters(
    exclude_categories=("Cs",),
    exclude_characters=[chr(c) for c in range(0x20) if c not in (0x9, 0xA, 0xD)] + ["\ufffe", "\uffff"])
TRICKY = st.sampled_from(["&", "<", ">", "]]>", "<![CDATA[", "&amp;", "\"", "'", "\r\n", "\r", "\n", "\t", ";",
                          "Nguyễn Thị Ánh", "Đắk Lắk", "°C", "😷", "\u00a0", "\u3000"])
BLANKS = st.sampled_from(["", "", " ", "  ", "\t", "\n", "\r\n ", " \u00a0"])
_LONG_CHARS = "aăâbcdđeêghiklmnoôơpqrstuưvxyÁÀẢÃẠ0123456789"
_FREE = 40  # cap for long text so runs stay fast; short limits are drawn up to their maximum
_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,14}")


def _regex(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(re.compile(pattern, re.ASCII), fullmatch=True)


def text(limit: int | None) -> st.SearchStrategy[str]:
    """XML-writable text whose trimmed length is at most ``limit``."""
    size = min(limit or _FREE, _FREE)
    pieces = st.lists(st.one_of(st.text(XML_CHARS, min_size=1, max_size=8), TRICKY), max_size=6).map("".join)
    return st.one_of(st.text(XML_CHARS, max_size=size), pieces).map(lambda s: s[:size])


def _number(limit: int | None, fraction: bool) -> st.SearchStrategy[str]:
    """ASCII numbers with optional sign, leading/trailing zeros, within ``limit`` characters."""
    room = min(limit or 18, 18)

    @st.composite
    def draw_number(draw: Callable) -> str:
        sign = draw(st.sampled_from(["", "", "-", "+"])) if room > 1 else ""
        left = room - len(sign)
        frac = ""
        if fraction and left >= 3 and draw(st.booleans()):
            frac = "." + draw(_regex(r"[0-9]{1,%d}" % min(left - 2, 6)))
        whole = draw(_regex(r"[0-9]{1,%d}" % (left - len(frac))))
        return sign + whole + frac
    return draw_number()


def _year_moment() -> st.SearchStrategy[datetime]:
    return st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59))


def _date_text(d: datetime, width: int) -> str:
    s = f"{d.year:04d}{d:%m%d%H%M}"
    return s[:width]


@st.composite
def date_value(draw: Callable, fmt: Format) -> str:
    """One valid value of a date format (birth dates sometimes with 00 parts)."""
    width = draw(st.sampled_from(sorted({8 if d == "yyyyMMdd" else 12 for d in fmt.dates})))
    full = _date_text(draw(_year_moment()), 12)
    if fmt.unknown_parts:
        shape = draw(st.sampled_from(["full", "date", "month", "year"]))
        full = {"full": full, "date": full[:8] + "0000", "month": full[:6] + "000000",
                "year": full[:4] + "00000000"}[shape]
    return full[:width]


def format_value(fmt: Format) -> st.SearchStrategy[str]:
    if fmt.pattern is not None:
        return _regex(fmt.pattern.pattern)
    return date_value(fmt)


def _joined(item: st.SearchStrategy[str], limit: int | None) -> st.SearchStrategy[str]:
    def fit(items: list[str]) -> str:
        while limit and len(items) > 1 and len(";".join(items)) > limit:
            items = items[:-1]
        return ";".join(items)
    return st.lists(item, min_size=1, max_size=4).map(fit)


#: other identity documents the 4750 notes allow in SO_CCCD, and the 10 digits real files carry
OTHER_IDENTITY = st.one_of(_regex(r"[0-9]{9}"), _regex(r"[0-9]{10}"), _regex(r"[A-Z][0-9]{7}"))


def _comma(number: str) -> str:
    return number.replace(".", ",") if "." in number else number


@lru_cache(maxsize=None)
def value(standard: str, table: str, name: str, departures: bool = False) -> st.SearchStrategy[str]:
    """Any value check_episode accepts for one field (before the blanks around it); with
    ``departures``, also the accepted departures (over-long, other identity forms, comma decimals)."""
    strict = _strict_value(standard, table, name)
    f = layout(standard, table).field(name)
    if not departures or f is None:
        return strict
    extra: list[st.SearchStrategy[str]] = []
    limit = max_length(standard, table, f)
    rule = field_rule(standard, table, name)
    if limit is not None and (rule is None or (rule.codes is None and rule.format is None)) and f.kind == "text":
        extra.append(st.text(st.sampled_from(_LONG_CHARS + "/-."), min_size=limit + 1, max_size=limit + 20))
    if rule is not None and rule.format is not None and rule.format.name == "citizen_id":
        extra.append(OTHER_IDENTITY)
    if f.kind == "decimal":
        extra.append(_number(limit, True).filter(lambda v: "." in v).map(_comma))
    return st.one_of(strict, *extra) if extra else strict


@lru_cache(maxsize=None)
def _strict_value(standard: str, table: str, name: str) -> st.SearchStrategy[str]:
    lay = layout(standard, table)
    f = lay.field(name)
    if f is None:  # a field neither standard knows: anything
        return text(None)
    limit = max_length(standard, table, f)
    rule = field_rule(standard, table, name)
    if rule is not None and rule.codes is not None:
        return st.sampled_from(sorted(rule.codes[2]))
    if rule is not None and rule.format is not None:
        item = format_value(rule.format)
        if rule.list:
            return _joined(item, limit)
        return item if limit is None else item.filter(lambda v: len(v) <= limit)  # e.g. dates published as 8
    if f.kind == "integer":
        return _number(limit, False)
    if f.kind == "decimal":
        return _number(limit, True)
    return text(limit)


def _padded(core: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Sometimes blanks around, sometimes empty: what the trim-normalised round trip must cope with."""
    return st.one_of(core, st.tuples(BLANKS, core, BLANKS).map("".join), st.sampled_from(["", " "]))


@lru_cache(maxsize=None)
def _unknown_names(standard: str, table: str) -> st.SearchStrategy[str]:
    known = {f.name for s in STANDARDS if table_exists(s, table) for f in layout(s, table).fields}
    return st.from_regex(_NAME, fullmatch=True).filter(lambda n: n not in known)


@lru_cache(maxsize=None)
def _split_fields(standard: str, table: str) -> tuple[tuple[Field, ...], tuple[Field, ...]]:
    """(fields with a rule in values.json, the other fields), MA_LK left out."""
    fields = tuple(f for f in layout(standard, table).fields if f.name != "MA_LK")
    ruled = tuple(f for f in fields if field_rule(standard, table, f.name) is not None)
    return ruled, tuple(f for f in fields if f not in ruled)


def _keyed(lay: TableLayout) -> bool:
    return lay.field("MA_LK") is not None


@st.composite
def record(draw: Callable, lay: TableLayout, ma_lk: str, departures: bool = False) -> Record:
    """One record: MA_LK (maybe padded; not in XML12, which has none), any subset of the layout's
    fields, sometimes unknown fields."""
    out: Record = {"MA_LK": draw(st.tuples(BLANKS, st.just(ma_lk), BLANKS).map("".join))} if _keyed(lay) else {}
    ruled, plain = _split_fields(lay.standard, lay.table)
    chosen = {f.name for f in ruled if draw(st.booleans())}  # fields with a rule: each one often
    if plain:
        chosen.update(f.name for f in draw(st.lists(st.sampled_from(plain), unique_by=lambda f: f.name,
                                                      max_size=min(10, len(plain)))))
    for f in (f for f in lay.fields if f.name in chosen):
        out[f.name] = draw(_padded(value(lay.standard, lay.table, f.name, departures)))
    for name in draw(st.lists(_unknown_names(lay.standard, lay.table), max_size=2, unique=True)):
        out[name] = draw(_padded(text(None)))
    if not out:  # a record without MA_LK needs one field to exist at all (<ROOT/> is an empty table)
        f = draw(st.sampled_from(lay.fields))
        out[f.name] = draw(value(lay.standard, lay.table, f.name, departures))
    return out


def _markers(standard: str, rival: str, table: str) -> tuple[Field, ...]:
    """Fields of ``table`` in ``standard`` that ``rival`` lacks (what tells the reader the standard)."""
    fields = tuple(f for f in layout(standard, table).fields if f.name != "MA_LK")
    if not table_exists(rival, table):
        return fields
    theirs = set(layout(rival, table).field_names)
    return tuple(f for f in fields if f.name not in theirs)


def _recognised(tables: dict[str, list[Record]]) -> str | None:
    try:
        return recognise_episode(tables)
    except ValueError:
        return None


@st.composite
def episodes(draw: Callable, standard: str, departures: bool = False) -> Episode:
    """A writable episode check_episode accepts (``departures``: review_episode accepts), that reads
    back as ``standard``."""
    tabs = layouts(standard)
    ma_lk = draw(st.text(XML_CHARS, min_size=1, max_size=20).map(str.strip).filter(bool))
    names = draw(st.lists(st.sampled_from([t for t in tabs if t != "XML1"]), max_size=5, unique=True))
    tables: dict[str, list[Record]] = {}
    tables["XML1"] = [draw(record(tabs["XML1"], ma_lk, departures))]  # every episode has its summary, with MA_LK
    for t in sorted(names, key=list(tabs).index):
        lay = tabs[t]
        n = draw(st.integers(0, 1 if lay.single else 3))
        tables[t] = [draw(record(lay, ma_lk, departures)) for _ in range(n)]
    for _ in range(len(STANDARDS)):  # add fields only this standard has until it reads back as itself
        known = _recognised(tables)
        if known == standard:
            break
        rival = known or ("4210" if standard != "4210" else "130")
        options = [t for t in tabs if _markers(standard, rival, t)]
        present = [t for t in options if tables.get(t)]
        t = draw(st.sampled_from(present or options))
        if not tables.get(t):
            tables[t] = [{"MA_LK": ma_lk} if _keyed(tabs[t]) else {}]
        f = draw(st.sampled_from(_markers(standard, rival, t)))
        tables[t][0][f.name] = draw(value(standard, t, f.name))
    ordered = {t: tables[t] for t in tabs if t in tables}
    return Episode(ma_lk=ma_lk, standard=standard, tables=ordered)


# --------------------------------------------------------------------------- broken

NOT_INTEGER = ["1e3", "12.5", "x", "١٢", "１２", "1 2", "--1", "+", "0x1F", "5-"]
NOT_DECIMAL = ["1e3", "1,5", "12.", ".5", "NaN", "Infinity", "1 000", "١٢", "+-1", "12.5.1"]
BAD_FORMAT = {  # per format of values.json: values no item of it can be
    "datetime": ["202502301200", "202513011200", "202501012460", "202501012500", "2025010112", "20250101",
                 "2025-01-01 12:00", "00000101000"],
    "date": ["20250230", "20251301", "20250100", "2025010", "202501011200", "00000101", "2025-1-1"],
    "date_or_datetime": ["20250230", "202502301200", "2025013", "0000010112", "20250101120", "20251301"],
    "birth": ["198500140000", "198507001230", "198513000000", "19850714", "198502300000", "000000000000"],
    "birth_date_or_datetime": ["19850014", "198500140000", "198507001230", "1985071", "19851300", "00000000"],
    "facility": ["4200", "420011", "4200A", "42 01", "٤٢٠٠١"],
    "citizen_id": ["12345678901", "1234567890123", "12345678901A", "1234 5678901"],
    "ethnicity": ["1", "001", "A1", "0 1"],
    "card": ["DN47912345678", "DN479123456789012", "1N4791234567890", "DN4791234567X90", "Đ N479123456789"],
}
NOT_A_CODE = ["0", "4", "5", "8", "9", "01", "1.0", "x", "-1", "10"]


@dataclass(frozen=True)
class Broken:
    """A case for check_episode: ``episode`` breaks ``rule`` in ``table`` record ``record`` field ``field``."""
    episode: Episode
    rule: str
    table: str
    record: int
    field: str

    @property
    def where(self) -> str:
        return f"{self.table} record {self.record} {self.field}:"


@lru_cache(maxsize=None)
def candidates(standard: str) -> dict[str, tuple[tuple[str, str], ...]]:
    """Rule name → every (table, field) of this standard whose value can break it."""
    out: dict[str, list[tuple[str, str]]] = {"ma_lk_missing": [("XML1", "MA_LK")], "ma_lk_differs": []}
    for t, lay in layouts(standard).items():
        if _keyed(lay):
            out["ma_lk_differs"].append((t, "MA_LK"))
        for f in (f for f in lay.fields if f.name != "MA_LK"):
            found = []
            if f.kind in ("integer", "decimal"):
                found.append(f.kind)
            if max_length(standard, t, f) is not None:
                found.append("too_long")
            rule = field_rule(standard, t, f.name)
            if rule is not None and rule.codes is not None:
                found.append("closed_code")
            elif rule is not None and rule.format is not None:
                found.append("format")
            for name in found:
                out.setdefault(name, []).append((t, f.name))
    return {k: tuple(v) for k, v in sorted(out.items())}


@st.composite
def _bad_value(draw: Callable, rule: str, standard: str, table: str, name: str, ma_lk: str) -> str | None:
    """A value breaking ``rule`` (None: leave the field out)."""
    f = layout(standard, table).field(name)
    assert f is not None
    if rule == "ma_lk_missing":
        return draw(st.sampled_from([None, "", "  "]))
    if rule == "ma_lk_differs":
        return ma_lk + draw(st.sampled_from(["X", " 1", "-2", "Đ"]))
    if rule == "integer":
        return draw(st.sampled_from(NOT_INTEGER))
    if rule == "decimal":
        return draw(st.sampled_from(NOT_DECIMAL))
    if rule == "too_long":
        limit = max_length(standard, table, f) or 0
        chars = "0123456789" if f.kind != "text" else _LONG_CHARS
        return draw(st.text(st.sampled_from(chars), min_size=limit + 1, max_size=limit + 3))
    field_rule_ = field_rule(standard, table, name)
    assert field_rule_ is not None
    if rule == "closed_code":
        codes = field_rule_.codes[2] if field_rule_.codes else {}
        return draw(st.sampled_from([c for c in NOT_A_CODE if c not in codes]))
    fmt = field_rule_.format
    assert fmt is not None
    bad = draw(st.sampled_from(BAD_FORMAT[fmt.name]))
    if field_rule_.list and draw(st.booleans()):
        return draw(format_value(fmt)) + ";" + bad
    return bad


@st.composite
def broken_episodes(draw: Callable, standard: str) -> Broken:
    """A valid episode with one value breaking one named rule (see ``Broken``)."""
    ep = draw(episodes(standard))
    rule = draw(st.sampled_from(list(candidates(standard))))
    table, name = draw(st.sampled_from(candidates(standard)[rule]))
    tables = {t: [dict(r) for r in rs] for t, rs in ep.tables.items()}
    rows = tables.setdefault(table, [])
    if not rows:
        rows.append({"MA_LK": ep.ma_lk} if _keyed(layout(standard, table)) else {})
    lay = layout(standard, table)
    n = 1 if lay.single or rule == "ma_lk_missing" else draw(st.integers(1, len(rows)))
    bad = draw(_bad_value(rule, standard, table, name, ep.ma_lk))
    rec = rows[n - 1]
    if bad is None:
        rec.pop(name, None)
    else:
        rec[name] = bad
    ordered = {t: tables[t] for t in layouts(standard) if t in tables}
    return Broken(Episode(ma_lk=ep.ma_lk, standard=standard, tables=ordered), rule, table, n, name)


__all__ = ["episodes", "broken_episodes", "Broken", "candidates", "value", "text", "record", "XML_CHARS"]
