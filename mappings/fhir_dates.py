"""Source dates ⇄ FHIR dates, shared by the transfer-dataset and insurance-table mappings.

Both formats write local Vietnam time (UTC+07:00) as digits: ``yyyyMMddHHmm`` (12) for times and
``yyyyMMdd`` (8) for dates; a birth date may write unknown parts as ``00``.  Each function here has
its inverse, and ``to`` then ``back`` gives the source text again for every valid value, which is
what lets the mappings be lossless.
"""
from __future__ import annotations

import re
from datetime import datetime

from server.fhir.profiling.ordering import compare_dates

TZ = "+07:00"

_DT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):00\+07:00\Z")
_D8 = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")


def valid_datetime12(v: str) -> bool:
    """``yyyyMMddHHmm`` naming a real minute."""
    if len(v) != 12 or not v.isascii() or not v.isdigit():
        return False
    try:
        datetime.strptime(v, "%Y%m%d%H%M")
    except ValueError:
        return False
    return v[:4] != "0000"


def valid_date8(v: str) -> bool:
    """``yyyyMMdd`` naming a real day."""
    if len(v) != 8 or not v.isascii() or not v.isdigit():
        return False
    try:
        datetime.strptime(v, "%Y%m%d")
    except ValueError:
        return False
    return v[:4] != "0000"


def dt(v: str) -> str:
    """yyyyMMddHHmm -> FHIR dateTime in Vietnam time."""
    return f"{v[0:4]}-{v[4:6]}-{v[6:8]}T{v[8:10]}:{v[10:12]}:00{TZ}"


def undt(v: str) -> str:
    m = _DT.match(v)
    if not m:
        raise ValueError(f"not a dateTime this mapping writes: {v!r}")
    return "".join(m.groups())


def date8(v: str) -> str:
    """yyyyMMdd -> FHIR date."""
    return f"{v[0:4]}-{v[4:6]}-{v[6:8]}"


def undate8(v: str) -> str:
    if not _D8.match(v):
        raise ValueError(f"not a date this mapping writes: {v!r}")
    return v.replace("-", "")


def birth(v: str) -> tuple[str, str | None]:
    """NGAY_SINH (12 digits, ``00`` for unknown parts) -> (birthDate with the precision known,
    patient-birthTime dateTime or None)."""
    y, m, d, hm = v[0:4], v[4:6], v[6:8], v[8:12]
    if m == "00":
        return y, None
    if d == "00":
        return f"{y}-{m}", None
    return f"{y}-{m}-{d}", (dt(v) if hm != "0000" else None)


def unbirth(birth_date: str, birth_time: str | None) -> str:
    if birth_time:
        return undt(birth_time)
    parts = birth_date.split("-")
    return parts[0] + (parts[1] if len(parts) > 1 else "00") + (parts[2] if len(parts) > 2 else "00") + "0000"


def valid_birth(v: str) -> bool:
    """A NGAY_SINH that :func:`birth` maps and :func:`unbirth` restores exactly."""
    if len(v) != 12 or not v.isascii() or not v.isdigit() or v[:4] == "0000":
        return False
    m, d, hm = v[4:6], v[6:8], v[8:12]
    if m == "00":
        return d == "00" and hm == "0000"
    if d == "00":
        return hm == "0000" and 1 <= int(m) <= 12
    return valid_datetime12(v)


def in_order(start: str, end: str) -> bool:
    """Whether a FHIR Period from ``start`` to ``end`` (FHIR dates) keeps R4's per-1 as the validator
    reads it: the start not after the end, at a precision that tells (a date and a time of the same
    day do not)."""
    return compare_dates(start, end) in (-1, 0)
