"""Who this is: name, age, gender, identifiers, insurance cards with their validity, allergies."""

from __future__ import annotations

from ..context import Ctx
from ..layout import h
from ..reading import MAX_RECORD
from ..record import Record
from .. import present


def render(ctx: Ctx, record: Record) -> str:
    p = record.patient
    born = p.get("birthDate")
    age = present.age(born)
    gender = ctx.t(present.gender(p))
    facts = [
        (ctx.t("birth_date"), h(present.day(born)) + (f" ({age} {ctx.t('years')})" if age is not None else "")),
        (ctx.t("gender"), gender),
        (ctx.t("address"), h(present.address(p))),
    ]
    ids = "".join(f'<li><span class="k">{h(label)}</span> <span class="v">{h(value)}</span></li>' for label, value in present.identifiers(p, ctx.lang))
    cards = "".join(dict.fromkeys(_card(ctx, c) for c in record.all("Coverage")))  # one Coverage per episode: each card once
    allergies = record.all("AllergyIntolerance")
    allergy = ""
    if allergies:
        items = "".join(_allergy(ctx, a) for a in allergies)
        allergy = f'<div class="allergy" role="note"><b>{ctx.t("allergies")}:</b><ul>{items}</ul></div>'
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    cut = f'<p class="alert" role="alert">{ctx.t("record_cut", n=MAX_RECORD)}</p>' if record.cut else ""
    return (
        f'<header class="patient" aria-labelledby="pname"><h1 id="pname">{h(present.name(p) or p["id"])}</h1>{cut}'
        f'<dl class="facts">{dl}</dl>'
        f'<div class="ids"><h2 class="sr">{ctx.t("identifiers")}</h2><ul class="chips">{ids}</ul></div>'
        f'{_cards(ctx, cards)}{allergy}</header>'
    )


def _cards(ctx: Ctx, cards: str) -> str:
    return f'<div class="cards"><h2>{ctx.t("insurance_cards")}</h2><ul class="chips">{cards}</ul></div>' if cards else ""


def _card(ctx: Ctx, coverage: dict) -> str:
    number = coverage.get("subscriberId") or next((i.get("value") for i in coverage.get("identifier") or []), "")
    period = coverage.get("period") or {}
    start, end = present.day(period.get("start")), present.day(period.get("end"))
    validity = f"{start} – {end}" if start or end else ""
    return f'<li><span class="v">{h(number)}</span> <small>{h(validity)}</small></li>'


def _allergy(ctx: Ctx, allergy: dict) -> str:
    """What the patient reacts to, how (the reactions' manifestations), and a high criticality."""
    reactions = [present.concept(m) for r in allergy.get("reaction") or [] for m in r.get("manifestation") or []]
    how = f": {h('; '.join(x for x in reactions if x))}" if any(reactions) else ""
    high = f' <b class="critical">({ctx.t("criticality_high")})</b>' if allergy.get("criticality") == "high" else ""
    return f"<li>{h(present.concept(allergy.get('code')) or ctx.word('unknown'))}{how}{high}</li>"
