"""Check a JSON-form record and report every problem at once, one per defect.

jsonschema does the structural part (object, names, required, string, length, pattern,
closed code lists); the checks here add what a schema cannot say: real calendar dates,
the unknown-part rules of the birth date, date order, and that the card lists line up.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from jsonschema import Draft202012Validator

from .fields import BY_NAME, CODE_TABLES, FIELDS, Field
from .schema import FORMAT_WORDS, TEXT_CHAR, build_schema, item_key, item_regex

CARD_FIELDS = ("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN")


@dataclass(frozen=True)
class Problem:
    """One defect: the field it is in (None for the record itself), a sentence, a stable code."""
    field: str | None
    reason: str
    code: str


_VALIDATOR = Draft202012Validator(build_schema())
_FULL = {f.name: re.compile(f"{item_regex(f)}(?:;{item_regex(f)})*" if f.multi else item_regex(f))
         for f in FIELDS}
_TEXT_OK = re.compile(TEXT_CHAR + "*")
# Lower number wins when one field has several findings: report the most useful one.
_RANK = {"not-a-string": 0, "empty-value": 1, "bad-character": 2, "bad-code": 3, "bad-format": 4,
         "too-long": 5, "impossible-date": 6}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _name(f: Field) -> str:
    return f"{f.name} ({f.label_vi})"


def _describe_codes(f: Field) -> str:
    table = CODE_TABLES[f.code_table or ""]
    return ", ".join(f"{c} {d.en.lower()}" for c, d in table.codes.items())


def _field_problem(f: Field, code: str, value: Any) -> Problem:
    n = _name(f)
    if code == "not-a-string":
        reason = f"{n} must be a JSON string (write it exactly as the XML text, e.g. \"1\"), got {_show(value)}."
    elif code == "empty-value":
        reason = f"{n} is empty; omit the field instead of sending an empty value."
    elif code == "too-long":
        reason = f"{n} is {len(value)} characters long; at most {f.max_length} are allowed."
    elif code == "bad-code":
        reason = f"{n} has the code {_show(value)}, which is not in the table: use one of {_describe_codes(f)}."
    elif code == "bad-character":
        reason = (f"{n} contains a control character that XML cannot carry "
                  f"(only tab, line feed and carriage return are allowed), in {_show(value)}.")
    else:
        what = FORMAT_WORDS[item_key(f)]
        if f.multi:
            what = f"one or more values separated by ';' (no blanks, no empty items), each {what}"
        reason = f"{n} must be {what}; got {_show(value)}."
    return Problem(f.name, reason, code)


def _schema_problems(record: Mapping[str, Any], per_field: dict[str, Problem], others: list[Problem]) -> None:
    codes = {"type": "not-a-string", "minLength": "empty-value", "maxLength": "too-long",
             "pattern": "bad-format", "enum": "bad-code"}
    for err in _VALIDATOR.iter_errors(record):
        if not err.path:
            if err.validator == "required":
                # jsonschema yields one error per missing name, each carrying the whole list.
                seen = {p.field for p in others}
                for name in err.validator_value:
                    if name not in record and name not in seen:
                        f = BY_NAME[name]
                        meaning = f.meaning[0].lower() + f.meaning[1:]
                        others.append(Problem(name, f"{_name(f)} is required ({meaning}) but missing.",
                                              "missing-required"))
                        seen.add(name)
            # additionalProperties is reported by _unknown_fields with a suggestion.
            continue
        f = BY_NAME.get(str(err.path[0]))
        if f is None or err.validator not in codes:
            continue
        code = codes[str(err.validator)]
        value = record[f.name]
        if code == "bad-format" and f.kind == "text" and not f.item_format and isinstance(value, str):
            code = "bad-character"
        _keep(per_field, _field_problem(f, code, value))


def _keep(per_field: dict[str, Problem], p: Problem) -> None:
    old = per_field.get(p.field or "")
    if old is None or _RANK[p.code] < _RANK[old.code]:
        per_field[p.field or ""] = p


def _unknown_fields(record: Mapping[Any, Any]) -> list[Problem]:
    out = []
    for key in record:
        if key in BY_NAME:
            continue
        guess = difflib.get_close_matches(str(key).upper(), list(BY_NAME), n=1)
        hint = f" Did you mean {guess[0]}?" if guess else " Remove it or correct the name."
        out.append(Problem(str(key), f"{_show(key)} is not one of the 54 fields of the transfer dataset.{hint}",
                           "unknown-field"))
    return out


def _datetime12(s: str) -> datetime | None:
    try:
        return datetime(int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]))
    except ValueError:
        return None


def _date8(s: str) -> date | None:
    try:
        return date(int(s[0:4]), int(s[4:6]), int(s[6:8]))
    except ValueError:
        return None


def birth_earliest(s: str) -> datetime | None:
    """Earliest moment a birth date with unknown (00) parts can mean, or None if the rules are broken."""
    y, m, d, hh, mm = int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12])
    if m == 0 and d != 0:
        return None
    if d == 0 and (hh, mm) != (0, 0):
        return None
    try:
        return datetime(y, m or 1, d or 1, hh, mm)
    except ValueError:
        return None


def _own_field_checks(f: Field, value: str) -> Problem | None:
    if not _FULL[f.name].fullmatch(value):
        return _field_problem(f, "bad-format", value)
    n = _name(f)
    if f.name == "NGAY_SINH" and birth_earliest(value) is None:
        return Problem(f.name, f"{n} {value!r} is not a possible birth date: write yyyyMMddHHmm with a real "
                       "date; an unknown month needs day 00, an unknown day needs time 0000 "
                       "(198500000000 = year only, 198507000000 = year and month, 198507140000 = date only).",
                       "impossible-date")
    if f.kind == "datetime12" and f.name != "NGAY_SINH" and _datetime12(value) is None:
        return Problem(f.name, f"{n} {value!r} is not a real date and time (yyyyMMddHHmm, "
                       "month 01-12, a day that exists in that month, hour 00-23, minute 00-59).",
                       "impossible-date")
    if f.item_format == "date8":
        bad = [v for v in value.split(";") if _date8(v) is None]
        if bad:
            return Problem(f.name, f"{n} has dates that do not exist: {', '.join(bad)} (write yyyyMMdd).",
                           "impossible-date")
    return None


def _cross_checks(rec: Mapping[str, str], ok: set[str]) -> list[Problem]:
    out: list[Problem] = []
    vao = _datetime12(rec["NGAY_VAO"]) if "NGAY_VAO" in ok else None
    ra = _datetime12(rec["NGAY_RA"]) if "NGAY_RA" in ok else None
    if vao and ra and ra < vao:
        out.append(Problem("NGAY_RA", f"NGAY_RA (Ngày ra) {rec['NGAY_RA']} is before NGAY_VAO (Ngày vào) "
                           f"{rec['NGAY_VAO']}; the transfer cannot precede arrival.", "date-order"))
    if "NGAY_VAO_NOI_TRU" in ok and not (vao and ra and ra < vao):  # else that is the one defect
        nt = _datetime12(rec["NGAY_VAO_NOI_TRU"])
        if nt and ((vao and nt < vao) or (ra and nt > ra)):
            out.append(Problem("NGAY_VAO_NOI_TRU", f"NGAY_VAO_NOI_TRU (Ngày vào nội trú) {rec['NGAY_VAO_NOI_TRU']} "
                               "must lie between NGAY_VAO and NGAY_RA.", "date-order"))
    if "NGAY_SINH" in ok and vao:
        born = birth_earliest(rec["NGAY_SINH"])
        if born and born > vao:
            out.append(Problem("NGAY_SINH", f"NGAY_SINH (Ngày sinh) {rec['NGAY_SINH']} is after NGAY_VAO "
                               f"{rec['NGAY_VAO']}; a patient cannot arrive before being born.", "date-order"))
    present = [n for n in CARD_FIELDS if n in rec]
    if present and all(n in ok for n in present):
        lists = {n: rec[n].split(";") for n in present}
        counts = {n: len(v) for n, v in lists.items()}
        ref = next(iter(counts))
        wrong = [n for n, c in counts.items() if c != counts[ref]]
        if wrong:
            said = ", ".join(f"{n} has {c}" for n, c in counts.items())
            out.append(Problem(wrong[0], f"The card lists do not line up ({said} values); the n-th value of "
                               "MA_THE_BHYT, MA_DKBD, GT_THE_TU and GT_THE_DEN belongs to the n-th card, "
                               "so give each the same number of ';'-separated values.", "card-count-mismatch"))
        elif "GT_THE_TU" in lists and "GT_THE_DEN" in lists:
            rev = [i + 1 for i, (a, b) in enumerate(zip(lists["GT_THE_TU"], lists["GT_THE_DEN"])) if a > b]
            if rev:
                out.append(Problem("GT_THE_DEN", f"GT_THE_DEN (Giá trị thẻ đến ngày) is before GT_THE_TU for card "
                                   f"{', '.join(map(str, rev))}; the validity must end after it starts.",
                                   "date-order"))
    return out


def validate(record: object) -> list[Problem]:
    """All problems of a JSON-form record; an empty list means valid. Never raises."""
    if not isinstance(record, dict):
        return [Problem(None, f"A transfer record must be a JSON object keyed by field name, got "
                        f"{type(record).__name__}.", "not-an-object")]
    per_field: dict[str, Problem] = {}
    missing: list[Problem] = []
    _schema_problems(record, per_field, missing)
    for f in FIELDS:
        value = record.get(f.name)
        if isinstance(value, str) and f.name not in per_field and value:
            p = _own_field_checks(f, value)
            if p:
                per_field[f.name] = p
    ok = {n for n, v in record.items() if n in BY_NAME and n not in per_field and isinstance(v, str)}
    ordered = [per_field[f.name] for f in FIELDS if f.name in per_field]
    missing.sort(key=lambda p: BY_NAME[p.field or ""].position)
    return ordered + missing + _unknown_fields(record) + _cross_checks(record, ok)
