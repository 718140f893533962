"""JSON Schema (Draft 2020-12) for the JSON form, generated from fields.json.

Generated rather than hand-written so the schema cannot drift from the field list; the
committed schema.json is for consumers outside Python and a test keeps it equal to
build_schema().  Regenerate with: python -m mappings.transfer54.schema
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .fields import CODE_TABLES, FIELDS, Field

SCHEMA_PATH = Path(__file__).parent / "schema.json"

# Characters XML 1.0 cannot carry (C0 controls except TAB/LF/CR, lone surrogates, U+FFFE/U+FFFF).
# The JSON form is "the XML text", so these are not allowed in any value.
FORBIDDEN_CLASS = r"\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF"
TEXT_CHAR = "[^" + FORBIDDEN_CLASS + "]"

# Regex for one value (or one ';'-separated item), without anchors; ECMA-262 and Python compatible.
KIND_ITEM: dict[str, str] = {
    "text": TEXT_CHAR + "*",
    "integer": "[0-9]+",
    "decimal": r"[0-9]+(?:\.[0-9]+)?",
    "datetime12": "[0-9]{12}",
    "code2": "[0-9]{2}",
    "code3": "[0-9]{3}",
    "code5": "[0-9]{5}",
    "digits12": "[0-9]{12}",
    "icd10": r"[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,2})?",
}
FORMAT_ITEM: dict[str, str] = {
    "card": "[A-Z]{2}[0-9]{13}",           # group (2 letters) + level (1) + province (2) + 10 digits
    "facility": "[0-9]{5}",
    "date8": "[0-9]{8}",
    "icd10": KIND_ITEM["icd10"],
    "token": r"[^;\s" + FORBIDDEN_CLASS + "]+",  # traditional-medicine codes: format unknown, no blanks
    "province": "[0-9]{2,3}",              # deviation: code3 in the field list, but samples use 2 digits
    "occupation": "[0-9]{1,5}",
}

# Human wording of each item regex, used by validate() messages.
FORMAT_WORDS: dict[str, str] = {
    "text": "text without control characters",
    "integer": "ASCII digits",
    "decimal": "a number with ASCII digits and '.' as decimal separator (e.g. 62.5)",
    "datetime12": "a date-time yyyyMMddHHmm (12 digits)",
    "code2": "exactly 2 digits (keep leading zeros)",
    "code3": "exactly 3 digits (keep leading zeros)",
    "code5": "exactly 5 digits (keep leading zeros)",
    "digits12": "exactly 12 digits",
    "icd10": "an ICD-10 code such as J18.9, I10 or A09 (capital letter, 2 digits, optional '.' and 1-2 letters/digits)",
    "card": "a 15-character card number: 2 capital letters then 13 digits (e.g. DN4791234567890)",
    "facility": "a 5-digit facility code (e.g. 79001)",
    "date8": "a date yyyyMMdd (8 digits)",
    "token": "codes without blanks",
    "province": "a 2- or 3-digit province code",
    "occupation": "a numeric occupation code of 1 to 5 digits",
}


def item_key(f: Field) -> str:
    """Which entry of FORMAT_ITEM/KIND_ITEM describes one item of this field."""
    return f.item_format or f.kind


def item_regex(f: Field) -> str:
    return FORMAT_ITEM[f.item_format] if f.item_format else KIND_ITEM[f.kind]


def value_regex(f: Field) -> str:
    """Anchored regex for the whole value (items joined by ';' for multi-valued fields)."""
    item = item_regex(f)
    return f"^{item}(?:;{item})*$" if f.multi else f"^{item}$"


def closed_codes(f: Field) -> list[str] | None:
    if f.code_table and CODE_TABLES[f.code_table].closed:
        return list(CODE_TABLES[f.code_table].codes)
    return None


def _property(f: Field) -> dict[str, Any]:
    prop: dict[str, Any] = {"title": f"{f.name} — {f.label_vi}", "description": f.meaning,
                            "type": "string", "minLength": 1}
    if f.max_length is not None:
        prop["maxLength"] = f.max_length
    codes = closed_codes(f)
    if codes is not None:
        prop["enum"] = codes
    else:
        prop["pattern"] = value_regex(f)
    return prop


def build_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:lienthong:mappings:transfer54:json-form",
        "title": "Transfer dataset, 54 fields (liên thông 54 thông số) — JSON form",
        "description": "One flat object keyed by field name; every value is the XML text as a string; "
                       "absent or empty fields are omitted.",
        "type": "object",
        "properties": {f.name: _property(f) for f in FIELDS},
        "required": [f.name for f in FIELDS if f.required],
        "additionalProperties": False,
    }


def render() -> str:
    return json.dumps(build_schema(), ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render(), encoding="utf-8")
