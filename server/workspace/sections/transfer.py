"""The latest transfer: a summary card of the newest episode that has a transfer letter, linking to its paper.

A transfer episode is an Encounter a transfer letter (a DocumentReference with a
``so-chuyen-tuyen`` identifier) refers to, as ``mappings.transfer54.store`` decides; the same
test picks the episode here, so the card only links to papers that ``$transfer54`` can write.
"""

from __future__ import annotations

from typing import Any

from profiles import EXT, SID

from .. import present, urls
from ..codewords import code_words
from ..context import Ctx
from ..layout import h
from ..record import Record, episode_of
from .documents import is_transfer_letter


def transfers(record: Record) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(Encounter, transfer letter) pairs, newest episode first."""
    out = {}
    for doc in record.by_type.get("DocumentReference", []):
        eid = episode_of(doc)
        encounter = record.by_ref.get(("Encounter", eid)) if eid else None
        if encounter is not None and is_transfer_letter(doc):
            out.setdefault(eid, (encounter, doc))
    return sorted(out.values(), key=lambda pair: present.when(pair[0]), reverse=True)


def _reason(ctx: Ctx, encounter: dict[str, Any]) -> str:
    coding = next((e.get("valueCoding") or {} for e in encounter.get("extension") or [] if e.get("url") == EXT["t54-transfer-reason"]), {})
    return code_words("MA_LYDO_CT", coding.get("code"), ctx.lang) or str(coding.get("display") or "")


def _main_diagnosis(record: Record, encounter: dict[str, Any]) -> str:
    for d in encounter.get("diagnosis") or []:
        if present.code(d.get("use")) in ("CC", "DD"):
            condition = record.get(d.get("condition")) or {}
            return " ".join(x for x in (present.code(condition.get("code")), present.concept(condition.get("code"))) if x)
    return ""


def _org(record: Record, ref: dict[str, Any] | None) -> str:
    return record.facility({"serviceProvider": ref}) if ref else ""


def render(ctx: Ctx, record: Record) -> str:
    found = transfers(record)
    if not found:
        return ""
    encounter, letter = found[0]
    number = next((i.get("value") for i in letter.get("identifier") or [] if i.get("system") == SID["so-chuyen-tuyen"]), "")
    hosp = encounter.get("hospitalization") or {}
    facts = [
        ("transfer_number", number),
        ("transfer_date", present.moment((encounter.get("period") or {}).get("end"))),
        ("transfer_from", record.facility(encounter)),
        ("transfer_to", _org(record, hosp.get("destination"))),
        ("transfer_reason", _reason(ctx, encounter)),
        ("diagnosis", _main_diagnosis(record, encounter)),
    ]
    dl = "".join(f"<dt>{ctx.t(k)}</dt><dd>{h(v)}</dd>" for k, v in facts if v)
    more = f' <small>{ctx.t("other_transfers", n=len(found) - 1)}</small>' if len(found) > 1 else ""
    return (f'<section class="card transfer-card" id="transfer" aria-labelledby="transfer-h">'
            f'<h2 id="transfer-h">{ctx.t("latest_transfer")}{more}</h2><dl class="facts">{dl}</dl>'
            f'<p><a class="button" href="{h(urls.transfer(record.patient["id"], encounter["id"]))}">{ctx.t("open_transfer_paper")}</a></p></section>')
