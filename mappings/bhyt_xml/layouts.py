"""Layouts of the insurance (BHYT) XML tables, standards 130 and 4210.

The data lives in ``layouts.json`` beside this module (the source of truth).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

STANDARDS = ("130", "4210")
_PATH = Path(__file__).with_name("layouts.json")


class UnknownStandard(ValueError):
    """The fields present do not tell 130 from 4210."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "text" | "integer" | "decimal"
    max_length: int | None  # None: no published limit
    published: bool


@dataclass(frozen=True)
class TableLayout:
    standard: str
    table: str  # "XML1" …
    root: str
    list: str | None
    record: str | None
    fields: tuple[Field, ...]

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


def _score(table: str, field_names: Iterable[str]) -> int:
    """> 0 leans 130, < 0 leans 4210, 0 undecided."""
    in130 = table_exists("130", table)
    in4210 = table_exists("4210", table)
    names = set(field_names)
    if in130 and not in4210:
        return 1_000
    if in4210 and not in130:
        return -1_000
    if not (in130 or in4210):
        return 0
    f130 = set(layout("130", table).field_names)
    f4210 = set(layout("4210", table).field_names)
    return len(names & (f130 - f4210)) - len(names & (f4210 - f130))


def recognise(table_name: str, field_names: Iterable[str]) -> str:
    """"130" or "4210" from the fields present in one table.

    A table that exists in one standard only (XML6 … XML15) is 130.  Otherwise the fields that exist
    in only one of the two layouts of the table vote (XML1: MA_THE_BHYT → 130, MA_THE → 4210).
    Raises UnknownStandard when the vote is a tie (e.g. only shared fields such as MA_LK, STT).
    """
    s = _score(table_name, field_names)
    if s > 0:
        return "130"
    if s < 0:
        return "4210"
    raise UnknownStandard(f"{table_name}: the fields present do not tell 130 from 4210")


def recognise_episode(tables: Mapping[str, Iterable[Mapping[str, str]]]) -> str:
    """Standard of a whole HOSO: the votes of all its tables and records added up."""
    total = 0
    for t, records in tables.items():
        names: set[str] = set()
        for r in records:
            names.update(r)
        if names or not (table_exists("130", t) and table_exists("4210", t)):
            total += _score(t, names)
    if total > 0:
        return "130"
    if total < 0:
        return "4210"
    raise UnknownStandard("the fields present do not tell 130 from 4210")
