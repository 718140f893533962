"""Observation values as the lab and vital-sign sections read them: the number, the words, the
reference range, and the flag (reported by the laboratory, or computed from the range)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from mappings.fhir_terms import OBS_CATEGORY

from . import present, terms

INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#: interpretation codes a reader knows → word key (others are shown as the record words them)
FLAG_WORDS = {"H": "flag_H", "L": "flag_L", "N": "flag_N", "A": "flag_A", "HH": "flag_HH", "LL": "flag_LL",
              "HU": "flag_HH", "LU": "flag_LL", "AA": "flag_A"}
#: the flags that mean "outside the reference range"
ABNORMAL = frozenset({"H", "L", "A", "HH", "LL", "HU", "LU", "AA"})


@dataclass
class Flag:
    """An observation's flag: ``code`` (H, L, N…) or only ``text``; ``computed`` when the record gave
    none and it comes from comparing the value with the reference range."""

    code: str
    text: str
    computed: bool

    @property
    def abnormal(self) -> bool:
        return self.code in ABNORMAL


def has_category(obs: dict[str, Any], category: str) -> bool:
    return any(c.get("code") == category and c.get("system", OBS_CATEGORY) == OBS_CATEGORY
               for cc in obs.get("category") or [] for c in cc.get("coding") or [])


def test_key(code: dict[str, Any] | None) -> str:
    """What groups results of one test: its first coding (system|code), else its text."""
    for c in (code or {}).get("coding") or []:
        if c.get("code"):
            return f'{c.get("system", "")}|{c["code"]}'
    return (code or {}).get("text") or ""


def number(value: dict[str, Any] | None) -> float | None:
    """A Quantity's value as a number (``None`` for anything else)."""
    v = (value or {}).get("value")
    if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):  # the store keeps decimals exact
        return None
    return float(v)


def time_of(obs: dict[str, Any]) -> datetime | None:
    when = present.when(obs)
    return present.parse_time(when) if when else None


def value_text(obs: dict[str, Any], lang: str) -> str:
    """The value without its unit: a number, a string, a coded answer."""
    if "valueQuantity" in obs:
        v = obs["valueQuantity"].get("value")
        return f"{v:g}" if isinstance(v, float) else str(v if v is not None else "")
    if "valueString" in obs:
        return str(obs["valueString"])
    if "valueCodeableConcept" in obs:
        return terms.concept(obs["valueCodeableConcept"], lang)
    for key in ("valueInteger", "valueBoolean", "valueDateTime"):
        if key in obs:
            return str(obs[key])
    return ""


def reading_text(obs: dict[str, Any], lang: str) -> str:
    """The value with its unit; a panel's components joined (blood pressure: ``130/82 mm[Hg]``)."""
    parts = obs.get("component") or []
    if parts and not any(k.startswith("value") for k in obs):
        values = [value_text(p, lang) for p in parts]
        units = {unit_of(p) for p in parts}
        return "/".join(values) + (f" {units.pop()}" if len(units) == 1 else "")
    return f"{value_text(obs, lang)} {unit_of(obs)}".strip()


#: UCUM codes as people write them (a record that gives only the code shows it this way)
UNIT_WORDS = {"Cel": "°C", "[degF]": "°F", "mm[Hg]": "mmHg", "/min": "/phút", "%": "%", "10*9/L": "G/L", "10*12/L": "T/L", "umol/L": "µmol/L"}


def unit_of(obs: dict[str, Any]) -> str:
    q = obs.get("valueQuantity") or {}
    unit = str(q.get("unit") or q.get("code") or "")
    return UNIT_WORDS.get(unit, unit)


def reference_range(obs: dict[str, Any]) -> tuple[float | None, float | None, str]:
    """(low, high, text) of the first reference range."""
    ranges = obs.get("referenceRange") or []
    if not ranges:
        return None, None, ""
    r = ranges[0]
    return number(r.get("low")), number(r.get("high")), str(r.get("text") or "")


def range_text(obs: dict[str, Any]) -> str:
    low, high, text = reference_range(obs)
    if text:
        return text
    if low is not None and high is not None:
        return f"{low:g} – {high:g}"
    if low is not None:
        return f"≥ {low:g}"
    if high is not None:
        return f"≤ {high:g}"
    return ""


def flag(obs: dict[str, Any]) -> Flag | None:
    """The laboratory's interpretation, else one computed from the value and the range."""
    for interp in obs.get("interpretation") or []:
        for c in interp.get("coding") or []:
            if c.get("code"):
                return Flag(str(c["code"]), str(interp.get("text") or c.get("display") or c["code"]), False)
        if interp.get("text"):
            return Flag("", str(interp["text"]), False)
    value = number(obs.get("valueQuantity"))
    low, high, _ = reference_range(obs)
    if value is None or (low is None and high is None):
        return None
    code = "L" if low is not None and value < low else "H" if high is not None and value > high else "N"
    return Flag(code, code, True)
