"""MAPPING.md shows, per field, our kind/limit/position and what each published source says."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from . import doc
from .doc import LABELS, Published, load_published, render, render_table
from .layouts import STANDARDS, layout, layouts
from .values import max_length

_PIPE = re.compile(r"(?<!\\)\|")


@pytest.fixture(scope="module")
def text() -> str:
    return render()


@pytest.fixture(scope="module")
def pub() -> Published:
    return load_published()


def _rows(lines: list[str], header: str) -> list[dict[str, str]]:
    """The rows of the markdown table under ``header`` (cells keyed by column name)."""
    if header not in lines:
        return []
    start = lines.index(header)
    names = [c.strip() for c in _PIPE.split(header)[1:-1]]
    out = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        out.append(dict(zip(names, (c.strip() for c in _PIPE.split(line)[1:-1]))))
    return out


_MAPPING = "| # | field | kind | limit | FHIR |"
_PUBLISHED = "| # | field | order | kind | size | required |"


def _section(text: str, std: str, table: str) -> list[str]:
    """The lines from ``### <std> <table>`` up to the next heading."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if re.match(rf"### {std} {table}( |$)", ln))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return lines[start:end]


def _row(text: str, std: str, table: str, header: str, name: str) -> dict[str, str]:
    rows = _rows(_section(text, std, table), header)
    return next(r for r in rows if r["field"].split(" ")[0] == name)


def test_mapping_md_is_what_render_writes(text: str) -> None:
    assert doc.OUT.read_text(encoding="utf-8") == text, "run: python -m mappings.bhyt_xml.doc"


def test_disagreeing_sizes_are_shown_per_source(text: str, pub: Published) -> None:
    cell = _row(text, "130", "XML1", _PUBLISHED, "MA_DOITUONG_KCB")["size"]
    for known in ("4750app 4", "portal 5", "vendor 4"):  # PUBLISHED.md point 1
        assert known in cell
    rec = next(r for r in pub.rows("130", "XML1") if r["name"] == "MA_DOITUONG_KCB")
    assert cell == " · ".join(f"{LABELS[s]} {v}" for s, v in rec["size"].items())


def test_agreed_order_is_one_value(text: str, pub: Published) -> None:
    row = _row(text, "130", "XML2", _PUBLISHED, "T_BNTT")
    assert row["order"] == "28"  # PUBLISHED.md point 4: T_BNTT, T_BNCCT, T_BHTT at 28, 29, 30
    rec = next(r for r in pub.rows("130", "XML2") if r["name"] == "T_BNTT")
    assert {str(v) for v in rec["order"].values()} == {row["order"]}


def test_required_leaves_out_sources_without_a_required_column(text: str) -> None:
    # the appendix has no required column; the portal and the vendor disagree on STT
    assert _row(text, "130", "XML1", _PUBLISHED, "STT")["required"] == "portal no · vendor yes"
    assert _row(text, "130", "XML1", _PUBLISHED, "MA_LK")["required"] == "yes"


def test_our_columns_are_the_effective_limit_kind_and_position(text: str) -> None:
    row = _row(text, "130", "XML1", _MAPPING, "MAXA_CU_TRU")
    lay = layout("130", "XML1")
    f = lay.field("MAXA_CU_TRU")
    assert f is not None
    assert row["limit"] == str(max_length("130", "XML1", f)) == "5"  # values.json corrects layouts.json
    assert row["kind"] == f.kind and row["#"] == str(lay.field_names.index("MAXA_CU_TRU") + 1)


def test_every_field_is_in_both_tables(text: str, pub: Published) -> None:
    for std in STANDARDS:
        for table, lay in layouts(std).items():
            section = _section(text, std, table)
            published = [r["name"] for r in pub.rows(std, table)]
            names = list(lay.field_names) + [n for n in published if n not in lay.field_names]
            assert [r["field"] for r in _rows(section, _MAPPING)] == names, (std, table)
            if any(r[p] for r in pub.rows(std, table) for p in doc.PROPERTIES):
                assert [r["field"].split(" ")[0] for r in _rows(section, _PUBLISHED)] == names, (std, table)


def test_legend_names_every_source(text: str, pub: Published) -> None:
    for source, about in pub.sources.items():
        assert f"| {doc.label(source)} | `{source}` |" in text
        assert about["where"].split(" : ")[0] in text


def test_standards_without_sources_quote_not_found(text: str, pub: Published) -> None:
    for std in STANDARDS:
        quote = pub.not_found.get(std)
        if quote:
            body = text.split(f"## Standard {std}\n", 1)[1].split("\n### ", 1)[0]
            assert quote in body
    assert "No per-source published data for 4210" in text


def test_fields_we_lack_and_fields_nobody_publishes_are_marked() -> None:
    lay = layout("130", "XML4")
    theirs = {"name": "ONLY_PUBLISHED", "order": {"a": 3, "b": 4}, "kind": {"a": "text", "b": "text"},
              "size": {"a": 7}, "required": {"a": True, "b": None}, "required_note": {"b": "if X"}}
    mine = {"name": lay.field_names[0], "order": {"a": 1}, "kind": {"a": "text"}, "size": {}, "required": {}}
    pub = Published({"a": {}, "b": {}}, {"130": {"XML4": [mine, theirs]}}, {})
    lines = render_table(pub, "130", "XML4", lay)
    mapping, published = _rows(lines, _MAPPING), _rows(lines, _PUBLISHED)
    assert mapping[-1]["field"] == "ONLY_PUBLISHED" and mapping[-1]["FHIR"] == "not in our layout"
    assert published[-1] == {"#": "–", "field": "ONLY_PUBLISHED", "order": "a 3 · b 4", "kind": "text",
                             "size": "7", "required": "a yes · b cond."}
    assert published[0]["order"] == "a 1 · b –" and published[0]["field"] == f"{lay.field_names[0]} (not in b)"
    assert published[1]["order"] == "not published"
    assert "- `ONLY_PUBLISHED` required (b): if X" in lines
    absent = render_table(pub, "130", "XML4", None)
    assert absent[0] == "### 130 XML4 — not in our layout"


def test_check_reports_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    out = tmp_path / "MAPPING.md"
    monkeypatch.setattr(doc, "OUT", out)
    assert doc.main(["--check"]) == 1
    out.write_text(text.replace("T_BNTT", "T_XXXX", 1), encoding="utf-8")
    assert doc.main(["--check"]) == 1
    out.write_text(text, encoding="utf-8")
    assert doc.main(["--check"]) == 0
