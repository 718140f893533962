"""The integration tools page's results as HTML: the checked input field by field, the FHIR it
maps to, and an import's outcome resource by resource (see :mod:`.convert`)."""

from __future__ import annotations

import base64
import re
from typing import Any

from .. import jsonio
from . import urls
from .context import Ctx
from .convert import Checked, EnvelopeCheck, EpisodeCheck, FieldCheck, Finding, TransferCheck
from .layout import h

_LOCATION = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def carried(data: bytes) -> str:
    """The checked input as a hidden form value (base64: any bytes, no newline rewriting)."""
    return base64.b64encode(data).decode("ascii")


def _problems(items: list[str]) -> str:
    return "<ul class=\"problems\">" + "".join(f"<li>{h(p)}</li>" for p in items) + "</ul>" if items else ""


def _field_row(ctx: Ctx, fc: FieldCheck) -> str:
    label = fc.field.label_vi if ctx.lang == "vi" else fc.field.meaning
    bad = ' class="bad"' if fc.problems else ""
    value = h(fc.value) if fc.value is not None else f'<span class="muted">{ctx.t("tools_absent")}</span>'
    return (
        f'<tr{bad} id="f-{h(fc.field.name)}"><td data-label="#">{fc.field.position}</td>'
        f'<th scope="row"><code>{h(fc.field.name)}</code><br><small>{h(label)}</small></th>'
        f'<td data-label="{ctx.t("tools_value")}" class="value">{value}</td>'
        f'<td data-label="{ctx.t("tools_problems")}">{_problems(fc.problems)}</td></tr>'
    )


def transfer(ctx: Ctx, checked: TransferCheck) -> str:
    """The 54 fields with their values and, beside each, its problems; then the others."""
    rows = "".join(_field_row(ctx, fc) for fc in checked.fields)
    other = f'<h3>{ctx.t("tools_other_problems")}</h3>{_problems(checked.other)}' if checked.other else ""
    return (
        f'{_summary(ctx, checked.problem_count)}{_jump(checked)}{other}'
        f'<table class="stack fields"><caption class="sr">{ctx.t("tools_result")}</caption><thead><tr><th scope="col">#</th>'
        f'<th scope="col">{ctx.t("tools_field")}</th><th scope="col">{ctx.t("tools_value")}</th>'
        f'<th scope="col">{ctx.t("tools_problems")}</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _jump(checked: TransferCheck) -> str:
    """The fields with problems, each a link to its row: the table is 54 rows long."""
    bad = [fc for fc in checked.fields if fc.problems]
    if not bad:
        return ""
    items = "".join(f'<li><a href="#f-{h(fc.field.name)}"><code>{h(fc.field.name)}</code></a>: {h("; ".join(fc.problems))}</li>' for fc in bad)
    return f'<ul class="jump">{items}</ul>'


def _summary(ctx: Ctx, count: int) -> str:
    if count == 0:
        return f'<p class="ok" role="status">{ctx.t("tools_valid")}</p>'
    return f'<p class="alert" role="alert">{ctx.t("tools_problem_count", n=count)}</p>'


def _finding_row(ctx: Ctx, f: Finding) -> str:
    kind = ctx.t("tools_warning") if f.warning else ctx.t("tools_problems")
    return (
        f'<tr class="{"warn" if f.warning else "bad"}"><td data-label="{ctx.t("tools_table")}">{h(f.table or "—")}</td>'
        f'<td data-label="{ctx.t("tools_record")}">{h(f.record or "—")}</td>'
        f'<td data-label="{ctx.t("tools_field")}"><code>{h(f.field or "—")}</code></td>'
        f'<td data-label="{kind}">{h(f.reason)}</td></tr>'
    )


def _episode(ctx: Ctx, ep: EpisodeCheck) -> str:
    head = ctx.t("tools_episode", n=ep.position, ma_lk=ep.ma_lk or "?", standard=ep.standard or "?")
    state = (f'<p class="ok">{ctx.t("tools_episode_ok")}</p>' if ep.ok
             else f'<p class="alert">{ctx.t("tools_episode_refused")}</p>')
    table = ""
    if ep.findings:
        rows = "".join(_finding_row(ctx, f) for f in ep.findings)
        table = (
            f'<table class="stack findings"><thead><tr><th scope="col">{ctx.t("tools_table")}</th>'
            f'<th scope="col">{ctx.t("tools_record")}</th><th scope="col">{ctx.t("tools_field")}</th>'
            f'<th scope="col">{ctx.t("tools_problems")}</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    bundle = _bundle(ctx, ep.bundle, opened=False) if ep.bundle is not None else ""
    return f'<section class="card episode"><h3>{head}</h3>{state}{table}{bundle}</section>'


def envelope(ctx: Ctx, checked: EnvelopeCheck) -> str:
    refused = sum(1 for e in checked.episodes if not e.ok)
    return _summary(ctx, refused) + "".join(_episode(ctx, e) for e in checked.episodes)


def _bundle(ctx: Ctx, bundle: dict[str, Any], *, opened: bool) -> str:
    text = jsonio.dumps(bundle, pretty=True).decode("utf-8")
    return f'<details class="bundle"{" open" if opened else ""}><summary>{ctx.t("tools_bundle")}</summary><pre>{h(text)}</pre></details>'


def result(ctx: Ctx, checked: Checked, actions: str = "") -> str:
    """The check's whole answer; ``actions`` (the download and import forms) go above its long tables."""
    if isinstance(checked, TransferCheck):
        form = "XML" if checked.form == "transfer54-xml" else "JSON"
        kind = ctx.t("tools_kind_transfer54", form=form)
        body = transfer(ctx, checked)
        if checked.bundle is not None:
            body += f'<h3>{ctx.t("tools_bundle")}</h3>' + _bundle(ctx, checked.bundle, opened=True)
    else:
        kind = ctx.t("tools_kind_bhyt", n=len(checked.episodes))
        body = envelope(ctx, checked)
    return f'<h2 id="result">{ctx.t("tools_result")}</h2><p class="kind">{kind}</p>{actions}{body}'  # the buttons before the long tables


def actions(ctx: Ctx, data: bytes, checked: Checked, writable: bool) -> str:
    """The download form, and the import form when the token may write what the check produced."""
    if not checked.ok:
        return ""
    hidden = f'<input type="hidden" name="csrf" value="{h(ctx.session.csrf)}"><input type="hidden" name="content" value="{h(carried(data))}">'
    out = (f'<form method="post" action="/app/tools/bundle" class="inline">{hidden}'
           f'<button type="submit" class="secondary">{ctx.t("tools_download")}</button></form>')
    if writable:
        out += (f'<form method="post" action="/app/tools/import" class="inline">{hidden}'
                f'<button type="submit">{ctx.t("tools_import")}</button></form>'
                f'<p class="muted">{ctx.t("tools_import_note")}</p>')
    else:
        out += f'<p class="notice">{ctx.t("tools_read_only")}</p>'
    return f'<div class="actions">{out}</div>'


# ----------------------------------------------------------------------------- import outcome


def _where(location: str | None) -> tuple[str, str] | None:
    m = _LOCATION.search(location or "")
    return (m.group(1), m.group(2)) if m else None


def _status_word(ctx: Ctx, status: str) -> str:
    code = status.split(" ")[0]
    if code == "201":
        return ctx.t("tools_created")
    if code.startswith("2"):
        return ctx.t("tools_updated")
    return ctx.t("tools_failed")


def _patient_link(ctx: Ctx, patient_id: str | None) -> str:
    if not patient_id:
        return ""
    return f' <a href="{h(urls.patient(patient_id))}">{ctx.t("tools_open_patient")}</a>'


def _diagnostics(entry: dict[str, Any]) -> list[str]:
    outcome = entry.get("response", {}).get("outcome") or {}
    return [str(i.get("diagnostics", "")) for i in outcome.get("issue", [])]


def outcome(ctx: Ctx, entries: list[dict[str, Any]], patients: dict[int, str]) -> str:
    """One row per entry: the resource (or HOSO), created/updated/refused, and a link to the patient
    page (``patients``: the patient id of an entry, by position, where one is known)."""
    rows = []
    for n, entry in enumerate(entries):
        status = str(entry.get("response", {}).get("status", ""))
        where = _where(entry.get("response", {}).get("location"))
        what = f"{where[0]}/{where[1]}" if where else f"#{n + 1}"
        notes = _problems(_diagnostics(entry))
        rows.append(
            f'<tr><th scope="row"><code>{h(what)}</code></th>'
            f'<td data-label="{ctx.t("tools_outcome")}">{_status_word(ctx, status)} <small>({h(status)})</small>'
            f'{_patient_link(ctx, patients.get(n))}{notes}</td></tr>'
        )
    return (
        f'<table class="stack outcome"><thead><tr><th scope="col">{ctx.t("tools_resource")}</th>'
        f'<th scope="col">{ctx.t("tools_outcome")}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def located(entries: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """(position, type, id) of each entry that names where it was stored."""
    out = []
    for n, entry in enumerate(entries):
        where = _where(entry.get("response", {}).get("location"))
        if where:
            out.append((n, where[0], where[1]))
    return out
