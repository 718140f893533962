"""Documents (DocumentReference): papers such as the discharge paper and the record summary, readable here.

Plain-text attachments are decoded and shown as text; the texts a document carries in the
transfer dataset's extensions (clinical signs, course of the illness…) are shown under their
names. An insurance table attached as a document is not dumped as XML: the discharge paper and
the record summary are read as text (:mod:`..discharge`), and every table links to the
episode's insurance tables; a transfer letter links to its transfer paper. Each document is a
``<details>`` so the page stays short without script.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from mappings.transfer54.fhir import DOC_TEXT_FIELDS
from profiles import EXT, SID

from .. import discharge, episodes, present, urls
from ..context import Ctx
from ..layout import h
from ..record import Record, episode_of

#: extension URL → the word key of the text it carries
TEXT_EXTENSIONS = {EXT[ext]: f"f_{field}" for field, ext in DOC_TEXT_FIELDS.items()}
#: document kinds (LOINC) the mappings write, in the reader's words (others: as the record words them)
KINDS = {
    "18842-5": ("Giấy ra viện", "Discharge summary"),
    "34133-9": ("Tóm tắt hồ sơ bệnh án", "Summary of the episode"),
    "57133-1": ("Giấy chuyển tuyến", "Referral note"),
}
#: the largest attachment decoded onto a page (characters of base64)
MAX_TEXT = 200_000


def is_transfer_letter(doc: dict[str, Any]) -> bool:
    """A transfer letter: what marks an Encounter as a transfer episode (see mappings.transfer54.store)."""
    return any(i.get("system") == SID["so-chuyen-tuyen"] for i in doc.get("identifier") or [])


def insurance_table(doc: dict[str, Any]) -> str | None:
    """``XML7`` for a document that is an insurance table (its bhyt-part identifier names the table)."""
    for i in doc.get("identifier") or []:
        if i.get("system") == SID["bhyt-part"]:
            parts = str(i.get("value", "")).split("/")
            return next((p for p in reversed(parts) if p.startswith("XML")), None)
    return None


def decoded_text(attachment: dict[str, Any]) -> str | None:
    """A text/* attachment's data as text (its charset, else UTF-8); None when not text or unreadable."""
    kind = str(attachment.get("contentType") or "")
    data = attachment.get("data")
    if not kind.startswith("text/") or not data or len(data) > MAX_TEXT:
        return None
    charset = next((p.split("=", 1)[1].strip() for p in kind.split(";")[1:] if p.strip().startswith("charset=")), "utf-8")
    try:
        return base64.b64decode(data, validate=True).decode(charset, errors="replace")
    except (binascii.Error, LookupError, ValueError):
        return None


def title(doc: dict[str, Any]) -> str:
    attachments = [c.get("attachment") or {} for c in doc.get("content") or []]
    return next((str(a["title"]) for a in attachments if a.get("title")), "") or present.concept(doc.get("type")) or str(doc.get("id"))


def _when(record: Record, doc: dict[str, Any]) -> str:
    own = doc.get("date") or ((doc.get("context") or {}).get("period") or {}).get("start")
    if own:
        return str(own)
    eid = episode_of(doc)
    encounter = record.by_ref.get(("Encounter", eid)) if eid else None
    return str(((encounter or {}).get("period") or {}).get("start") or "")


def newest(record: Record, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(docs, key=lambda d: _when(record, d), reverse=True)


def _body(ctx: Ctx, record: Record, doc: dict[str, Any]) -> str:
    pid, eid = record.patient["id"], episode_of(doc)
    parts = []
    if doc.get("description"):
        parts.append(f'<p>{h(doc["description"])}</p>')
    texts = [(TEXT_EXTENSIONS[e["url"]], e.get("valueString")) for e in doc.get("extension") or [] if e.get("url") in TEXT_EXTENSIONS and e.get("valueString")]
    if texts:
        parts.append('<dl class="doc-fields">' + "".join(f"<dt>{ctx.t(k)}</dt><dd>{h(v)}</dd>" for k, v in texts) + "</dl>")
    table = insurance_table(doc)
    if is_transfer_letter(doc) and eid:
        parts.append(f'<p><a href="{h(urls.transfer(pid, eid))}">{ctx.t("open_transfer_paper")}</a></p>')
    elif table and eid:
        if table in discharge.PAPERS:  # the discharge paper, the record summary: read as text here
            parts.append(discharge.render(ctx, doc, table))
        parts.append(f'<p>{ctx.t("doc_is_table", table=table)} <a href="{h(urls.episode(pid, eid))}#bhyt-{h(table)}">{ctx.t("see_insurance_tables")}</a></p>')
    for content in doc.get("content") or []:
        attachment = content.get("attachment") or {}
        text = decoded_text(attachment)
        if text is not None:
            parts.append(f'<div class="doc-text" lang="{h(attachment.get("language") or "vi")}">{h(text)}</div>')
    if not parts:
        parts.append(f'<p class="muted">{ctx.t("doc_not_shown")}</p>')
    return "".join(parts)


def item(ctx: Ctx, record: Record, doc: dict[str, Any], *, with_episode: bool = True, open_: bool = False) -> str:
    """One document as a ``<details>``: its title, kind, date and episode; its text inside."""
    known = KINDS.get(present.code(doc.get("type"), "http://loinc.org"))
    kind = (known[1] if ctx.lang == "en" else known[0]) if known else present.concept(doc.get("type"))
    when = present.day(_when(record, doc))
    episode = episodes.link(ctx, record, doc) if with_episode else ""
    meta = " · ".join(x for x in (h(kind) if kind != title(doc) else "", h(when), episode) if x)
    return (f'<details class="doc"{" open" if open_ else ""}><summary><b>{h(title(doc))}</b> <small>{meta}</small></summary>'
            f'{_body(ctx, record, doc)}</details>')


def render(ctx: Ctx, record: Record) -> str:
    docs = newest(record, record.by_type.get("DocumentReference", []))
    if not docs:
        return ""
    items = "".join(item(ctx, record, d) for d in docs)
    return (f'<section class="card documents" id="documents" aria-labelledby="docs-h">'
            f'<h2 id="docs-h">{ctx.t("documents")} <small>({len(docs)})</small></h2>{items}</section>')
