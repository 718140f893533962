"""``/app/``: find a patient (see :mod:`server.workspace.find`), with enough in each result to
tell namesakes apart: birth date, gender, address, last facility."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .. import present, urls
from ..context import Ctx, html, signed_in, with_lang
from ..find import KINDS, LIMIT, find
from ..layout import h, page

router = APIRouter()


@router.get("/app/")
async def search_page(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    q = request.query_params.get("q", "").strip()[:200]
    kind = request.query_params.get("kind", "auto")
    kind = kind if kind in KINDS else "auto"
    options = "".join(f'<option value="{k}"{" selected" if k == kind else ""}>{ctx.t("kind_" + k)}</option>' for k in KINDS)
    form = (
        f'<form class="search" method="get" action="/app/" role="search">'
        f'<label for="q">{ctx.t("search_label")}</label>'
        f'<div class="row"><input type="search" id="q" name="q" value="{h(q)}" autofocus autocomplete="off" spellcheck="false">'
        f'<label class="sr" for="kind">{ctx.t("search_kind")}</label><select id="kind" name="kind">{options}</select>'
        f'<button type="submit">{ctx.t("search_button")}</button></div></form>'
    )
    results = ""
    if q:
        request.scope["state"]["interaction"] = "search-type"
        found, more = await find(ctx.repo, q, kind)
        if not found:
            results = f'<p role="status">{ctx.t("no_results")}</p>'
        else:
            rows = "".join(
                f'<tr><th scope="row"><a href="{h(urls.patient(f.patient["id"]))}">{h(present.name(f.patient) or f.patient["id"])}</a></th>'
                f'<td data-label="{ctx.t("birth_date")}">{h(present.day(f.patient.get("birthDate")))}</td>'
                f'<td data-label="{ctx.t("gender")}">{ctx.t(present.gender(f.patient))}</td>'
                f'<td data-label="{ctx.t("address")}">{h(present.address(f.patient))}</td>'
                f'<td data-label="{ctx.t("last_facility")}">{h(f.last_facility or "")}'
                f'{"<br><small>" + h(present.day(present.when(f.last_encounter))) + "</small>" if f.last_encounter else ""}</td></tr>'
                for f in found
            )
            note = f'<p role="status">{ctx.t("too_many", n=LIMIT)}</p>' if more else ""
            results = (
                f'<h2>{ctx.t("results")} ({len(found)})</h2>{note}<table class="results"><thead><tr><th scope="col">{ctx.t("name")}</th>'
                f'<th scope="col">{ctx.t("birth_date")}</th><th scope="col">{ctx.t("gender")}</th><th scope="col">{ctx.t("address")}</th>'
                f'<th scope="col">{ctx.t("last_facility")}</th></tr></thead><tbody>{rows}</tbody></table>'
            )
    title = f'{q} — {ctx.word("find")}' if q else ctx.word("find")
    body = f'<h1>{ctx.t("find")}</h1>{form}<section aria-live="polite">{results}</section>'
    return with_lang(request, html(page(ctx.frame, title, body, active="find")))
