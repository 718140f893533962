"""Medicines and procedures/services: what was given and done, newest first, each row naming its episode.

The same tables serve the episode page (:mod:`..pages.episode`), there without the episode column.
"""

from __future__ import annotations

from typing import Any, Callable

from .. import episodes, present
from ..context import Ctx
from ..layout import h
from ..record import Record, episode_of
from ..tables import table

MEDICINE_TYPES = ("MedicationRequest", "MedicationStatement")
SERVICE_TYPES = ("Procedure", "ServiceRequest")


def newest(record: Record, types: tuple[str, ...]) -> list[dict[str, Any]]:
    return sorted((r for t in types for r in record.by_type.get(t, [])), key=present.when, reverse=True)


def _named(concept: dict[str, Any] | None) -> str:
    """A concept as name and code (escaped): ``Amlodipin <small>40.88</small>``."""
    name, code = present.concept(concept), present.code(concept)
    extra = f" <small>{h(code)}</small>" if code and code != name else ""
    return h(name) + extra


def _drug(record: Record, r: dict[str, Any]) -> str:
    concept = r.get("medicationCodeableConcept")
    if concept is None:
        medication = record.get(r.get("medicationReference")) or {}
        concept = medication.get("code") or {"text": (r.get("medicationReference") or {}).get("display")}
    return _named(concept)


def _dose(r: dict[str, Any]) -> str:
    dosage = (r.get("dosageInstruction") or r.get("dosage") or [{}])[0]
    amount = present.quantity((r.get("dispenseRequest") or {}).get("quantity"))
    parts = [dosage.get("text"), dosage.get("patientInstruction"), amount]
    return h("; ".join(str(p) for p in parts if p))


def _service(r: dict[str, Any]) -> str:
    return _named(r.get("code"))


#: (title key, heads keys, types, cells of one row)
_TABLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], Callable[[Record, dict[str, Any]], list[str]]], ...] = (
    ("medications", ("drug", "dose", "date"), MEDICINE_TYPES,
     lambda rec, r: [_drug(rec, r), _dose(r), h(present.moment(present.when(r)))]),
    ("services", ("service", "date"), SERVICE_TYPES,
     lambda rec, r: [_service(r), h(present.moment(present.when(r)))]),
)


def tables(ctx: Ctx, record: Record, eid: str | None = None, level: int = 3) -> str:
    """Both tables: of the whole record with an episode column, or of episode ``eid`` alone
    (``level``: of their headings, under the page's or the section's)."""
    out = []
    for title, heads, types, cells in _TABLES:
        items = newest(record, types)
        if eid is not None:
            items = [r for r in items if episode_of(r) == eid]
        if not items:
            continue
        names = [ctx.word(k) for k in heads] + ([ctx.word("episode")] if eid is None else [])
        rows = [cells(record, r) + ([episodes.link(ctx, record, r)] if eid is None else []) for r in items]
        out.append(f'<h{level}>{ctx.t(title)} <small>({len(items)})</small></h{level}>{table(names, rows)}')
    return "".join(out)


def render(ctx: Ctx, record: Record) -> str:
    body = tables(ctx, record)
    if not body:
        return ""
    return f'<section class="card care" id="care" aria-labelledby="care-h"><h2 id="care-h">{ctx.t("care_title")}</h2>{body}</section>'
