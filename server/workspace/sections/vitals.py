"""Vital signs over time: weight, blood pressure (systolic and diastolic as two lines of one chart),
pulse, temperature. Each sign has its chart (two readings or more) and its readings as a table
under a disclosure, the chart's text alternative.

Blood pressure comes as the LOINC panel 85354-6 with its two components, or as separate
systolic and diastolic Observations; both are read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mappings.fhir_terms import LOINC

from .. import charts, observations as obs_, present
from ..context import Ctx
from ..layout import h
from ..record import Record


@dataclass(frozen=True)
class Sign:
    """One chart: its word key, and its lines as (word key, LOINC code)."""

    key: str
    lines: tuple[tuple[str, str], ...]


SIGNS = (
    Sign("weight", (("weight", "29463-7"),)),
    Sign("blood_pressure", (("systolic", "8480-6"), ("diastolic", "8462-4"))),
    Sign("pulse", (("pulse", "8867-4"),)),
    Sign("temperature", (("temperature", "8310-5"),)),
)
#: panels whose components are read as the lines above
PANELS = frozenset({"85354-6"})
#: LOINC code → word key of what it measures (the signs, their lines, the panel)
WORDS = {code: key for sign in SIGNS for key, code in sign.lines} | {"85354-6": "blood_pressure"}


def sign_name(ctx: Ctx, obs: dict[str, Any]) -> str | None:
    """A vital sign's name in the page's language, when it is one of :data:`SIGNS`."""
    key = WORDS.get(present.code(obs.get("code"), LOINC))
    return ctx.word(key) if key else None

Reading = tuple[datetime, float, str]  # time, value, unit


def readings(record: Record) -> dict[str, list[Reading]]:
    """Numeric readings by LOINC code, from single Observations and the panels' components."""
    out: dict[str, list[Reading]] = defaultdict(list)
    for o in record.by_type.get("Observation", []):
        t = obs_.time_of(o)
        if t is None:
            continue
        code = present.code(o.get("code"), LOINC)
        parts = (o.get("component") or []) if code in PANELS else [o]
        for part in parts:
            v = obs_.number(part.get("valueQuantity"))
            if v is not None:
                out[present.code(part.get("code"), LOINC)].append((t, v, obs_.unit_of(part)))
    return out


def render(ctx: Ctx, record: Record) -> str:
    found = readings(record)
    figures = [_sign(ctx, s, found) for s in SIGNS]
    figures = [f for f in figures if f]
    if not figures:
        return ""
    return (f'<section class="card vitals" aria-labelledby="s-vitals"><h2 id="s-vitals">{ctx.t("vitals")}</h2>'
            f'<div class="signs">{"".join(figures)}</div></section>')


def _sign(ctx: Ctx, sign: Sign, found: dict[str, list[Reading]]) -> str:
    lines = [(ctx.word(key), sorted(found.get(code, []), key=lambda r: charts.timestamp(r[0]))) for key, code in sign.lines]
    lines = [(label, rs) for label, rs in lines if rs]
    if not lines:
        return ""
    unit = next(r[2] for _, rs in lines for r in rs if r[2]) if any(r[2] for _, rs in lines for r in rs) else ""
    title = ctx.word(sign.key)
    latest = " / ".join(_number(rs[-1][1]) for _, rs in lines)
    heading = (f'<h3>{h(title)} <small>{ctx.t("latest")}: {h(latest)} {h(unit)} '
               f'({h(present.day(max(rs[-1][0] for _, rs in lines).isoformat()))})</small></h3>')
    svg = ""
    if max(len(rs) for _, rs in lines) >= 2:
        svg = charts.chart([charts.Series(label, [(t, v) for t, v, _ in rs]) for label, rs in lines], title=title, unit=unit)
    return f'<figure class="sign">{heading}{svg}{_table(ctx, lines, unit)}</figure>'


def _table(ctx: Ctx, lines: list[tuple[str, list[Reading]]], unit: str) -> str:
    """The readings by date (newest first), one column per line."""
    by_time: dict[datetime, dict[str, float]] = defaultdict(dict)
    for label, rs in lines:
        for t, v, _ in rs:
            by_time[t][label] = v
    head = f'<th scope="col">{ctx.t("date")}</th>' + "".join(f'<th scope="col">{h(label)} ({h(unit)})</th>' for label, _ in lines)
    rows = "".join(
        f'<tr><td>{h(present.moment(t.isoformat()))}</td>'
        + "".join(f'<td class="num">{h(_number(vals[label])) if label in vals else ""}</td>' for label, _ in lines) + "</tr>"
        for t, vals in sorted(by_time.items(), key=lambda kv: charts.timestamp(kv[0]), reverse=True))
    return (f'<details><summary>{ctx.t("readings")}</summary><div class="table-wrap"><table class="vital">'
            f'<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></details>')


def _number(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)
