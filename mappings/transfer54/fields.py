"""Typed view of fields.json and codes.json, loaded once at import.

Kept as data files (not Python literals) so the schema generator and other tools can read
the same definition without importing the package.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

_HERE = Path(__file__).parent

KINDS = frozenset({"text", "integer", "decimal", "datetime12", "code2", "code3", "code5", "digits12", "icd10"})
ITEM_FORMATS = frozenset({"card", "facility", "date8", "icd10", "token", "province", "occupation"})


@dataclass(frozen=True)
class Code:
    code: str
    en: str
    vi: str


@dataclass(frozen=True)
class CodeTable:
    """A code table; `closed` tables reject unlisted codes, open ones only check the format."""
    name: str
    closed: bool
    codes: Mapping[str, Code]


@dataclass(frozen=True)
class Field:
    """One of the 54 fields. `item_format` refines `kind` for each ';'-separated item (multi) or the value."""
    position: int
    name: str
    group: str
    kind: str
    max_length: int | None
    required: bool
    multi: bool
    item_format: str | None
    code_table: str | None
    code_system: str | None
    meaning: str
    label_vi: str


def _load_codes() -> dict[str, CodeTable]:
    raw = json.loads((_HERE / "codes.json").read_text(encoding="utf-8"))["tables"]
    return {
        name: CodeTable(name, t["closed"], MappingProxyType(
            {c: Code(c, d["en"], d["vi"]) for c, d in t["codes"].items()}))
        for name, t in raw.items()
    }


def _load_fields(tables: Mapping[str, CodeTable]) -> tuple[Field, ...]:
    raw = json.loads((_HERE / "fields.json").read_text(encoding="utf-8"))["fields"]
    fields = tuple(sorted((Field(**f) for f in raw), key=lambda f: f.position))
    # Fail at import, not at first use, if the data files drift out of shape.
    assert [f.position for f in fields] == list(range(1, 55)), "positions must be 1..54"
    for f in fields:
        assert f.kind in KINDS, f
        assert f.item_format is None or f.item_format in ITEM_FORMATS, f
        assert f.code_table is None or f.code_table in tables, f
    return fields


CODE_TABLES: Mapping[str, CodeTable] = MappingProxyType(_load_codes())
FIELDS: tuple[Field, ...] = _load_fields(CODE_TABLES)
BY_NAME: Mapping[str, Field] = MappingProxyType({f.name: f for f in FIELDS})
