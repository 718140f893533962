"""``/app/tools``: the integration developers' page: check a transfer record or an insurance
envelope, see the FHIR it maps to, download that, and import it when the token may write.

Every form carries the session's CSRF token. The input travels from the check to the download
and import forms as a hidden value, and is checked again there: what is imported is what the
operation's own validation accepts, whatever the browser sends back.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ... import jsonio
from ...fhir.outcome import FhirError
from ...fhir.resource import body_of
from .. import tools_html
from ..context import Ctx, html, signed_in, with_lang
from ..convert import NotUsable, TransferCheck, bundles_of, check, import_checked, may_import
from ..forms import Form, read_form
from ..layout import h, page

router = APIRouter()
STYLES = ("tools.css",)
#: a pasted text is shown again in the form up to this size (an upload never is)
ECHO_LIMIT = 256 * 1024


def _form(ctx: Ctx, text: str = "") -> str:
    return (
        f'<form class="tools" method="post" action="/app/tools/check" enctype="multipart/form-data">'
        f'<input type="hidden" name="csrf" value="{h(ctx.session.csrf)}">'
        f'<label for="text">{ctx.t("tools_paste")}</label>'
        f'<textarea id="text" name="text" rows="12" spellcheck="false" autocomplete="off">{h(text)}</textarea>'
        f'<label for="file">{ctx.t("tools_file")}</label>'
        f'<input type="file" id="file" name="file" accept=".json,.xml,application/json,application/xml,text/xml">'
        f'<div><button type="submit">{ctx.t("tools_check")}</button></div></form>'
    )


def _page(ctx: Ctx, body: str, status: int = 200, title: str | None = None) -> Response:
    full = f'<h1>{ctx.t("tools")}</h1><p>{ctx.t("tools_intro")}</p>{body}'
    heading = f'{title} — {ctx.word("tools")}' if title else ctx.word("tools")
    return with_lang(ctx.request, html(page(ctx.frame, heading, full, active="tools", styles=STYLES), status))


def _operation(ctx: Ctx) -> None:
    ctx.request.scope["state"]["interaction"] = "operation"


async def _posted(ctx: Ctx) -> Form:
    """The posted form, refused (403) unless it carries this session's CSRF token."""
    form = await read_form(ctx.request)
    if not ctx.session.csrf_ok(form.get("csrf")):
        raise FhirError.of(403, "forbidden", ctx.word("csrf_refused"))
    return form


def _carried(form: Form) -> bytes:
    try:
        return base64.b64decode(form.get("content") or "", validate=True)
    except (binascii.Error, ValueError):
        raise FhirError.of(400, "invalid", "The form's content is not the one this page sent.") from None


def _not_usable(ctx: Ctx, err: NotUsable, text: str = "") -> Response:
    alert = f'<div class="alert" role="alert"><b>{ctx.t("tools_not_usable")}:</b> {h(str(err))}</div>'
    return _page(ctx, alert + _form(ctx, text), 422, ctx.word("tools_not_usable"))


@router.get("/app/tools")
async def tools_page(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    _operation(ctx)
    return _page(ctx, _form(ctx))


@router.post("/app/tools/check")
async def check_page(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    _operation(ctx)
    form = await _posted(ctx)
    upload = form.files.get("file") or b""
    text = form.get("text") or ""
    data = upload if upload.strip() else text.encode("utf-8")
    echo = text if not upload.strip() and len(text) <= ECHO_LIMIT else ""
    try:
        checked = check(data)
    except NotUsable as err:
        return _not_usable(ctx, err, echo)
    writable = may_import(ctx.repo.access, checked)
    body = tools_html.result(ctx, checked, tools_html.actions(ctx, data, checked, writable))
    return _page(ctx, body + f'<h2>{ctx.t("tools_check_other")}</h2>' + _form(ctx, echo), title=ctx.word("tools_result"))


@router.post("/app/tools/bundle")
async def bundle_download(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    """The FHIR of the checked input as a file: one Bundle (JSON), or one per episode (NDJSON, as
    ``lienthong bhyt to-fhir`` prints them)."""
    _operation(ctx)
    form = await _posted(ctx)
    try:
        checked = check(_carried(form))
    except NotUsable as err:
        return _not_usable(ctx, err)
    bundles = bundles_of(checked)
    if not bundles:
        raise FhirError.of(422, "processing", ctx.word("tools_episode_refused"))
    if isinstance(checked, TransferCheck):
        body, media, name = jsonio.dumps(bundles[0], pretty=True), "application/fhir+json", "transfer54-bundle.json"
    else:
        body, media, name = b"".join(jsonio.dumps(b) + b"\n" for b in bundles), "application/x-ndjson", "bhyt-bundles.ndjson"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.post("/app/tools/import")
async def import_page(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    """Store the input through ``$import-transfer54`` / ``$import-bhyt``'s own functions."""
    _operation(ctx)
    form = await _posted(ctx)
    data = _carried(form)
    try:
        checked = check(data)
    except NotUsable as err:
        return _not_usable(ctx, err)
    if not may_import(ctx.repo.access, checked):
        if not checked.ok:
            return _page(ctx, tools_html.result(ctx, checked), 422, ctx.word("tools_import_refused"))
        raise FhirError.of(403, "forbidden", ctx.word("tools_read_only"))
    request.scope["state"]["audit_always"] = True  # an envelope's HOSOs fail alone: this request's event records them
    try:
        entries = await import_checked(ctx.repo, data, checked)
    except FhirError as err:
        if err.status >= 500:
            raise
        alert = f'<div class="alert" role="alert"><b>{ctx.t("tools_import_refused")}</b> ({err.status}): {h(str(err))}</div>'
        return _page(ctx, alert + tools_html.result(ctx, checked), err.status, ctx.word("tools_import_refused"))
    patients = await _patients(ctx, entries)
    body = f'<h2>{ctx.t("tools_imported")}</h2>' + tools_html.outcome(ctx, entries, patients)
    return _page(ctx, body + f'<p><a href="/app/tools">{ctx.t("tools_check_other")}</a></p>', title=ctx.word("tools_imported"))


async def _patients(ctx: Ctx, entries: list[dict[str, Any]]) -> dict[int, str]:
    """The patient each stored entry belongs to, where it can be told: a Patient itself, or the
    subject of an Encounter (an envelope's entries name their Encounter), read as the token may."""
    out: dict[int, str] = {}
    for n, type_, id_ in tools_html.located(entries):
        if type_ == "Patient":
            out[n] = id_
        elif type_ == "Encounter":
            try:
                subject = body_of(await ctx.repo.read("Encounter", id_)).get("subject", {}).get("reference", "")
            except FhirError:
                continue
            if subject.startswith("Patient/"):
                out[n] = subject.removeprefix("Patient/")
    return out
