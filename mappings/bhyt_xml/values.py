"""Value checks of one insurance (BHYT) episode: what the specification says a value cannot be.

``check_episode(ep)`` returns every problem at once, each naming table, record (1-based) and field.
It rejects only what the spec rules out: missing MA_LK, records of another episode, non-numbers in
``integer``/``decimal`` fields, values longer than a *published* maximum, impossible dates, codes
outside the closed lists and codes of the wrong fixed shape.  Which field is a date, a birth date, a
list, a closed code or a fixed-format code is data (``values.json``); this module only knows how to
check each kind of rule.  Values are compared after trimming leading/trailing blanks (the one
normalisation of the round trip, ``str.strip`` as the reader does); an empty value is not checked.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from .envelope import Episode
from .layouts import Field, TableLayout, layouts

_PATH = Path(__file__).with_name("values.json")

INTEGER = re.compile(r"[+-]?[0-9]+")
DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
COMMA_DECIMAL = re.compile(r"[+-]?[0-9]+,[0-9]+")
_DIGITS = re.compile(r"[0-9]+")
_SHOW = 60


@dataclass(frozen=True)
class Format:
    """A value shape from values.json: a date (one of ``dates`` layouts) or a regex ``pattern``."""
    name: str
    what: str
    dates: tuple[str, ...] = ()
    unknown_parts: bool = False
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Rule:
    """What one field must be beyond kind and length: a format (maybe a ';' list) or a closed code list."""
    field: str
    format: Format | None = None
    list: bool = False
    codes: tuple[str, str, Mapping[str, str]] | None = None  # (list name, description, code → meaning)


@dataclass(frozen=True)
class Rules:
    formats: Mapping[str, Format]
    #: rule name → why a departure from it is imported with a warning (``--strict`` refuses it)
    accepted: Mapping[str, str]
    #: rule name → why a departure from it is a warning in every mode (``unknown-field``)
    reported: Mapping[str, str]
    code_lists: Mapping[str, Mapping[str, str]]
    max_length: Mapping[tuple[str, str, str], int]  # corrections of published limits
    fields: Mapping[tuple[str, str], Mapping[str, Rule]]


@lru_cache(maxsize=1)
def rules() -> Rules:
    """values.json, parsed once."""
    raw = json.loads(_PATH.read_text(encoding="utf-8"))
    formats = {
        n: Format(n, v["what"], tuple(v.get("dates", ())), bool(v.get("unknown_parts")),
                  re.compile(v["pattern"], re.ASCII) if "pattern" in v else None)
        for n, v in raw["formats"].items()
    }
    code_lists = raw["code_lists"]
    inherits = _data(raw.get("inherits", {}))
    corrections = {(s, t, f): n for s, tables in _inherited(_data(raw["max_length_corrections"]), inherits).items()
                   for t, fields in tables.items() for f, n in fields.items()}
    fields: dict[tuple[str, str], dict[str, Rule]] = {}
    for std, tables in _inherited(raw["fields"], inherits).items():
        for table, spec in tables.items():
            per: dict[str, Rule] = {}
            for name, r in spec.items():
                codes = None
                if "codes" in r:
                    table_codes = code_lists[r["codes"]]
                    codes = (r["codes"], ", ".join(f"{c} {m}" for c, m in table_codes.items()), table_codes)
                per[name] = Rule(name, formats[r["format"]] if "format" in r else None, bool(r.get("list")), codes)
            fields[(std, table)] = per
    return Rules(formats, _data(raw.get("accepted", {})), _data(raw.get("reported", {})), code_lists, corrections, fields)


def _data(section: Mapping[str, object]) -> dict:
    """A values.json section without its ``_why``/``_about`` notes."""
    return {k: v for k, v in section.items() if not k.startswith("_")}


def _inherited(per_standard: Mapping[str, Mapping[str, Mapping]], inherits: Mapping[str, str]) -> dict[str, dict[str, dict]]:
    """Per standard → table → field entries, a standard that inherits (3176 ← 130) getting its
    parent's entries under its own, without the fields its layout lacks."""
    out = {std: {t: dict(f) for t, f in tables.items()} for std, tables in per_standard.items()}
    for child, parent in inherits.items():
        tables = layouts(child)
        merged: dict[str, dict] = {}
        for t, entries in per_standard.get(parent, {}).items():
            if t in tables:
                merged[t] = {f: v for f, v in entries.items() if tables[t].field(f) is not None}
        for t, entries in per_standard.get(child, {}).items():
            merged.setdefault(t, {}).update(entries)
        out[child] = merged
    return out


def field_rule(standard: str, table: str, name: str) -> Rule | None:
    return rules().fields.get((standard, table), {}).get(name)


def max_length(standard: str, table: str, f: Field) -> int | None:
    """The published limit of a field (after the corrections in values.json); None when unpublished."""
    fixed = rules().max_length.get((standard, table, f.name))
    if fixed is not None:
        return fixed
    return f.max_length if f.published else None


# --------------------------------------------------------------------------- dates

_WIDTH = {"yyyyMMdd": 8, "yyyyMMddHHmm": 12}


def valid_date(value: str, fmt: Format) -> bool:
    """A real calendar date/time in one of the format's layouts (00 parts allowed for birth dates)."""
    if not _DIGITS.fullmatch(value) or len(value) not in {_WIDTH[d] for d in fmt.dates}:
        return False
    y, mo, d = int(value[0:4]), int(value[4:6]), int(value[6:8])
    hh, mm = (int(value[8:10]), int(value[10:12])) if len(value) == 12 else (0, 0)
    if fmt.unknown_parts:
        if mo == 0 and d != 0:
            return False  # an unknown month needs an unknown day
        if d == 0 and (hh, mm) != (0, 0):
            return False  # an unknown day needs an unknown time
        mo, d = mo or 1, d or 1
    try:
        datetime(y, mo, d, hh, mm)
    except ValueError:
        return False
    return True


def format_ok(value: str, fmt: Format) -> bool:
    if fmt.pattern is not None:
        return fmt.pattern.fullmatch(value) is not None
    return valid_date(value, fmt)


# --------------------------------------------------------------------------- checks

def _show(value: str) -> str:
    return value if len(value) <= _SHOW else value[:_SHOW - 3] + "..."


def check_value(standard: str, table: str, f: Field, value: str) -> list[tuple[str, str]]:
    """Problems of one (trimmed, non-empty) value: (rule, reason without the location)."""
    out: list[tuple[str, str]] = []
    if f.kind == "integer" and not INTEGER.fullmatch(value):
        out.append(("kind", f"{_show(value)} is not an integer (ASCII digits, optional sign)"))
    elif f.kind == "decimal" and not DECIMAL.fullmatch(value):
        if COMMA_DECIMAL.fullmatch(value):
            out.append(("decimal-comma", f"{_show(value)} uses ',' as the decimal separator (the decision uses '.'); stored as {value.replace(',', '.')}, written back as read"))
        else:
            out.append(("kind", f"{_show(value)} is not a decimal number (ASCII digits, optional sign, '.' as separator)"))
    limit = max_length(standard, table, f)
    if limit is not None and len(value) > limit:
        out.append(("length", f"{_show(value)} is {len(value)} characters long, more than the published maximum of {limit}"))
    rule = field_rule(standard, table, f.name)
    if rule is None:
        return out
    if rule.codes is not None:
        name, described, codes = rule.codes
        if value not in codes:
            out.append((f"codes:{name}", f"{_show(value)} is not in the closed code list ({described})"))
    elif rule.format is not None:
        kind = f"format:{rule.format.name}"
        if rule.list:
            bad = [(i, item) for i, item in enumerate(value.split(";"), 1) if not format_ok(item, rule.format)]
            if bad:
                which = ", ".join(f"{i} ({_show(item)!r})" for i, item in bad[:5])
                items = "item" if len(bad) == 1 else "items"
                out.append((kind, f"{_show(value)}: in this ';'-separated list, {items} {which} "
                                  f"{'is' if len(bad) == 1 else 'are'} not {rule.format.what}"))
        elif not format_ok(value, rule.format):
            out.append((kind, f"{_show(value)} is not {rule.format.what}"))
    return out


def _check_record(std: str, lay: TableLayout, n: int, record: Mapping[str, str], ma_lk: str) -> list[tuple[str, str]]:
    where = f"{lay.table} record {n}"
    out: list[tuple[str, str]] = []
    own = record.get("MA_LK")
    if lay.field("MA_LK") is None:
        pass  # XML12 (the medical assessment) belongs to no episode key
    elif own is None:
        out.append(("structure", f"{where} MA_LK: missing"))
    elif not own.strip():
        out.append(("structure", f"{where} MA_LK: empty"))
    elif ma_lk and own.strip() != ma_lk:
        out.append(("structure", f"{where} MA_LK: {_show(own.strip())} differs from the episode's MA_LK {_show(ma_lk)}"))
    for f in lay.fields:
        value = record.get(f.name)
        if value is None:
            continue
        value = value.strip()
        if value:
            out.extend((rule, f"{where} {f.name}: {reason}") for rule, reason in check_value(std, lay.table, f, value))
    return out


def _problems(ep: Episode) -> list[tuple[str, str]]:
    """Every departure of the episode from the spec, as (rule, message)."""
    tables = layouts(ep.standard)
    ma_lk = (ep.ma_lk or "").strip()
    out: list[tuple[str, str]] = [] if ma_lk else [("structure", "episode: MA_LK is empty")]
    summary = ep.tables.get("XML1") or []
    if not summary:
        out.append(("structure", "XML1: missing (the episode summary, which carries MA_LK, must have one record)"))
    for table, records in ep.tables.items():
        lay = tables.get(table)
        if lay is None:
            out.append(("structure", f"{table}: no such table in standard {ep.standard}"))
            continue
        if lay.single and len(records) > 1:
            out.append(("structure", f"{table}: holds one record, got {len(records)}"))
        for n, record in enumerate(records, 1):
            out.extend(_check_record(ep.standard, lay, n, record, ma_lk))
    return out


def check_episode(ep: Episode) -> list[str]:
    """Every problem of the episode at once, strictly (empty: nothing the spec rules out).  Never raises on values."""
    return [message for _, message in _problems(ep)]


@dataclass(frozen=True)
class Review:
    """An episode as the import policy sees it: ``errors`` refuse it, ``warnings`` are reported."""
    errors: list[str]
    warnings: list[str]


def unknown_fields(ep: Episode) -> list[str]:
    """A warning per field the episode's standard does not have in that table (kept, written back)."""
    out: list[str] = []
    tables = layouts(ep.standard)
    for table, records in ep.tables.items():
        lay = tables.get(table)
        if lay is None:
            continue
        known = set(lay.field_names)
        for n, record in enumerate(records, 1):
            extra = [name for name in record if name not in known]
            if extra:
                out.append(f"{table} record {n}: {', '.join(extra)}: not in the {ep.standard} layout of {table} "
                           "(kept as text and written back)")
    return out


def review_episode(ep: Episode, *, strict: bool = False) -> Review:
    """The problems of ``check_episode`` split by the policy in values.json (``accepted``): departures
    real files carry are warnings unless ``strict``; everything else is an error.  Fields the layout
    lacks (``reported``) and what the reader passed over (``ep.notes``) are warnings in every mode."""
    accepted = rules().accepted
    errors: list[str] = []
    warnings: list[str] = []
    for rule, message in _problems(ep):
        (warnings if not strict and rule in accepted else errors).append(message)
    warnings.extend(unknown_fields(ep))
    warnings.extend(ep.notes)
    return Review(errors, warnings)


def trimmed(ep: Episode) -> Episode:
    """The episode as it reads back after a write: every value with leading/trailing blanks removed."""
    return Episode(ma_lk=ep.ma_lk.strip(), standard=ep.standard, position=ep.position,
                   tables={t: [{k: v.strip() for k, v in r.items()} for r in rs] for t, rs in ep.tables.items()})
