"""Layouts of the insurance (BHYT) XML tables, standards 130 (as amended by 4750), 3176 and 4210.

The data lives in ``layouts.json`` beside this module (the source of truth).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

STANDARDS = ("130", "3176", "4210")
#: which standard wins when the fields present fit several equally well (3176 differs from 130 only
#: in XML13 names and limits: an episode that shows neither reads the same in both)
_PREFERENCE = ("130", "3176", "4210")
_PATH = Path(__file__).with_name("layouts.json")


class UnknownStandard(ValueError):
    """The fields present do not tell the standards apart (e.g. 130 from 4210)."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "text" | "integer" | "decimal"
    max_length: int | None  # None: no published limit
    published: bool


@dataclass(frozen=True)
class Shape:
    """The elements of one table document: fields directly under ``root`` (``list`` None), or
    ``root/list/record/field``."""
    root: str
    list: str | None
    record: str | None


@dataclass(frozen=True)
class TableLayout:
    standard: str
    table: str  # "XML1" …
    root: str
    list: str | None
    record: str | None
    fields: tuple[Field, ...]
    #: other element names producers use for this table (read, never written)
    also_read: tuple[Shape, ...] = ()

    @property
    def shapes(self) -> tuple[Shape, ...]:
        """The shape the writer uses first, then those the reader also accepts."""
        return (Shape(self.root, self.list, self.record), *self.also_read)

    @property
    def single(self) -> bool:
        """Fields sit directly under root (one record)."""
        return self.list is None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@lru_cache(maxsize=1)
def _load() -> dict[str, dict[str, TableLayout]]:
    raw = json.loads(_PATH.read_text(encoding="utf-8"))["standards"]
    out: dict[str, dict[str, TableLayout]] = {}
    for std, tables in raw.items():
        out[std] = {
            t: TableLayout(
                standard=std, table=t, root=v["root"], list=v["list"], record=v["record"],
                fields=tuple(Field(n, k, m, p) for n, k, m, p in v["fields"]),
                also_read=tuple(Shape(a["root"], a["list"], a["record"]) for a in v.get("also_read", ())),
            )
            for t, v in tables.items()
        }
    return out


def layouts(standard: str) -> Mapping[str, TableLayout]:
    """All tables of one standard, in table order."""
    try:
        return _load()[standard]
    except KeyError:
        raise ValueError(f"unknown standard {standard!r}; expected one of {STANDARDS}") from None


def layout(standard: str, table: str) -> TableLayout:
    try:
        return layouts(standard)[table]
    except KeyError:
        raise KeyError(f"standard {standard} has no table {table}") from None


def table_exists(standard: str, table: str) -> bool:
    return table in _load().get(standard, {})


def known_table(table: str) -> bool:
    return any(table in t for t in _load().values())


def table_sort_key(table: str) -> tuple[int, str]:
    digits = table[3:]
    return (int(digits), table) if digits.isdigit() else (10**6, table)


def _misfits(standard: str, table: str, names: set[str]) -> int:
    """How badly the fields present fit one standard: 1000 when it has no such table, else the
    number of fields its layout of the table lacks."""
    if not table_exists(standard, table):
        return 1_000
    return len(names - set(layout(standard, table).field_names))


def _best(misfits: dict[str, int], where: str = "") -> str:
    low = min(misfits.values())
    best = [s for s in _PREFERENCE if misfits[s] == low]
    if "130" in best and "4210" in best:
        raise UnknownStandard(f"{where}the fields present do not tell 130 from 4210")
    return best[0]


def recognise(table_name: str, field_names: Iterable[str]) -> str:
    """"130", "3176" or "4210" from the fields present in one table: the standard whose layout of
    the table lacks the fewest of them (XML1: MA_THE_BHYT → 130, MA_THE → 4210; XML13:
    MA_CSKCB_DI → 3176).  A table one standard lacks counts 1000 against it.  130 wins a tie with
    3176; a tie of 130 with 4210 (only shared fields such as MA_LK, STT) raises UnknownStandard.
    """
    names = set(field_names)
    return _best({s: _misfits(s, table_name, names) for s in STANDARDS}, f"{table_name}: ")


def recognise_episode(tables: Mapping[str, Iterable[Mapping[str, str]]]) -> str:
    """Standard of a whole HOSO: the misfits of all its tables added up (see :func:`recognise`)."""
    total = dict.fromkeys(STANDARDS, 0)
    for t, records in tables.items():
        names: set[str] = set()
        for r in records:
            names.update(r)
        for s in STANDARDS:
            total[s] += _misfits(s, t, names)
    return _best(total)
