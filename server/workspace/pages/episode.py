"""``/app/patient/{pid}/episode/{eid}``: one episode of care, and its insurance tables to read or download.

The episode is read from the patient's record (``$everything``, so an Encounter of another
patient is simply not there: 404). The insurance tables are the ``$bhyt-xml`` envelope of the
episode, in the standard it was imported in or the one chosen with ``?standard=``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mappings.bhyt_xml.layouts import STANDARDS
from mappings.fhir_terms import MAIN_DIAGNOSIS_USES
from profiles import SID

from ...fhir.outcome import not_found
from ...fhir.resource import ID_RE, body_of, reference_target
from .. import episodes, insurance, observations as obs_, present, urls
from ..context import Ctx, html, signed_in, with_lang
from ..layout import h, message, page
from ..record import Record
from ..sections import care, documents, labs, timeline, vitals
from ..sections.transfer import transfers
from ..tables import table
from .patient import load

router = APIRouter()

#: Encounter.diagnosis use codes → word keys (main first)
DIAGNOSIS_USES = {**{use: "dx_main" for use in MAIN_DIAGNOSIS_USES}, "CM": "dx_secondary", "AD": "dx_admission"}


async def owned_encounter(ctx: Ctx, patient_id: str, eid: str) -> dict[str, Any]:
    """The Encounter ``eid`` as the token may read it, when it is the patient's (404 otherwise)."""
    if not ID_RE.match(patient_id) or not ID_RE.match(eid):
        raise not_found(f"No episode has the id {eid!r}")
    return patients_episode(body_of(await ctx.repo.read("Encounter", eid)), patient_id, eid)


def patients_episode(encounter: dict[str, Any] | None, patient_id: str, eid: str) -> dict[str, Any]:
    """``encounter`` when it is an episode of ``patient_id``; 404 otherwise (as for one not there)."""
    if encounter is None or reference_target(encounter.get("subject")) != ("Patient", patient_id):
        raise not_found(f"Patient/{patient_id} has no episode Encounter/{eid}")
    return encounter


def attachment(filename: str) -> dict[str, str]:
    """A Content-Disposition that downloads as ``filename`` (ASCII, with the RFC 5987 form too)."""
    plain = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)
    return {"Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}", "Cache-Control": "no-store"}


def episode_code(encounter: dict[str, Any]) -> str:
    """The episode's MA_LK (its per-facility identifier), else its id: for file names."""
    return next((str(i["value"]) for i in encounter.get("identifier") or [] if str(i.get("system", "")).startswith(SID["ma-lk"] + "/") and i.get("value")), encounter["id"])


def _facts(ctx: Ctx, record: Record, encounter: dict[str, Any]) -> str:
    period = encounter.get("period") or {}
    facts = [
        ("period", " – ".join(x for x in (present.moment(period.get("start")), present.moment(period.get("end"))) if x)),
        ("facility", record.facility(encounter)),
        ("care_type", timeline.care_type(ctx, encounter)),
        ("visit_reason", "; ".join(present.concept(c) for c in encounter.get("reasonCode") or [])),
        ("episode_code", episode_code(encounter)),
    ]
    return '<dl class="facts">' + "".join(f"<dt>{ctx.t(k)}</dt><dd>{h(v)}</dd>" for k, v in facts if v) + "</dl>"


def _diagnoses(ctx: Ctx, record: Record, encounter: dict[str, Any]) -> str:
    rows, seen = [], set()
    for d in encounter.get("diagnosis") or []:
        condition = record.get(d.get("condition")) or {}
        seen.add(condition.get("id"))
        use = DIAGNOSIS_USES.get(present.code(d.get("use")), "dx_other")
        rows.append((use, condition))
    rows += [("dx_other", c) for c in record.of_encounter("Condition", encounter["id"]) if c.get("id") not in seen]
    rows.sort(key=lambda pair: list(DIAGNOSIS_USES.values()).index(pair[0]) if pair[0] in DIAGNOSIS_USES.values() else 9)
    if not rows:
        return ""
    cells = [[ctx.t(use), h(present.code(c.get("code"))), h(present.concept(c.get("code")) if present.concept(c.get("code")) != present.code(c.get("code")) else "")] for use, c in rows]
    return f'<h2 id="dx">{ctx.t("diagnoses")}</h2>' + table([ctx.word("dx_kind"), ctx.word("icd10"), ctx.word("dx_name")], cells)


def _notes(ctx: Ctx, record: Record, eid: str) -> str:
    notes = record.of_encounter("ClinicalImpression", eid)
    if not notes:
        return ""
    cells = [[h(present.moment(present.when(n))), h(n.get("description") or ""), h(n.get("summary") or "")] for n in notes]
    return f'<h2 id="notes">{ctx.t("clinical_notes")}</h2>' + table([ctx.word("date"), ctx.word("note"), ctx.word("note_summary")], cells)


def _observations(ctx: Ctx, record: Record, eid: str) -> str:
    """The episode's results, read as the patient page's sections read them (words, panels, flags)."""
    out = []
    observations = record.of_encounter("Observation", eid)
    for category, title in (("laboratory", "lab_results"), ("vital-signs", "vital_signs")):
        chosen = [o for o in observations if obs_.has_category(o, category)]
        if not chosen:
            continue
        cells = [[h(vitals.sign_name(ctx, o) or labs.test_name([o], ctx.lang)[0]), h(obs_.reading_text(o, ctx.lang)), labs.flag_cell(ctx, obs_.flag(o)),
                  h(present.moment(present.when(o)))] for o in chosen]
        out.append(f'<h2 id="{category}">{ctx.t(title)}</h2>' + table([ctx.word("test"), ctx.word("result"), ctx.word("interpretation"), ctx.word("date")], cells))
    return "".join(out)


def _documents(ctx: Ctx, record: Record, eid: str) -> str:
    docs = documents.newest(record, record.of_encounter("DocumentReference", eid))
    if not docs:
        return ""
    return f'<h2 id="docs">{ctx.t("documents")}</h2>' + "".join(documents.item(ctx, record, d, with_episode=False) for d in docs)


def _standard_form(ctx: Ctx, current: str) -> str:
    options = "".join(f'<option value="{s}"{" selected" if s == current else ""}>{s}</option>' for s in STANDARDS)
    return (f'<form method="get" class="standard no-print"><label for="standard">{ctx.t("bhyt_standard")}</label> '
            f'<select id="standard" name="standard">{options}</select> '
            f'<input type="hidden" name="lang" value="{h(ctx.lang)}"><button type="submit" class="secondary">{ctx.t("show")}</button></form>')


async def _insurance(ctx: Ctx, record: Record, encounter: dict[str, Any], wanted: str | None) -> str:
    pid, eid = record.patient["id"], encounter["id"]
    head = f'<h2 id="insurance">{ctx.t("insurance_tables")}</h2>'
    try:
        data = await insurance.load(ctx.repo, eid, wanted or insurance.standard_of(encounter))
    except insurance.NoInsuranceData:
        return head + f'<p class="notice" role="status">{ctx.t("no_insurance_data")}</p>'
    download = f"{urls.episode(pid, eid)}/bhyt.xml?standard={data.standard}"
    return (head + f'<p>{ctx.t("bhyt_shown_in", standard=data.standard)} <a class="button secondary" href="{h(download)}" download>{ctx.t("download_xml")}</a></p>'
            + _standard_form(ctx, data.standard) + insurance.render_tables(ctx, data))


@router.get("/app/patient/{patient_id}/episode/{eid}")
async def episode_page(request: Request, patient_id: str, eid: str, ctx: Ctx = Depends(signed_in)) -> Response:
    record = await load(ctx, patient_id)
    encounter = patients_episode(record.by_ref.get(("Encounter", eid)), patient_id, eid)
    name = present.name(record.patient) or patient_id
    label = episodes.label(record, encounter)
    transfer = next((urls.transfer(patient_id, eid) for e, _ in transfers(record) if e["id"] == eid), None)
    back = f'<p class="no-print"><a href="{h(urls.patient(patient_id))}">← {ctx.t("record_of")} {h(name)}</a></p>'
    parts = [
        back,
        f'<h1>{ctx.t("episode")}: {h(label)}</h1>',
        _facts(ctx, record, encounter),
        f'<p><a class="button" href="{h(transfer)}">{ctx.t("open_transfer_paper")}</a></p>' if transfer else "",
        _diagnoses(ctx, record, encounter),
        _notes(ctx, record, eid),
        _observations(ctx, record, eid),
        care.tables(ctx, record, eid, level=2),
        _documents(ctx, record, eid),
        await _insurance(ctx, record, encounter, insurance.chosen_standard(request.query_params.get("standard"))),
    ]
    title = f'{ctx.word("episode")} {label} — {name}'
    return with_lang(request, html(page(ctx.frame, title, f'<article class="episode">{"".join(parts)}</article>', styles=("care.css",))))


@router.get("/app/patient/{patient_id}/episode/{eid}/bhyt.xml")
async def episode_bhyt_xml(request: Request, patient_id: str, eid: str, ctx: Ctx = Depends(signed_in)) -> Response:
    request.scope["state"]["interaction"] = "operation"
    encounter = await owned_encounter(ctx, patient_id, eid)
    standard = insurance.chosen_standard(request.query_params.get("standard"))
    try:
        data = await insurance.envelope(ctx.repo, eid, standard)
    except insurance.NoInsuranceData:
        text = h(ctx.word("no_insurance_data"))
        return html(message(ctx.frame, ctx.word("insurance_tables"), text, link=(urls.episode(patient_id, eid), ctx.word("back_to_episode")), error=True), 422)
    name = f"bhyt-{episode_code(encounter)}-{standard or insurance.standard_of(encounter) or 'xml'}.xml"
    return Response(data, media_type="application/xml; charset=utf-8", headers=attachment(name))
