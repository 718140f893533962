"""FHIR R4 mapping of the insurance XML tables: ``to_fhir(episode)`` -> transaction Bundle,
``from_fhir(bundle, standard=None)`` -> the episode again, lossless after trimming.

The field -> element table is data (``rules.json``); this module is the engine that runs it, plus
the few structures a table cannot express as one field per element: the Patient's identity,
the insurance cards (``;``-separated lists -> one Coverage each) and the diagnoses (one Condition
per code, in the order of ``Encounter.diagnosis``, the main one with the use VN Core gives it, CC).

Why it is lossless:
- every rule's converter either carries a value exactly (``back(to(v)) == v``) or declines it, and
  a declined value, like every field without a rule, goes to the ``bhyt-fields`` extension of the
  record's resource as text; money and rates go to ``bhyt-amounts`` (Money in VND / decimal); an
  end a Period would reach before its start (R4's per-1: NGAY_RA before NGAY_VAO, a card's
  GT_THE_DEN before its GT_THE_TU) is declined the same way;
  fields present but empty are listed in ``bhyt-empty``;
- each record's resource carries a part identifier ``<facility>/<MA_LK>/<table>/<row>``, so rows
  come back in order, and the Encounter records the standard the episode came in;
- tables without a clinical home (``whole`` in rules.json) are kept as their XML document.

The one normalisation: leading/trailing blanks of values are trimmed (the reader does it).
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from server.fhir.identifiers import canonical_system
from profiles import CS, EXT, SID
from profiles.vn_core import CS as VN_CS
from profiles.vn_core import EXT as VN_EXT

from .. import national
from ..episode_bundle import BundleIndex, EpisodeBundle
from ..fhir_dates import birth, date8, dt, in_order, undate8, undt, unbirth, valid_birth, valid_date8, valid_datetime12
from ..fhir_terms import (DIAGNOSIS_USE, MAIN_DIAGNOSIS_USES, ACT_CODE, BIRTH_TIME, CLASS_DISPLAY, COND_CATEGORY, DIAG_ROLE, GENDER, GENDER_BACK,
                          ICD10, LOINC, MR, OBS_CATEGORY, UCUM)
from ..transfer54.fhir import CARD_FIELDS, DOC_TEXT_FIELDS
from ..transfer54.fields import CODE_TABLES
from .envelope import Episode, Record, parse_table
from .layouts import STANDARDS, layout, layouts, table_exists, table_sort_key
from .writer import table_document

__all__ = ["to_fhir", "from_fhir", "rules", "UnmappableEpisode"]

PAYOR = "Bảo hiểm xã hội Việt Nam"

_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?\Z")
_INTEGER = re.compile(r"(0|[1-9][0-9]{0,8})\Z")
_CODE = re.compile(r"[^\s]+( [^\s]+)*\Z")
_TOKEN = re.compile(r"[^\s;]+\Z")  # one facility or practitioner code
_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?\Z")

DIAGNOSIS_FIELDS = ("MA_BENH_CHINH", "CHAN_DOAN_RV", "MA_BENH_KT", "MA_BENH_YHCT", "CHAN_DOAN_VAO")


class UnmappableEpisode(ValueError):
    """The episode cannot be carried (e.g. a 4210 record holding both MA_THE and MA_THE_BHYT)."""


# ----------------------------------------------------------------------------- rules (data)

@dataclass(frozen=True)
class Rule:
    field: str  # 130 name
    role: str  # "home", "Patient", "weight"
    path: str
    converter: str  # "text", "coding:bhyt-drug", …


@dataclass(frozen=True)
class Rules:
    tables: dict[str, tuple[str, dict[str, Rule]]]  # table -> (home resource type, 130 name -> rule)
    aliases: dict[str, dict[str, dict[str, str]]]  # standard -> table -> own name -> 130 name
    money: frozenset[str]
    rates: frozenset[str]
    encounter_class: dict[str, dict[str, str]]
    whole: frozenset[str]
    documents: dict[str, dict[str, str]]

    def canonical(self, standard: str, table: str, name: str) -> str:
        return self.aliases.get(standard, {}).get(table, {}).get(name, name)

    def own(self, standard: str, table: str, name: str) -> str:
        for own, canon in self.aliases.get(standard, {}).get(table, {}).items():
            if canon == name:
                return own
        return name


@lru_cache(maxsize=1)
def rules() -> Rules:
    raw = json.loads(Path(__file__).with_name("rules.json").read_text(encoding="utf-8"))
    tables: dict[str, tuple[str, dict[str, Rule]]] = {}
    for table, spec in raw["tables"].items():
        fields: dict[str, Rule] = {}
        for name, text in spec["fields"].items():
            role, path, conv = text.split(" ")
            fields[name] = Rule(name, role, path, conv)
        if table == "XML13":  # the transfer paper shares the transfer letter's text extensions
            for name, ext in DOC_TEXT_FIELDS.items():
                if layout("130", table).field(name) is not None:
                        fields.setdefault(name, Rule(name, "home", f"ext:{ext}.valueString", "text"))
        tables[table] = (spec["home"], fields)
    return Rules(tables=tables, aliases=raw["aliases"], money=frozenset(raw["money"]), rates=frozenset(raw["rates"]),
                 encounter_class=raw["encounter_class"], whole=frozenset(raw["whole"]), documents=raw["documents"])


# ----------------------------------------------------------------------------- element paths

def _system(ref: str, ctx: "_Context") -> str:
    """identifier:<id>[@facility] -> the identifier system."""
    sid, _, scope = ref.partition("@")
    return f"{SID[sid]}/{ctx.facility}" if scope == "facility" else SID[sid]


def _step(node: Any, seg: str, ctx: "_Context", create: bool) -> Any:
    if seg.startswith(("ext:", "sub:")):  # an extension by its id (ours or VN Core's), a sub-extension by its url
        url = seg[4:] if seg.startswith("sub:") else EXT.get(seg[4:]) or VN_EXT[seg[4:]]
        exts = node.setdefault("extension", []) if create else node.get("extension", [])
        found = next((e for e in exts if e.get("url") == url), None)
        if found is None and create:
            found = {"url": url}
            exts.append(found)
        return found
    if seg.startswith("identifier:"):
        system = _system(seg[11:], ctx)
        idents = node.setdefault("identifier", []) if create else node.get("identifier", [])
        found = next((i for i in idents if i.get("system") == system), None)
        if found is None and create:
            found = {"type": MR, "system": system} if seg.endswith("@facility") else {"system": system}
            idents.append(found)
        return found
    m = _SEGMENT.match(seg)
    assert m, seg
    name, index = m.group(1), m.group(2)
    if index is None:
        if name not in node and create:
            node[name] = {}
        return node.get(name)
    items = node.setdefault(name, []) if create else node.get(name, [])
    i = int(index)
    while create and len(items) <= i:
        items.append({})
    return items[i] if i < len(items) else None


def _locate(resource: dict, path: str, ctx: "_Context", create: bool) -> tuple[Any, str] | None:
    """(container, key) of the last segment; None when absent and not creating."""
    segs = path.split(".")
    node: Any = resource
    for seg in segs[:-1]:
        node = _step(node, seg, ctx, create)
        if node is None:
            return None
    last = segs[-1]
    m = _SEGMENT.match(last)
    if m and m.group(2) is not None:  # e.g. coding[0]: the container is the list item's parent
        items = node.setdefault(m.group(1), []) if create else node.get(m.group(1), [])
        i = int(m.group(2))
        while create and len(items) <= i:
            items.append({})
        return (items, i) if i < len(items) else None
    if last.startswith(("ext:", "sub:", "identifier:")):
        raise ValueError(f"path {path!r} must name an element inside {last}")
    return node, last


# ----------------------------------------------------------------------------- converters

class Converter:
    """How one field's text becomes an element value and back."""

    def fits(self, v: str) -> bool:
        return True

    def put(self, container: Any, key: Any, v: str, ctx: "_Context") -> None:
        container[key] = v

    def get(self, container: Any, key: Any, ctx: BundleIndex) -> str | None:
        value = container[key] if _has(container, key) else None
        return value if isinstance(value, str) else None


def _has(container: Any, key: Any) -> bool:
    return (key < len(container)) if isinstance(container, list) else key in container


def canonical_decimal(v: str) -> bool:
    """Text a JSON decimal reproduces exactly (no leading zeros, exponent or negative zero)."""
    return bool(_DECIMAL.match(v)) and len(v) <= 40 and not (v.startswith("-") and Decimal(v) == 0)


#: FHIR's core extension for how a primitive was written: keeps ``0,5`` when the element holds 0.5
RENDERED = "http://hl7.org/fhir/StructureDefinition/rendered-value"
_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")


def comma_decimal(v: str) -> str | None:
    """The '.' form of a decimal written with a comma (``0,5`` → ``0.5``) when FHIR can carry it exactly."""
    if _COMMA.fullmatch(v):
        dotted = v.replace(",", ".")
        return dotted if canonical_decimal(dotted) else None
    return None


def _rendered(holder: Any) -> str | None:
    """The written form kept beside a primitive (``_value``'s rendered-value extension)."""
    if not isinstance(holder, dict):
        return None
    return next((e.get("valueString") for e in holder.get("extension", []) if e.get("url") == RENDERED), None)


def _decimal_text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    return str(value)


class Text(Converter):
    pass


class DateTime(Converter):
    """yyyyMMddHHmm -> dateTime, yyyyMMdd -> date (``dt``); 12 digits only for instants (``dt12``)."""

    def __init__(self, allow_date: bool) -> None:
        self.allow_date = allow_date

    def fits(self, v: str) -> bool:
        return valid_datetime12(v) or (self.allow_date and valid_date8(v))

    def put(self, container, key, v, ctx):
        container[key] = dt(v) if len(v) == 12 else date8(v)

    def get(self, container, key, ctx):
        value = super().get(container, key, ctx)
        if value is None:
            return None
        return undt(value) if "T" in value else undate8(value)


class Birth(Converter):
    def fits(self, v):
        return valid_birth(v)

    def put(self, container, key, v, ctx):
        date, time = birth(v)
        container[key] = date
        if time:
            container["_" + key] = {"extension": [{"url": BIRTH_TIME, "valueDateTime": time}]}

    def get(self, container, key, ctx):
        if key not in container:
            return None
        time = next((e.get("valueDateTime") for e in (container.get("_" + key) or {}).get("extension", [])
                     if e.get("url") == BIRTH_TIME), None)
        return unbirth(container[key], time)


class DecimalValue(Converter):
    """A decimal; one written with a comma (outside the decision, common in real files) becomes the
    FHIR decimal, and its written form is kept in the element's rendered-value extension."""

    def fits(self, v):
        return canonical_decimal(v) or (comma_decimal(v) is not None)

    def put(self, container, key, v, ctx):
        dotted = comma_decimal(v)
        if dotted is None:
            container[key] = Decimal(v)
            return
        container[key] = Decimal(dotted)
        container["_" + key] = {"extension": [{"url": RENDERED, "valueString": v}]}

    def get(self, container, key, ctx):
        if not _has(container, key):
            return None
        return _rendered(container.get("_" + key)) or _decimal_text(container.get(key))


class Days(Converter):
    """SO_NGAY_DTRI -> Encounter.length (Duration in days)."""

    def fits(self, v):
        return bool(_INTEGER.match(v))

    def put(self, container, key, v, ctx):
        container[key] = {"value": int(v), "unit": "days", "system": UCUM, "code": "d"}

    def get(self, container, key, ctx):
        return _decimal_text((container.get(key) or {}).get("value"))


class Gender(Converter):
    def fits(self, v):
        return v in GENDER

    def put(self, container, key, v, ctx):
        container[key] = GENDER[v]

    def get(self, container, key, ctx):
        return GENDER_BACK.get(container.get(key))


class Coding(Converter):
    def __init__(self, cs: str) -> None:
        self.cs = cs

    def fits(self, v):
        return bool(_CODE.match(v))

    @property
    def system(self) -> str:
        return CS.get(self.cs) or VN_CS[self.cs]

    def put(self, container, key, v, ctx):
        coding = {"system": self.system, "code": v}
        name = _DISPLAY_TABLE.get(self.cs) or (self.cs.removeprefix("t54-") if self.cs.startswith("t54-") else None)
        table = CODE_TABLES.get(name) if name else None
        if table is not None and v in table.codes:
            coding["display"] = table.codes[v].en
        container[key] = coding

    def get(self, container, key, ctx):
        coding = container[key] if _has(container, key) else None
        if isinstance(coding, dict) and national.RENAMED_SYSTEMS.get(coding.get("system"), coding.get("system")) == self.system:
            return coding.get("code")  # the old system of the same list reads too (bundles written before)
        return None


#: VN Core code systems whose displays come from a transfer-dataset code table (same codes)
_DISPLAY_TABLE = {"vn-core-race": "ethnicity"}


class Reference(Converter):
    """A facility (Organization by ma-cskcb) or a health worker (Practitioner by cchn)."""

    def __init__(self, type_: str, sid: str) -> None:
        self.type_, self.sid = type_, sid

    def fits(self, v):
        return bool(_TOKEN.match(v))

    def put(self, container, key, v, ctx):
        container[key] = {"reference": ctx.shared(self.type_, self.sid, v)}

    def get(self, container, key, ctx):
        ref = container[key] if _has(container, key) else None
        target = ctx.get(ref) if isinstance(ref, dict) else None
        for ident in (target or {}).get("identifier", []):
            if canonical_system(ident.get("system")) == canonical_system(SID[self.sid]):
                return ident.get("value")
        return None


class Result(Converter):
    """XML4 GIA_TRI: a number -> valueQuantity.value, anything else -> valueString."""

    def put(self, container, key, v, ctx):
        if canonical_decimal(v):
            container.setdefault("valueQuantity", {})["value"] = Decimal(v)
        else:
            container["valueString"] = v

    def get(self, container, key, ctx):
        if "valueString" in container:
            return container["valueString"]
        return _decimal_text((container.get("valueQuantity") or {}).get("value"))


@lru_cache(maxsize=None)
def converter(spec: str) -> Converter:
    """The converter a rule names (one instance per spec)."""
    kind, _, arg = spec.partition(":")
    made: dict[str, Callable[[], Converter]] = {
        "text": Text, "dt": lambda: DateTime(True), "dt12": lambda: DateTime(False), "birth": Birth,
        "decimal": DecimalValue, "days": Days, "gender": Gender, "coding": lambda: Coding(arg),
        "org": lambda: Reference("Organization", "ma-cskcb"), "prac": lambda: Reference("Practitioner", "cchn"),
        "result": Result,
    }
    return made[kind]()


# ----------------------------------------------------------------------------- to FHIR

@dataclass
class _Context:
    b: EpisodeBundle
    facility: str

    def shared(self, type_: str, sid: str, code: str) -> str:
        """Reference to the Organization/Practitioner with this code (conditional create, once)."""
        if (type_, code) not in self.b.refs:
            ident = {"system": SID[sid], "value": code}
            res = national.facility(code) if type_ == "Organization" else national.practitioner(ident)
            self.b.add(type_, code, res, (SID[sid], code))
        return self.b.refs[(type_, code)]


def _record_fields(r: Rules, standard: str, table: str, record: Record, where: str) -> dict[str, str]:
    """The record with 4210 names turned into 130 names (values already trimmed)."""
    out: dict[str, str] = {}
    for name, value in record.items():
        canon = r.canonical(standard, table, name)
        if canon in out:
            raise UnmappableEpisode(f"{where}: both {name} and {canon} are present")
        out[canon] = value
    return out


class _Leftovers:
    """What a record keeps outside FHIR elements: fields as text, amounts, the names of empty fields."""

    def __init__(self) -> None:
        self.fields: list[dict] = []
        self.amounts: list[dict] = []
        self.empty: list[str] = []

    def keep(self, name: str, value: str, r: Rules) -> None:
        if value == "":
            self.empty.append(name)
        elif name in r.money and (canonical_decimal(value) or comma_decimal(value)):
            money: dict[str, Any] = {"value": Decimal(comma_decimal(value) or value), "currency": "VND"}
            if comma_decimal(value):
                money["_value"] = {"extension": [{"url": RENDERED, "valueString": value}]}
            self.amounts.append({"url": name, "valueMoney": money})
        elif name in r.rates and canonical_decimal(value):  # a comma rate stays text (below): the
            self.amounts.append({"url": name, "valueDecimal": Decimal(value)})  # validator refuses _valueDecimal
        else:
            self.fields.append({"url": name, "valueString": value})

    def attach(self, resource: dict) -> None:
        exts = resource.setdefault("extension", [])
        if self.fields:
            exts.append({"url": EXT["bhyt-fields"], "extension": self.fields})
        if self.amounts:
            exts.append({"url": EXT["bhyt-amounts"], "extension": self.amounts})
        if self.empty:
            exts.append({"url": EXT["bhyt-empty"], "valueString": " ".join(self.empty)})
        if not exts:
            del resource["extension"]


def _apply(rule: Rule, value: str, roles: dict[str, dict], ctx: _Context) -> bool:
    """Put one field into its element; False when the converter declines the value."""
    conv = converter(rule.converter)
    if not conv.fits(value):
        return False
    target = roles.setdefault(rule.role, {})
    first = rule.path.split(".")[0]
    if first.startswith("value") and first != "value[x]" and any(
            k.startswith("value") and k != first for k in target):
        return False  # one value[x] per resource: e.g. a unit beside a text result
    loc = _locate(target, rule.path, ctx, create=True)
    assert loc is not None
    conv.put(loc[0], loc[1], value, ctx)
    if _breaks_period(rule.path, loc[0], loc[1]):
        del loc[0][loc[1]]
        return False
    return True


def _breaks_period(path: str, container: Any, key: Any) -> bool:
    """Whether the start or end just put makes a Period end before it starts (R4's per-1): such a
    value is declined, and kept as text like any other, so the episode still comes back whole."""
    parts = path.split(".")
    if key not in ("start", "end") or len(parts) < 2 or not parts[-2].lower().endswith("period"):
        return False
    start, end = container.get("start"), container.get("end")
    return isinstance(start, str) and isinstance(end, str) and not in_order(start, end)


def _apply_record(table: str, fields: dict[str, str], roles: dict[str, dict], ctx: _Context, r: Rules,
                  skip: frozenset[str] = frozenset()) -> _Leftovers:
    table_rules = r.tables.get(table, ("", {}))[1]
    left = _Leftovers()
    order = {n: i for i, n in enumerate(table_rules)}  # rule order: a result before its unit
    for name, value in sorted(fields.items(), key=lambda kv: order.get(kv[0], len(order))):
        if name in skip:
            continue
        rule = table_rules.get(name)
        if value != "" and rule is not None and _apply(rule, value, roles, ctx):
            continue
        left.keep(name, value, r)
    return left


def _card_date(v: str) -> str:
    return dt(v) if len(v) == 12 else date8(v)


def _split(value: str, fits: Callable[[str], bool]) -> list[str] | None:
    parts = value.split(";")
    return parts if all(p and p == p.strip() and fits(p) for p in parts) else None


def _cards(fields: dict[str, str], ctx: _Context, patient_ref: dict, pat: dict) -> tuple[list[dict], set[str]]:
    """Coverage per card (the n-th value of each card field belongs to the n-th card)."""
    fits = {"MA_THE_BHYT": lambda p: bool(_TOKEN.match(p)), "MA_DKBD": lambda p: bool(_TOKEN.match(p)),
            "GT_THE_TU": lambda p: valid_date8(p) or valid_datetime12(p),
            "GT_THE_DEN": lambda p: valid_date8(p) or valid_datetime12(p)}
    lists: dict[str, list[str]] = {}
    for name in CARD_FIELDS:
        if fields.get(name):
            parts = _split(fields[name], fits[name])
            if parts is not None:
                lists[name] = parts
    starts, ends = lists.get("GT_THE_TU", []), lists.get("GT_THE_DEN", [])
    if any(not in_order(_card_date(s), _card_date(e)) for s, e in zip(starts, ends)):
        del lists["GT_THE_DEN"]  # a card ending before it starts (R4's per-1): the field is kept as text
    count = max((len(v) for v in lists.values()), default=0)
    refs: list[dict] = []
    for i in range(count):
        card = {k: v[i] for k, v in lists.items() if i < len(v)}
        cov: dict[str, Any] = {"resourceType": "Coverage"}
        if "MA_DKBD" in card:
            cov["extension"] = [{"url": EXT["t54-registered-facility"],
                                 "valueReference": {"reference": ctx.shared("Organization", "ma-cskcb", card["MA_DKBD"])}}]
        if "MA_THE_BHYT" in card:
            cov["identifier"] = [{"system": SID["the-bhyt"], "value": card["MA_THE_BHYT"]}]
            if not any(i.get("system") == SID["the-bhyt"] for i in pat.get("identifier", [])):  # one on the Patient (VN Core's TheBHYT slice)
                pat.setdefault("identifier", []).append({"system": SID["the-bhyt"], "value": card["MA_THE_BHYT"]})
        cov["status"] = "active"
        if "MA_THE_BHYT" in card:
            cov["subscriberId"] = card["MA_THE_BHYT"]
        cov["beneficiary"] = patient_ref
        period = {}
        for name, key in (("GT_THE_TU", "start"), ("GT_THE_DEN", "end")):
            if name in card:
                period[key] = _card_date(card[name])
        if period:
            cov["period"] = period
        cov["payor"] = [{"display": PAYOR}]
        cov["order"] = i + 1
        refs.append(cov)
    return refs, set(lists)


def _diagnoses(fields: dict[str, str], ctx: _Context, patient_ref: dict, enc_url: str) -> tuple[list[tuple[str, dict, dict]], set[str]]:
    """(part key, Condition, Encounter.diagnosis entry) per diagnosis, and the fields used."""
    used: set[str] = set()
    out: list[tuple[str, dict, dict]] = []

    def condition(key: str, code: dict, use: str) -> None:
        cond = {"resourceType": "Condition",
                "category": [{"coding": [{"system": COND_CATEGORY, "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}]}],
                "code": code, "subject": patient_ref, "encounter": {"reference": enc_url}}
        d: dict[str, Any] = {"condition": {"reference": ctx.b.url(f"Condition/{key}")},
                             "use": copy.deepcopy(DIAGNOSIS_USE[use])}
        out.append((key, cond, d))

    main: dict[str, Any] = {}
    if fields.get("MA_BENH_CHINH") and _CODE.match(fields["MA_BENH_CHINH"]):
        main["coding"] = [{"system": ICD10, "code": fields["MA_BENH_CHINH"]}]
        used.add("MA_BENH_CHINH")
    if fields.get("CHAN_DOAN_RV"):
        main["text"] = fields["CHAN_DOAN_RV"]
        used.add("CHAN_DOAN_RV")
    if main:
        condition("dx/main", main, "CC")
    for name, system, prefix in (("MA_BENH_KT", ICD10, "dx/kt"), ("MA_BENH_YHCT", CS["t54-yhct"], "dx/yhct")):
        parts = _split(fields[name], lambda p: bool(_CODE.match(p))) if fields.get(name) else None
        if parts is None:
            continue
        used.add(name)
        for i, code in enumerate(parts):
            condition(f"{prefix}/{i}", {"coding": [{"system": system, "code": code}]}, "CM")
    if fields.get("CHAN_DOAN_VAO"):
        used.add("CHAN_DOAN_VAO")
        condition("dx/admission", {"text": fields["CHAN_DOAN_VAO"]}, "AD")
    return out, used


_ROW_SKELETON: dict[str, dict] = {
    "MedicationRequest": {"status": "completed", "intent": "order"},
    "Procedure": {"status": "completed"},
    "Observation": {"status": "final", "category": [national.LAB_CATEGORY]},
    "ClinicalImpression": {"status": "completed"},
    "DocumentReference": {"status": "current"},
    "Appointment": {},
}


_absent = national.absent


def _finish_row(table: str, res: dict, ctx: _Context, patient_ref: dict, enc_url: str, r: Rules,
                records: list[Record], standard: str) -> None:
    """Required elements and links that no field gives."""
    rtype = res["resourceType"]
    enc_ref = {"reference": enc_url}
    if rtype == "MedicationRequest":
        res.setdefault("medicationCodeableConcept", _absent())
        res["subject"], res["encounter"] = patient_ref, enc_ref
        res.setdefault("requester", _absent())  # VN Core requires the prescriber and who gives it
        res.setdefault("performer", _absent())
    elif rtype in ("Procedure", "ClinicalImpression"):
        res["subject"], res["encounter"] = patient_ref, enc_ref
    elif rtype == "Observation":
        res.setdefault("code", _absent())
        res["subject"], res["encounter"] = patient_ref, enc_ref
    elif rtype == "Appointment":
        res["status"] = "booked" if "start" in res else "proposed"
        if "start" in res:
            res["end"] = res["start"]
        res["participant"] = [{"actor": patient_ref, "status": "accepted"}]
        res["supportingInformation"] = [enc_ref]
    elif rtype == "DocumentReference":
        if table in r.documents:
            doc = r.documents[table]
            res["type"] = {"coding": [{"system": doc["system"], "code": doc["code"], "display": doc["display"]}]}
            title = doc["title"]
        else:
            res["type"] = {"coding": [{"system": CS["bhyt-table"], "code": table}], "text": table}
            title = table
        res["subject"] = patient_ref
        data = table_document(layout(standard, table), records) if table_exists(standard, table) else b""
        res["content"] = [{"attachment": {"contentType": "application/xml", "language": "vi", "title": title,
                                          "data": base64.b64encode(data).decode("ascii")}}]
        res["context"] = {"encounter": [enc_ref], **res.get("context", {})}


def _order(res: dict) -> dict:
    """resourceType and id first, then the rest as built (readable JSON)."""
    head = {k: res[k] for k in ("resourceType", "extension", "identifier") if k in res}
    return {**head, **{k: v for k, v in res.items() if k not in head}}


def to_fhir(episode: Episode) -> dict:
    """A transaction Bundle for one episode (values as read: trimmed)."""
    r = rules()
    std = episode.standard
    if std not in STANDARDS:
        raise UnmappableEpisode(f"unknown standard {std!r}")
    unknown = [t for t in episode.tables if not table_exists(std, t)]
    if unknown:
        raise UnmappableEpisode(f"standard {std} has no table {', '.join(unknown)}")
    trimmed = {t: [{k: v.strip() for k, v in rec.items()} for rec in recs] for t, recs in episode.tables.items()}
    tables = {t: [_record_fields(r, std, t, rec, f"{t} record {i}") for i, rec in enumerate(recs, 1)]
              for t, recs in trimmed.items()}
    head = (tables.get("XML1") or [{}])[0]
    ma_lk = head.get("MA_LK", "")
    if not ma_lk:
        raise UnmappableEpisode("XML1 has no MA_LK")
    facility = head.get("MA_CSKCB", "")
    canonical = json.dumps({"standard": std, "tables": trimmed}, ensure_ascii=False, sort_keys=True)
    b = EpisodeBundle(hashlib.sha256(canonical.encode("utf-8")).hexdigest(), SID["bhyt-part"], f"{facility}/{ma_lk}")
    ctx = _Context(b, facility)
    episode_ident = {"system": SID["bhyt-episode"], "value": f"{facility}/{ma_lk}"}
    enc_url = b.url("Encounter/encounter")

    # XML1: Patient, Encounter, cards, diagnoses, weight
    pat: dict[str, Any] = {"resourceType": "Patient"}
    enc: dict[str, Any] = {"resourceType": "Encounter"}
    roles: dict[str, dict] = {"home": enc, "Patient": pat}
    patient_ref = {"reference": b.url("Patient/patient")}
    covs, card_fields = _cards(head, ctx, patient_ref, pat)
    dxs, dx_fields = _diagnoses(head, ctx, patient_ref, enc_url)
    left = _apply_record("XML1", {k: v for k, v in head.items() if k != "MA_LK"}, roles, ctx, r,
                         skip=frozenset(card_fields | dx_fields))
    enc["identifier"] = [{"system": f"{SID['ma-lk']}/{facility}", "value": ma_lk}]
    enc.setdefault("extension", []).insert(0, {"url": EXT["bhyt-standard"], "valueCode": std})
    left.attach(enc)
    if pat.get("identifier"):
        pat["identifier"] += national.internal_ids(pat["identifier"])
    # Patient identity: citizen id, else the facility's patient id, else the first card
    match = None
    for ident in pat.get("identifier", []):
        if canonical_system(ident["system"]) == SID["cccd"] or (match is None and ident["system"].startswith(SID["ma-bn"] + "/")):
            match = (ident["system"], ident["value"])
    if match is None and pat.get("identifier"):
        match = (pat["identifier"][0]["system"], pat["identifier"][0]["value"])
    name = (pat.get("name") or [{}])[0]
    if "text" in name:
        words = name["text"].split()
        name["use"] = "official"
        if words:
            name["family"] = words[0]
            if words[1:]:
                name["given"] = words[1:]
    # What the core profiles require but the record does not say: data-absent-reason, not a guess
    if "name" not in pat:  # VN Core requires the name's text: that is what is absent
        pat["name"] = [{"_text": _absent()}]
    if "gender" not in pat:
        pat["_gender"] = _absent()
    if "start" not in enc.get("period", {}):
        enc.setdefault("period", {})["_start"] = _absent()
    if "telecom" in pat:
        pat["telecom"][0]["system"] = "phone"
    if "address" in pat:
        pat["address"][0]["use"] = "home"
    b.add("Patient", "patient", _order(pat), match)
    patient_ref = {"reference": b.refs[("Patient", "patient")]}
    for i, cov in enumerate(covs):
        cov["beneficiary"] = patient_ref
        cov.setdefault("identifier", []).append(dict(episode_ident))
        b.add_part("Coverage", f"card/{i}", cov)

    loai = head.get("MA_LOAI_KCB", "")
    cls = r.encounter_class[std].get(loai, "AMB")
    enc["status"] = "finished"
    enc["class"] = {"system": ACT_CODE, "code": cls, "display": CLASS_DISPLAY[cls]}
    enc["subject"] = patient_ref
    enc["diagnosis"] = [d for _, _, d in dxs]
    if not any(_code_of(d["use"], DIAG_ROLE) == "CC" for d in enc["diagnosis"]):
        # VN Core requires the main disease (slice ChiefComplaint_CDBenhChinh); the record gives none
        enc["diagnosis"].insert(0, {"condition": _absent(), "use": copy.deepcopy(DIAGNOSIS_USE["CC"])})
    enc.setdefault("identifier", []).append(dict(episode_ident))
    # the episode's key: a conditional update on MA_LK at the facility
    b.add_part("Encounter", "encounter", _order(enc), (f"{SID['ma-lk']}/{facility}", ma_lk))
    for key, cond, _ in dxs:
        cond["subject"] = patient_ref
        cond["identifier"] = [dict(episode_ident)]
        b.add_part("Condition", key, cond)
    if "weight" in roles:
        w = roles["weight"]
        w["valueQuantity"].update(unit="kg", system=UCUM, code="kg")
        obs = {"resourceType": "Observation", "identifier": [dict(episode_ident)], "status": "final",
               "category": [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}],
               "code": {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}]},
               "subject": patient_ref, "encounter": {"reference": enc_url}, **w}
        if "NGAY_RA" in head and valid_datetime12(head["NGAY_RA"]):
            obs["effectiveDateTime"] = dt(head["NGAY_RA"])
        b.add_part("Observation", "weight", obs)

    # The other tables: one resource per record (or per table kept whole)
    procedures: dict[str, str] = {}  # MA_DICH_VU -> first XML3 Procedure (for XML4's partOf)
    for table in sorted(tables, key=table_sort_key):
        if table == "XML1":
            continue
        recs = tables[table]
        if table in r.whole or table not in r.tables:
            if not recs:
                continue
            res = {"resourceType": "DocumentReference", "identifier": [dict(episode_ident)], "status": "current"}
            _finish_row(table, res, ctx, patient_ref, enc_url, r, trimmed[table], std)
            b.add_part("DocumentReference", table, res)
            continue
        home_type = r.tables[table][0]
        single = layout(std, table).single if table_exists(std, table) else False
        for i, fields in enumerate(recs, 1):
            res: dict[str, Any] = {"resourceType": home_type, **_ROW_SKELETON[home_type]}
            row_left = _apply_record(table, fields, {"home": res}, ctx, r)
            row_left.attach(res)
            res.setdefault("identifier", []).append(dict(episode_ident))
            _finish_row(table, res, ctx, patient_ref, enc_url, r, [trimmed[table][i - 1]], std)
            if table == "XML4":  # VN Core's laboratory result: the order and the service it is part of
                res["basedOn"] = [_absent()]
                res["partOf"] = [{"reference": procedures[fields["MA_DICH_VU"]]} if fields.get("MA_DICH_VU") in procedures else _absent()]
            key = table if single else f"{table}/{i}"
            ref = b.add_part(home_type, key, _order(res))
            if table == "XML3" and fields.get("MA_DICH_VU"):
                procedures.setdefault(fields["MA_DICH_VU"], ref)
    return b.bundle()


# ----------------------------------------------------------------------------- back

def _ext(res: dict | None, name: str) -> dict | None:
    return next((e for e in (res or {}).get("extension", []) if e.get("url") == EXT[name]), None)


def _leftovers(res: dict) -> tuple[dict[str, str], set[str]]:
    """Fields kept as text or amounts, and the names of the empty ones."""
    out: dict[str, str] = {}
    for name in ("bhyt-fields", "bhyt-amounts"):
        for sub in (_ext(res, name) or {}).get("extension", []):
            if "valueString" in sub:
                out[sub["url"]] = sub["valueString"]
            elif "valueMoney" in sub:
                out[sub["url"]] = _rendered(sub["valueMoney"].get("_value")) or _decimal_text(sub["valueMoney"].get("value")) or ""
            elif "valueDecimal" in sub:
                out[sub["url"]] = _decimal_text(sub["valueDecimal"]) or ""
    empty = _ext(res, "bhyt-empty")
    return out, set((empty or {}).get("valueString", "").split())


def _read_rule(rule: Rule, roles: dict[str, dict | None], ix: BundleIndex, ctx: _Context) -> str | None:
    target = roles.get(rule.role)
    if target is None:
        return None
    loc = _locate(target, rule.path, ctx, create=False)
    if loc is None:
        return None
    return converter(rule.converter).get(loc[0], loc[1], ix)


def _read_record(table: str, names: list[str], roles: dict[str, dict | None], ix: BundleIndex, ctx: _Context,
                 extra: dict[str, str], r: Rules) -> dict[str, str]:
    """130-named fields of one record, in ``names`` order, then fields no standard knows."""
    home = roles["home"] or {}
    kept, empty = _leftovers(home)
    kept.update(extra)
    table_rules = r.tables.get(table, ("", {}))[1]
    out: dict[str, str] = {}
    for name in names:
        value = None
        if name in table_rules:
            value = _read_rule(table_rules[name], roles, ix, ctx)
        if value is None:
            value = kept.get(name)
        if value is None and name in empty:
            value = ""
        if value is not None:
            out[name] = value
    known = _known(table)
    for name, value in kept.items():
        if name not in known and name not in out:
            out[name] = value
    for name in empty:
        if name not in known and name not in out:
            out[name] = ""
    return out


def _card_fields(covs: list[dict], ix: BundleIndex) -> dict[str, str]:
    lists: dict[str, list[str]] = {n: [] for n in CARD_FIELDS}
    for cov in sorted(covs, key=lambda c: c.get("order", 0)):
        card = next((i.get("value") for i in cov.get("identifier", []) if canonical_system(i.get("system")) == SID["the-bhyt"]), None)
        if card is not None:
            lists["MA_THE_BHYT"].append(card)
        reg = _ext(cov, "t54-registered-facility")
        if reg is not None:
            org = ix.get(reg.get("valueReference")) or {}
            code = next((i.get("value") for i in org.get("identifier", []) if canonical_system(i.get("system")) == SID["ma-cskcb"]), None)
            if code is not None:
                lists["MA_DKBD"].append(code)
        period = cov.get("period", {})
        for key, name in (("start", "GT_THE_TU"), ("end", "GT_THE_DEN")):
            if key in period:
                lists[name].append(undt(period[key]) if "T" in period[key] else undate8(period[key]))
    return {n: ";".join(v) for n, v in lists.items() if v}


def _code_of(concept: dict | None, system: str) -> str | None:
    return next((c.get("code") for c in (concept or {}).get("coding", []) if c.get("system") == system), None)


def _diagnosis_fields(enc: dict, ix: BundleIndex) -> dict[str, str]:
    out: dict[str, str] = {}
    kt: list[str] = []
    yhct: list[str] = []
    for d in enc.get("diagnosis", []):
        if "reference" not in (d.get("condition") or {}):
            continue  # the main disease the record did not give (data-absent-reason)
        cond = ix.get(d.get("condition")) or {}
        use = _code_of(d.get("use"), DIAG_ROLE)
        code = cond.get("code") or {}
        if use == "AD":
            if "text" in code:
                out["CHAN_DOAN_VAO"] = code["text"]
        elif use in MAIN_DIAGNOSIS_USES:
            icd = _code_of(code, ICD10)
            if icd is not None:
                out["MA_BENH_CHINH"] = icd
            if "text" in code:
                out["CHAN_DOAN_RV"] = code["text"]
        elif _code_of(code, CS["t54-yhct"]) is not None:
            yhct.append(_code_of(code, CS["t54-yhct"]) or "")
        elif _code_of(code, ICD10) is not None:
            kt.append(_code_of(code, ICD10) or "")
    if kt:
        out["MA_BENH_KT"] = ";".join(kt)
    if yhct:
        out["MA_BENH_YHCT"] = ";".join(yhct)
    return out


def _part_key(res: dict, prefix: str) -> str | None:
    for ident in res.get("identifier", []):
        if ident.get("system") == SID["bhyt-part"] and str(ident.get("value", "")).startswith(prefix):
            return ident["value"][len(prefix):]
    return None


def from_fhir(bundle: dict, standard: str | None = None) -> Episode:
    """The episode a Bundle written by :func:`to_fhir` was made from, in its own standard or in
    ``standard`` (fields the target standard does not have are left out; 4210 names and their 130
    counterparts, see ``aliases`` in rules.json, are translated)."""
    r = rules()
    ix = BundleIndex(bundle)
    encs = [e for e in ix.by_type.get("Encounter", []) if _ext(e, "bhyt-standard")]
    if len(encs) != 1:
        raise ValueError(f"the bundle has {len(encs)} Encounters made from insurance tables; expected one")
    enc = encs[0]
    source = (_ext(enc, "bhyt-standard") or {}).get("valueCode")
    target = standard or source
    if target not in STANDARDS:
        raise ValueError(f"unknown standard {target!r}")
    episode_id = next((i.get("value") for i in enc.get("identifier", []) if i.get("system") == SID["bhyt-episode"]), None)
    if episode_id is None:
        raise ValueError("the Encounter has no bhyt-episode identifier")
    facility, _, ma_lk = episode_id.partition("/")
    ctx = _Context(EpisodeBundle("", SID["bhyt-part"], episode_id), facility)
    prefix = f"{episode_id}/"
    parts: dict[str, dict] = {}
    for rtype, items in ix.by_type.items():
        for res in items:
            key = _part_key(res, prefix)
            if key is not None:
                parts[key] = res
    ma_lk_ident = next((i for i in enc.get("identifier", []) if i.get("system") == f"{SID['ma-lk']}/{facility}"), None)

    tables: dict[str, list[Record]] = {}
    for table, lay in layouts(target).items():
        names = [r.canonical(target, table, n) for n in lay.field_names]
        records: list[dict[str, str]] = []
        if table == "XML1":
            patient = copy.deepcopy(ix.get(enc.get("subject")))
            if patient is not None:
                national.upgrade(patient)  # bundles written before the mappings followed VN Core's extensions
            roles = {"home": enc, "Patient": patient, "weight": parts.get("weight")}
            extra = {}
            if ma_lk_ident is not None:
                extra["MA_LK"] = ma_lk_ident.get("value", ma_lk)
            extra.update(_card_fields([p for k, p in parts.items() if k.startswith("card/")], ix))
            extra.update(_diagnosis_fields(enc, ix))
            records.append(_read_record(table, names, roles, ix, ctx, extra, r))
        elif table in r.whole or table not in r.tables:
            doc = parts.get(table)
            if doc is not None:
                data = base64.b64decode(doc["content"][0]["attachment"].get("data", ""))
                try:
                    raw = parse_table(table, data)
                except Exception as e:  # the reader's table errors
                    raise ValueError(f"{table}: the kept document cannot be read: {e}") from None
                records = [_record_fields(r, source, table, rec, table) for rec in raw]
        else:
            rows = sorted(((int(k.rsplit("/", 1)[1]) if "/" in k else 0, p) for k, p in parts.items()
                           if k == table or k.startswith(table + "/")), key=lambda x: x[0])
            for _, res in rows:
                records.append(_read_record(table, names, {"home": res}, ix, ctx, {}, r))
        if records:
            tables[table] = [_own_names(r, target, table, rec) for rec in records]
    return Episode(ma_lk=(tables.get("XML1") or [{}])[0].get("MA_LK", ma_lk), standard=target, tables=tables)


@lru_cache(maxsize=None)
def _known(table: str) -> frozenset[str]:
    """130 names of every field some standard has in this table."""
    r = rules()
    return frozenset({r.canonical(s, table, n) for s in STANDARDS if table_exists(s, table) for n in layout(s, table).field_names})


def _own_names(r: Rules, standard: str, table: str, record: dict[str, str]) -> Record:
    """130 names -> the standard's own names; fields the standard lacks (but another has) left out,
    fields no standard knows kept."""
    lay = layout(standard, table)
    known = _known(table)
    out: Record = {}
    for name, value in record.items():
        own = r.own(standard, table, name)
        if lay.field(own) is not None or name not in known:
            out[own] = value
    return out
