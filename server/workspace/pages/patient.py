"""``/app/patient/{id}``: one patient's whole record on one page, its parts in :mod:`..sections`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ...fhir.outcome import not_found
from ...fhir.resource import ID_RE
from .. import present
from ..context import Ctx, html, signed_in, with_lang
from ..layout import page
from ..reading import record as read_record
from ..record import Record
from ..sections import SECTIONS

router = APIRouter()


async def load(ctx: Ctx, patient_id: str) -> Record:
    """The record as the signed-in token may see it (404 as for a FHIR read otherwise)."""
    if not ID_RE.match(patient_id):
        raise not_found(f"No patient has the id {patient_id!r}")
    ctx.request.scope["state"]["interaction"] = "operation"
    return Record.of(patient_id, *await read_record(ctx.repo, patient_id))


@router.get("/app/patient/{patient_id}")
async def patient_page(request: Request, patient_id: str, ctx: Ctx = Depends(signed_in)) -> Response:
    record = await load(ctx, patient_id)
    body = "\n".join(part for part in (section(ctx, record) for section in SECTIONS) if part)
    title = f'{ctx.word("record_of")} {present.name(record.patient) or patient_id}'
    return with_lang(request, html(page(ctx.frame, title, body, active=None, styles=("record.css", "care.css"))))
