"""Write ``MAPPING.md``: every field of every table of every standard, where it lands in FHIR, and
what the published sources say about it.

    python -m mappings.bhyt_xml.doc          # rewrite mappings/bhyt_xml/MAPPING.md
    python -m mappings.bhyt_xml.doc --check  # exit 1 if it is stale

Generated from ``rules.json``, ``layouts.json``, ``values.json`` and ``published.json``, so the table a
person reads is the one the mapping runs, next to the published facts it is meant to follow.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from .fhir import CARD_FIELDS, DIAGNOSIS_FIELDS, rules
from .layouts import STANDARDS, TableLayout, layouts, table_sort_key
from .values import max_length

OUT = Path(__file__).with_name("MAPPING.md")
PUBLISHED = Path(__file__).with_name("published.json")

#: the published facts recorded per source, in the column order of MAPPING.md
PROPERTIES = ("order", "kind", "size", "required")
#: short labels for the source ids of published.json (an id not listed here is shown as itself)
LABELS = {
    "qd4750_appendix": "4750app",
    "qd130_as_listed_in_4750_appendix": "130app",
    "portal_validation_4750": "portal",
    "dh_vendor_tables_4750": "vendor",
    "qhis_qd3176_entities": "3176impl",
}
NONE = "–"

_STRUCTURES = {
    **{n: "Coverage (one per `;`-separated card): identifier/subscriberId, t54-registered-facility, period" for n in CARD_FIELDS},
    **{n: "Condition per code, in the order of Encounter.diagnosis (use CC main, CM others, AD admission, as VN Core slices it)" for n in DIAGNOSIS_FIELDS},
    "MA_LK": "XML1: Encounter.identifier (ma-lk per facility); other tables: bhyt-fields",
}

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Published:
    """published.json: per standard and table, the field records; sources and what was not found."""
    sources: Mapping[str, Mapping[str, str]]
    tables: Mapping[str, Mapping[str, Sequence[Row]]]
    not_found: Mapping[str, str]

    def rows(self, std: str, table: str) -> Sequence[Row]:
        return self.tables.get(std, {}).get(table, ())


def load_published(path: Path = PUBLISHED) -> Published:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Published(raw.get("sources", {}), raw.get("tables", {}), raw.get("not_found", {}))


def label(source: str) -> str:
    return LABELS.get(source, source)


def _cell(text: object) -> str:
    """Markdown-table safe: a '|' or line break inside a value would break the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------- FHIR column

def _where(standard: str, table: str, name: str) -> str:
    r = rules()
    canon = r.canonical(standard, table, name)
    alias = f" (= 130 {canon})" if canon != name else ""
    if table in r.whole:
        return f"kept whole: DocumentReference (type bhyt-table#{table}), XML attachment"
    if table == "XML1" and canon in _STRUCTURES:
        return _STRUCTURES[canon] + alias
    rule = r.tables.get(table, ("", {}))[1].get(canon)
    if rule is not None:
        role = r.tables[table][0] if rule.role == "home" else ("Observation (body weight)" if rule.role == "weight" else rule.role)
        return f"{role}.{rule.path} `{rule.converter}`{alias}"
    if canon in r.money:
        return f"bhyt-amounts: Money (VND){alias}"
    if canon in r.rates:
        return f"bhyt-amounts: decimal{alias}"
    return f"bhyt-fields (text){alias}"


# --------------------------------------------------------------------------- published facts

def _ordered_sources(pub: Published, found: set[str]) -> list[str]:
    """Sources in the order published.json lists them (so every table reads the same way)."""
    known = [s for s in pub.sources if s in found]
    return known + sorted(found - set(known))


def table_sources(pub: Published, rows: Sequence[Row]) -> list[str]:
    """Sources that list at least one field of the table."""
    return _ordered_sources(pub, {s for r in rows for p in PROPERTIES for s in r.get(p, {})})


def property_sources(pub: Published, rows: Sequence[Row], prop: str) -> list[str]:
    """Sources that give a value for ``prop`` somewhere in the table: a source without e.g. a required
    column is left out of that column instead of showing as disagreeing on every row."""
    return _ordered_sources(pub, {s for r in rows for s in r.get(prop, {}) if _value(prop, r, s) != NONE})


def _value(prop: str, row: Row, source: str) -> str:
    v = row.get(prop, {}).get(source)
    if v is None:
        return "cond." if prop == "required" and source in row.get("required_note", {}) else NONE
    if prop == "required":
        return "yes" if v else "no"
    return str(v)


def published_cell(row: Row, prop: str, sources: Sequence[str]) -> str:
    """One value when every source agrees, else ``label value`` per source."""
    if not sources:
        return NONE
    shown = {s: _value(prop, row, s) for s in sources}
    if len(set(shown.values())) == 1:
        return next(iter(shown.values()))
    return " · ".join(f"{label(s)} {v}" for s, v in shown.items())


def _flags(row: Row, sources: Sequence[str]) -> list[str]:
    """What the field cell says besides the name: sources that do not list it, new-in flags."""
    listed = {s for p in PROPERTIES for s in row.get(p, {})}
    out = [f"new in {k[len('new_in_'):]}" for k, v in row.items() if k.startswith("new_in_") and v]
    missing = [label(s) for s in sources if s not in listed]
    if missing:
        out.append("not in " + ", ".join(missing))
    return out


def _notes(row: Row) -> list[str]:
    """Required conditions and source spellings, kept below the table (too long for a cell)."""
    name = row["name"]
    out = [f"`{name}` required ({label(s)}): {_cell(n)}" for s, n in row.get("required_note", {}).items()]
    out += [f"`{name}`: {label(s)} spells it `{_cell(n)}`" for s, n in row.get("source_spelling", {}).items()]
    return out


# --------------------------------------------------------------------------- one table

@dataclass(frozen=True)
class Line:
    """One field of a table: our layout's field (position ``ours``) and/or its published record."""
    name: str
    ours: int | None
    published: Row | None


def lines(lay: TableLayout | None, rows: Sequence[Row]) -> list[Line]:
    """Our fields in our order, then the published fields we lack, in published order."""
    by_name = {r["name"]: r for r in rows}
    ours = [] if lay is None else [f.name for f in lay.fields]
    out = [Line(n, i, by_name.get(n)) for i, n in enumerate(ours, 1)]
    return out + [Line(r["name"], None, r) for r in rows if r["name"] not in ours]


def _mapping_table(std: str, table: str, lay: TableLayout | None, rows: list[Line]) -> list[str]:
    out = ["| # | field | kind | limit | FHIR |", "|---|---|---|---|---|"]
    for ln in rows:
        f = None if lay is None else lay.field(ln.name)
        if f is None:
            out.append(f"| {NONE} | {ln.name} | {NONE} | {NONE} | not in our layout |")
            continue
        limit = max_length(std, table, f)
        out.append(f"| {ln.ours} | {ln.name} | {f.kind} | {'none' if limit is None else limit} | {_where(std, table, ln.name)} |")
    return out


def _published_table(pub: Published, rows: list[Line], table_rows: Sequence[Row]) -> list[str]:
    listing = table_sources(pub, table_rows)
    per_prop = {p: property_sources(pub, table_rows, p) for p in PROPERTIES}
    out = ["| # | field | " + " | ".join(PROPERTIES) + " |", "|---" * (2 + len(PROPERTIES)) + "|"]
    for ln in rows:
        ours = NONE if ln.ours is None else str(ln.ours)
        if ln.published is None:
            out.append(f"| {ours} | {ln.name} | not published |" + f" {NONE} |" * (len(PROPERTIES) - 1))
            continue
        name = ln.name + "".join(f" ({x})" for x in _flags(ln.published, listing))
        cells = " | ".join(published_cell(ln.published, p, per_prop[p]) for p in PROPERTIES)
        out.append(f"| {ours} | {name} | {cells} |")
    notes = [n for ln in rows if ln.published is not None for n in _notes(ln.published)]
    return out + ([""] + [f"- {n}" for n in notes] if notes else [])


def render_table(pub: Published, std: str, table: str, lay: TableLayout | None) -> list[str]:
    """Heading, the mapping table, then the published table; both list every field."""
    table_rows = pub.rows(std, table)
    rows = lines(lay, table_rows)
    title = f"### {std} {table}" + (" — not in our layout" if lay is None else f" (`{lay.root}`)")
    listing = table_sources(pub, table_rows)
    said = ("Published by: " + ", ".join(label(s) for s in listing) + ".") if listing else \
        "Published: no source in `published.json` lists this table."
    out = [title, "", said, "", *_mapping_table(std, table, lay, rows), ""]
    if listing:
        out += [f"Published facts, {std} {table} (# = our position):", "", *_published_table(pub, rows, table_rows), ""]
    return out


# --------------------------------------------------------------------------- document

def _legend(pub: Published) -> list[str]:
    out = ["## Sources of the published facts", "",
           "From `published.json` (see `PUBLISHED.md`). Labels used in the tables below:", "",
           "| label | source id | what | where |", "|---|---|---|---|"]
    out += [f"| {label(s)} | `{s}` | {_cell(v.get('title', ''))} | {_cell(v.get('where', ''))} |" for s, v in pub.sources.items()]
    return out + ["",
                  "Each table has a mapping table (ours) and a published table. Ours: # = position in `layouts.json`;",
                  "limit = the maximum length we enforce (`values.max_length`: `layouts.json` with the corrections of",
                  "`values.json`; none = no limit). Published: one value where every source that gives the property",
                  "in that table agrees, else `label value` per source joined by ` · `. A source with no value for a",
                  "property anywhere in the table (e.g. no required column) is left out of that column. "
                  f"`{NONE}` = no value (the",
                  "source does not list the field or leaves it blank); cond. = required under a condition (listed",
                  "below the table); size n = no limit, p,s = precision,scale. \"not in our layout\" = published,",
                  "we lack it; \"not published\" = ours, no source lists it.", ""]


def _standard_note(pub: Published, std: str) -> list[str]:
    """Under the standard's heading: whether any source has per-field data, and what was not found."""
    has_data = any(table_sources(pub, rows) for rows in pub.tables.get(std, {}).values())
    out = [] if has_data else [f"No per-source published data for {std} in `published.json` (only our own values).", ""]
    if std in pub.not_found:
        out += [f"Not found (`published.json`): \"{_cell(pub.not_found[std])}\"", ""]
    return out


def _tables(pub: Published, std: str) -> list[str]:
    """Our tables and the published ones we lack, in table order."""
    return sorted(set(layouts(std)) | set(pub.tables.get(std, {})), key=table_sort_key)


def render(pub: Published | None = None) -> str:
    pub = pub or load_published()
    r = rules()
    out = ["# Insurance tables → FHIR: where every field goes", "",
           "Generated by `python -m mappings.bhyt_xml.doc` from `rules.json`, `layouts.json`, `values.json` and",
           "`published.json`; do not edit.", "",
           "Resources per table: XML1 → Patient, Coverage, Encounter, Condition, Organization, Practitioner,",
           "body-weight Observation; XML2 → MedicationRequest; XML3 → Procedure (services; supplies in usedCode);",
           "XML4 → Observation (laboratory; partOf the XML3 Procedure of the same service); XML5 → ClinicalImpression;",
           "XML7/XML8/XML13 → DocumentReference (discharge paper, record summary, transfer paper) with the table as",
           "an XML attachment; XML14 → Appointment; " + ", ".join(sorted(r.whole, key=table_sort_key))
           + " → kept whole (DocumentReference).", "",
           "A value the named converter cannot carry exactly (e.g. `007` for a decimal, a malformed date) is kept in",
           "`bhyt-fields` instead; fields present but empty are listed in `bhyt-empty`. Every resource of an",
           "episode carries `bhyt-episode|<facility>/<MA_LK>` and `bhyt-part|<facility>/<MA_LK>/<table>/<row>`.", "",
           *_legend(pub)]
    for std in STANDARDS:
        out += [f"## Standard {std}", "", *_standard_note(pub, std)]
        ours = layouts(std)
        for table in _tables(pub, std):
            out += render_table(pub, std, table, ours.get(table))
    return "\n".join(out)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"stale: {OUT}")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
