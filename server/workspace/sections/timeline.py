"""The patient's episodes of care across facilities, newest first: when, where, what kind of care,
the main disease (ICD-10 code and name), and how it ended. Each opens its episode page.

The main disease is the one the mappings mark with VN Core's role (``Encounter.diagnosis.use``
CC, "bệnh chính"; DD before the project followed VN Core), else rank 1, else the Condition the
mappings key ``…/dx/main`` or ``…/main``. The outcome is the treatment result (KET_QUA_DTRI, extension
``t54-treatment-result``: VN Core has none) and the discharge type (``dischargeDisposition``).
"""

from __future__ import annotations

from typing import Any

from mappings.fhir_terms import DIAG_ROLE, ICD10, MAIN_DIAGNOSIS_USES
from profiles import EXT

from .. import present, terms, urls
from ..context import Ctx
from ..layout import h
from ..record import Record

#: Encounter.class (v3 ActCode) → word key; a code not listed is shown as written
CARE_TYPES = {code: f"care_{code}" for code in ("IMP", "AMB", "EMER", "SS", "HH", "VR", "FLD", "OBSENC", "PRENC", "ACUTE", "NONAC")}
#: extensions that carry the treatment result (the retired project one is the only one so far)
RESULT_EXTENSIONS = (EXT["t54-treatment-result"],)
#: how the main disease's Condition's part identifier ends (insurance ``…/dx/main``, transfer ``…/main``)
MAIN_CONDITION_KEYS = ("/main",)


def render(ctx: Ctx, record: Record) -> str:
    encounters = record.all("Encounter")
    if not encounters:
        return ""
    pid = record.patient["id"]
    items = "".join(_episode(ctx, record, pid, e) for e in encounters)
    return (f'<section class="card timeline" aria-labelledby="s-timeline"><h2 id="s-timeline">{ctx.t("timeline")}</h2>'
            f'<ol class="episodes">{items}</ol></section>')


def _episode(ctx: Ctx, record: Record, pid: str, enc: dict[str, Any]) -> str:
    period = enc.get("period") or {}
    start, end = present.day(period.get("start")), present.day(period.get("end"))
    dates = f"{start} – {end}" if end and end != start else start or end
    if not end and enc.get("status") == "in-progress":
        dates = f"{start} – {ctx.word('ongoing')}"
    href = urls.episode(pid, enc["id"])
    facts = [
        ("facility", h(record.facility(enc))),
        ("care_type", h(care_type(ctx, enc))),
        ("main_diagnosis", _diagnosis(main_diagnosis(record, enc))),
        ("outcome", h(outcome(enc, ctx.lang))),
    ]
    dl = "".join(f'<div><dt>{ctx.t(k)}</dt><dd>{v}</dd></div>' for k, v in facts if v)
    return (f'<li><h3><a href="{h(href)}"><time datetime="{h(period.get("start") or "")}">{h(dates)}</time>'
            f'<span class="sr"> — {ctx.t("open_episode")}</span></a></h3><dl class="episode">{dl}</dl></li>')


def care_type(ctx: Ctx, enc: dict[str, Any]) -> str:
    """The class as a word, with the encounter type where the record gives one."""
    code = (enc.get("class") or {}).get("code") or ""
    words = [ctx.word(CARE_TYPES[code]) if code in CARE_TYPES else str((enc.get("class") or {}).get("display") or code)]
    for t in enc.get("type") or []:
        word = terms.concept(t, ctx.lang)
        if word and word.casefold() not in (w.casefold() for w in words):
            words.append(word)
    return " · ".join(w for w in words if w)


def main_diagnosis(record: Record, enc: dict[str, Any]) -> dict[str, Any] | None:
    """The Condition of the episode's main disease, as the mappings mark it (module docstring)."""
    entries = [d for d in enc.get("diagnosis") or [] if isinstance(d, dict)]
    for d in entries:
        if present.code(d.get("use"), DIAG_ROLE) in MAIN_DIAGNOSIS_USES and (found := record.get(d.get("condition"))):
            return found
    for d in entries:
        if d.get("rank") == 1 and (found := record.get(d.get("condition"))):
            return found
    for cond in record.of_encounter("Condition", enc["id"]):
        if any(str(i.get("value", "")).endswith(MAIN_CONDITION_KEYS) for i in cond.get("identifier") or []):
            return cond
    return None


def _diagnosis(cond: dict[str, Any] | None) -> str:
    if cond is None:
        return ""
    code = present.code(cond.get("code"), ICD10)
    name = present.concept(cond.get("code"))
    if name == code:
        name = ""
    return (f'<code class="icd">{h(code)}</code> ' if code else "") + h(name)


def outcome(enc: dict[str, Any], lang: str) -> str:
    """Treatment result and discharge type, in ``lang`` where the code system says them."""
    words = [terms.coding(e.get("valueCoding"), lang) or terms.concept(e.get("valueCodeableConcept"), lang)
             for e in enc.get("extension") or [] if e.get("url") in RESULT_EXTENSIONS]
    disposition = (enc.get("hospitalization") or {}).get("dischargeDisposition")
    if disposition:
        words.append(terms.concept(disposition, lang))
    return " · ".join(dict.fromkeys(w for w in words if w))
