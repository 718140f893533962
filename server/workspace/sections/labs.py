"""Laboratory results, one table per test (newest first), and the test's trend as a chart when it
has two numeric results or more. The table is the chart's text alternative.

A flag is the laboratory's interpretation where it gave one; else it is computed from the value
and the reference range, and its tooltip says so (a doctor must know which it is).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .. import charts, observations as obs_, present, terms
from ..context import Ctx
from ..layout import h
from ..record import Record

#: the table's columns: word key of the heading
COLUMNS = ("date", "value", "unit", "ref_range", "flag", "facility")
NUMERIC = ' class="num"'


def render(ctx: Ctx, record: Record) -> str:
    labs = [o for o in record.all("Observation") if obs_.has_category(o, "laboratory")]
    if not labs:
        return ""
    tests: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in labs:  # newest first, so each test's first result is its latest
        tests[obs_.test_key(o.get("code"))].append(o)
    parts = [_test(ctx, record, n, results) for n, results in enumerate(tests.values())]
    return (f'<section class="card labs" aria-labelledby="s-labs"><h2 id="s-labs">{ctx.t("labs")}</h2>'
            f'{"".join(parts)}</section>')


def test_name(results: list[dict[str, Any]], lang: str) -> tuple[str, str]:
    """(name, code) of a test: the newest result's words for it, and its code."""
    code = results[0].get("code") or {}
    first = next((c for c in code.get("coding") or [] if c.get("code")), {})
    return terms.concept(code, lang) or str(first.get("code") or ""), str(first.get("code") or "")


def _test(ctx: Ctx, record: Record, n: int, results: list[dict[str, Any]]) -> str:
    name, code = test_name(results, ctx.lang)
    title_id = f"lab-{n}"
    heading = h(name) + (f' <small class="code">{h(code)}</small>' if code and code != name else "")
    rows = "".join(_row(ctx, record, o) for o in results)
    head = "".join(f'<th scope="col">{ctx.t(k)}</th>' for k in COLUMNS)
    return (f'<div class="lab-test"><h3 id="{title_id}">{heading} <small>({ctx.t("n_results", n=len(results))})</small></h3>'
            f'{_chart(ctx, name, results)}'
            f'<div class="table-wrap"><table class="stack lab" aria-labelledby="{title_id}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{rows}</tbody></table></div></div>')


def _row(ctx: Ctx, record: Record, o: dict[str, Any]) -> str:
    f = obs_.flag(o)
    enc = record.get(o.get("encounter"))
    cells = (
        ("date", h(_day(o))),
        ("value", h(obs_.value_text(o, ctx.lang))),
        ("unit", h(obs_.unit_of(o))),
        ("ref_range", h(obs_.range_text(o))),
        ("flag", flag_cell(ctx, f)),
        ("facility", h(record.facility(enc) if enc else "")),
    )
    cls = ' class="abnormal"' if f and f.abnormal else ""
    return f"<tr{cls}>" + "".join(f'<td data-label="{ctx.t(k)}"{NUMERIC if k == "value" else ""}>{v}</td>' for k, v in cells) + "</tr>"


def _day(o: dict[str, Any]) -> str:
    return present.day(present.when(o))


def flag_cell(ctx: Ctx, f: obs_.Flag | None) -> str:
    """The flag as a word, with a tooltip saying whether the laboratory gave it or it was computed."""
    if f is None:
        return ""
    word = ctx.word(obs_.FLAG_WORDS[f.code]) if f.code in obs_.FLAG_WORDS else f.text
    source = ctx.word("flag_computed" if f.computed else "flag_reported")
    cls = "flag abnormal" if f.abnormal else "flag"
    mark = "*" if f.computed else ""
    return f'<span class="{cls}" title="{h(source)}">{h(word)}{mark}<span class="sr"> ({h(source)})</span></span>'


def _chart(ctx: Ctx, name: str, results: list[dict[str, Any]]) -> str:
    """The trend, when there are two numeric results or more (the range band of the latest)."""
    points = [(t, v) for o in results
              if (v := obs_.number(o.get("valueQuantity"))) is not None and (t := obs_.time_of(o)) is not None]
    if len(points) < 2:
        return ""
    low, high, _ = obs_.reference_range(results[0])
    unit = obs_.unit_of(results[0])
    svg = charts.line_chart(points, title=f'{ctx.word("trend")}: {name}', unit=unit, low=low, high=high, label=name)
    return f'<figure class="chart">{svg}</figure>'
