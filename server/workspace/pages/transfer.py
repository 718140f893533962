"""``/app/patient/{pid}/transfer/{eid}``: the transfer paper of an episode, to read, print and download.

Built from :func:`~server.fhir.operations.transfer54.export_transfer54` (the ``$transfer54``
operation), so paper and downloads are the operation's output: ``record.json`` its JSON,
``record.xml`` its XML form, ``bundle.json`` the transaction Bundle the record maps to
(:func:`mappings.transfer54.fhir.to_fhir`, what ``$import-transfer54`` would store elsewhere).
``?print=1`` renders the paper alone (no navigation), as there is no script to call print.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mappings.transfer54.fhir import to_fhir
from mappings.transfer54.xml_form import write_xml
from profiles import SID

from ... import jsonio
from ...fhir.operations.transfer54 import export_transfer54
from ...fhir.outcome import FhirError
from .. import paper, present, urls
from ..context import Ctx, html, signed_in, with_lang
from ..layout import asset_url, h, message, page
from ..reading import search
from .episode import attachment, owned_encounter

router = APIRouter()

#: the downloads: name → (media type, the bytes of a record)
DOWNLOADS: dict[str, tuple[str, Callable[[dict[str, str]], bytes]]] = {
    "record.json": ("application/json; charset=utf-8", jsonio.dumps),
    "record.xml": ("application/xml; charset=utf-8", write_xml),
    "bundle.json": ("application/fhir+json; charset=utf-8", lambda r: jsonio.dumps(to_fhir(r))),
}


class NoTransfer(Exception):
    """``$transfer54`` cannot write this episode as a record (422); the message says why."""


async def transfer_record(ctx: Ctx, patient_id: str, eid: str) -> dict[str, str]:
    """The episode's 54-field record; :class:`NoTransfer` when it has no transfer data (422)."""
    ctx.request.scope["state"]["interaction"] = "operation"
    await owned_encounter(ctx, patient_id, eid)
    try:
        return await export_transfer54(ctx.repo, eid)
    except FhirError as exc:
        if exc.status == 422:
            raise NoTransfer(str(exc)) from None
        raise


def no_transfer(ctx: Ctx, patient_id: str, reason: NoTransfer) -> Response:
    """Why there is no paper: the page's words, and the operation's own reason beneath (an episode
    with no transfer data, or one whose facility a patient-context token may not read)."""
    text = f'{h(ctx.word("no_transfer_data"))}<br><small>{h(str(reason))}</small>'
    return html(message(ctx.frame, ctx.word("p_title"), text, link=(urls.patient(patient_id), ctx.word("back_to_record")), error=True), 422)


async def _names(ctx: Ctx, type_: str, system: str, codes: list[str], show: Callable[[dict[str, Any]], str]) -> dict[str, str]:
    """code → name of the resources of ``type_`` with those identifiers that the token can read."""
    wanted = [c for c in dict.fromkeys(codes) if c]
    if not wanted or not ctx.repo.access.can(type_, "s"):
        return {}
    found, _ = await search(ctx.repo, type_, [("identifier", ",".join(f"{system}|{c}" for c in wanted))])
    out = {}
    for resource in found:
        for i in resource.get("identifier") or []:
            if i.get("system") == system and i.get("value") in wanted and show(resource):
                out[i["value"]] = show(resource)
    return out


async def _icd_names(ctx: Ctx, eid: str) -> dict[str, str]:
    """ICD-10 code → the name the episode's diagnoses (Conditions) give it."""
    if not ctx.repo.access.can("Condition", "s"):
        return {}
    found, _ = await search(ctx.repo, "Condition", [("encounter", f"Encounter/{eid}")])
    out = {}
    for c in found:
        code, name = present.code(c.get("code")), present.concept(c.get("code"))
        if code and name and name != code:
            out.setdefault(code, name)
    return out


def print_page(ctx: Ctx, title: str, body: str) -> str:
    """The paper alone: no navigation, the print stylesheet, the language of the page."""
    return (f'<!doctype html>\n<html lang="{ctx.lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="referrer" content="no-referrer">\n'
            f'<title>{h(title)} — Liên Thông</title>\n<link rel="stylesheet" href="{h(asset_url("transfer.css"))}">\n</head>\n'
            f'<body class="print">\n<main id="main">\n{body}\n</main>\n</body>\n</html>\n')


@router.get("/app/patient/{patient_id}/transfer/{eid}")
async def transfer_page(request: Request, patient_id: str, eid: str, ctx: Ctx = Depends(signed_in)) -> Response:
    try:
        record = await transfer_record(ctx, patient_id, eid)
    except NoTransfer as reason:
        return no_transfer(ctx, patient_id, reason)
    codes = [record.get("MA_CSKCB", ""), record.get("MA_NOI_DI", ""), record.get("MA_NOI_DEN", "")]
    body = paper.render(
        ctx, record,
        icd_names=await _icd_names(ctx, eid),
        facilities=await _names(ctx, "Organization", SID["ma-cskcb"], codes, lambda o: str(o.get("name") or "")),
        doctors=await _names(ctx, "Practitioner", SID["cchn"], [record.get("MA_BAC_SI", ""), record.get("MA_TTDV", "")], present.name),
    )
    title = f'{ctx.word("p_title_short")} {record.get("SO_CHUYENTUYEN", "")} — {record.get("HO_TEN", "")}'
    if request.query_params.get("print") == "1":
        return with_lang(request, html(print_page(ctx, title, body)))
    base = h(urls.transfer(patient_id, eid))
    links = "".join(f'<li><a href="{base}/{name}" download>{ctx.t("download_" + name.replace(".", "_"))}</a></li>' for name in DOWNLOADS)
    tools = (f'<nav class="paper-tools no-print" aria-label="{ctx.t("p_tools")}"><ul class="plain">'
             f'<li><a href="{h(urls.patient(patient_id))}">← {ctx.t("back_to_record")}</a></li>'
             f'<li><a href="{base}?print=1&amp;lang={ctx.lang}">{ctx.t("print")}</a></li>{links}</ul></nav>')
    return with_lang(request, html(page(ctx.frame, title, tools + body, styles=("care.css", "transfer.css"))))


def _download(name: str) -> Callable[..., Awaitable[Response]]:
    media_type, write = DOWNLOADS[name]

    async def download(patient_id: str, eid: str, ctx: Ctx = Depends(signed_in)) -> Response:
        try:
            record = await transfer_record(ctx, patient_id, eid)
        except NoTransfer as reason:
            return no_transfer(ctx, patient_id, reason)
        stem = record.get("SO_CHUYENTUYEN") or record.get("MA_LK") or eid
        return Response(write(record), media_type=media_type, headers=attachment(f"chuyen-tuyen-{stem}-{name}"))
    return download


for _name in DOWNLOADS:
    router.add_api_route(f"/app/patient/{{patient_id}}/transfer/{{eid}}/{_name}", _download(_name), methods=["GET"])
