"""FHIR values as a doctor reads them: names, dates (dd/mm/yyyy), ages, addresses, codes, identifiers.

Pure functions of JSON, no HTML: pages escape what they get from here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from profiles import SID

#: identifier systems by what a person calls them (key into :mod:`.i18n` where it is a word)
ID_LABELS: dict[str, tuple[str, str]] = {
    SID["cccd"]: ("CCCD", "Citizen id"),
    SID["the-bhyt"]: ("Thẻ BHYT", "Insurance card"),
    SID["passport"]: ("Hộ chiếu", "Passport"),
    "http://fhir.ehealth.gov.vn/core/sid/patient-internal-id": ("Mã BN", "Patient id"),
}
_PER_FACILITY = {SID["ma-bn"] + "/": ("Mã BN tại", "Patient id at"), SID["ma-lk"] + "/": ("MA_LK tại", "MA_LK at")}


def name(resource: dict[str, Any] | None) -> str:
    """The official (else first) name: its text, else family + given (the Vietnamese order)."""
    names = (resource or {}).get("name") or []
    if isinstance(names, dict):
        return str(names.get("text") or "")
    if isinstance(names, str):
        return names
    chosen = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    if not chosen:
        return ""
    if chosen.get("text"):
        return str(chosen["text"])
    return " ".join([*([chosen["family"]] if chosen.get("family") else []), *chosen.get("given", [])]).strip()


def facility(ref: dict[str, Any] | None, org: dict[str, Any] | None) -> str:
    """A facility as a page names it: the Organization's name, else its code (MA_CSKCB); without
    the Organization, what the reference itself says (its display, its identifier)."""
    if org is not None:
        if org.get("name"):
            return str(org["name"])
        for ident in org.get("identifier") or []:
            if ident.get("value"):
                return str(ident["value"])
    ref = ref or {}
    return str(ref.get("display") or (ref.get("identifier") or {}).get("value") or "")


def gender(resource: dict[str, Any] | None) -> str:
    """The word key of a resource's administrative gender (``unknown`` when absent or unknown)."""
    value = (resource or {}).get("gender")
    return value if value in ("male", "female", "other") else "unknown"


def day(value: str | None) -> str:
    """A FHIR date or dateTime as dd/mm/yyyy (partial dates as far as given)."""
    if not value:
        return ""
    parts = value[:10].split("-")
    return "/".join(reversed(parts))


def moment(value: str | None) -> str:
    """A dateTime as dd/mm/yyyy hh:mm (the time as recorded, in its own zone)."""
    if not value:
        return ""
    return day(value) + (f" {value[11:16]}" if len(value) >= 16 else "")


def age(birth_date: str | None, today: date | None = None) -> int | None:
    if not birth_date or len(birth_date) < 4:
        return None
    today = today or date.today()
    try:
        born = date.fromisoformat(birth_date) if len(birth_date) == 10 else date(int(birth_date[:4]), int(birth_date[5:7] or 1) if len(birth_date) >= 7 else 1, 1)
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def address(resource: dict[str, Any] | None) -> str:
    addresses = (resource or {}).get("address") or []
    if not addresses:
        return ""
    a = next((x for x in addresses if x.get("use") == "home"), addresses[0])
    if a.get("text"):
        return str(a["text"])
    parts = [*a.get("line", []), a.get("district"), a.get("city"), a.get("state")]
    return ", ".join(str(p) for p in parts if p)


def concept(value: dict[str, Any] | None) -> str:
    """A CodeableConcept's text, else its first coding's display, else its code."""
    if not value:
        return ""
    if value.get("text"):
        return str(value["text"])
    for coding in value.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    for coding in value.get("coding") or []:
        if coding.get("code"):
            return str(coding["code"])
    return ""


def code(value: dict[str, Any] | None, system: str | None = None) -> str:
    """The first code (of ``system`` when given) of a CodeableConcept."""
    for coding in (value or {}).get("coding") or []:
        if coding.get("code") and (system is None or coding.get("system") == system):
            return str(coding["code"])
    return ""


def identifier_label(system: str | None, lang: str) -> str:
    """What an identifier system is called; the per-facility ones name their facility."""
    if system in ID_LABELS:
        return ID_LABELS[system][lang == "en"]
    for prefix, words in _PER_FACILITY.items():
        if system and system.startswith(prefix):
            return f"{words[lang == 'en']} {system[len(prefix):]}"
    return system or ""


def identifiers(resource: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """(label, value) of each identifier, each value once: VN Core's patient-internal-id repeats
    a per-facility patient id, which names its facility and is kept."""
    items = [(i.get("system") or "", str(i["value"])) for i in resource.get("identifier") or [] if i.get("value")]
    per_facility = {v for s, v in items if s.startswith(SID["ma-bn"] + "/")}
    out = []
    for system, value in items:
        if system == "http://fhir.ehealth.gov.vn/core/sid/patient-internal-id" and value in per_facility:
            continue
        if (identifier_label(system, lang), value) not in out:
            out.append((identifier_label(system, lang), value))
    return out


def quantity(value: dict[str, Any] | None) -> str:
    if not value or value.get("value") is None:
        return ""
    number = value["value"]
    text = f"{number:g}" if isinstance(number, float) else str(number)
    unit = value.get("unit") or value.get("code") or ""
    return f"{text} {unit}".strip()


def when(resource: dict[str, Any]) -> str:
    """The clinically relevant time of a resource, as sortable text (ISO)."""
    for key in ("effectiveDateTime", "issued", "performedDateTime", "authoredOn", "recordedDate", "date", "onsetDateTime"):
        if resource.get(key):
            return str(resource[key])
    for key in ("effectivePeriod", "performedPeriod", "period"):
        period = resource.get(key) or {}
        if period.get("start"):
            return str(period["start"])
    return ""


def parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if len(value) > 10 else datetime.fromisoformat(value + "T00:00:00")
    except ValueError:
        return None
