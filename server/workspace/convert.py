"""What the integration tools page does with a pasted or uploaded file: tell its kind, check it,
map it to FHIR, and import it.

Nothing here checks or maps by itself: a transfer record goes through the same reading,
validation and mapping as ``$import-transfer54`` (:mod:`server.fhir.operations.transfer54`,
:mod:`mappings.transfer54`), an insurance envelope through the same as ``$import-bhyt`` and
``lienthong bhyt to-fhir`` (:mod:`server.fhir.operations.bhyt`,
:func:`server.imports.episodes.insurance_bundle`). This module only arranges their answers so
a page can put every problem next to its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mappings.bhyt_xml.envelope import Episode
from mappings.transfer54 import BY_NAME, FIELDS, Field, validate
from mappings.transfer54.xml_form import ROOT as TRANSFER_ROOT

from ..auth.access import INTERACTION_LETTER, Access
from ..fhir.operations.bhyt import import_bhyt, read_episodes
from ..fhir.operations.transfer54 import import_transfer54, read_record
from ..fhir.outcome import FhirError
from ..fhir.repository import Repository
from ..imports.episodes import EpisodeFailed, insurance_bundle, transfer_bundle

ENVELOPE_ROOT = "GIAMDINHHS"
Kind = Literal["transfer54-json", "transfer54-xml", "bhyt"]

_BOM = b"\xef\xbb\xbf"
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
#: "XML2 record 3 MA_THUOC: reason", "XML1: missing …", "XML1 record 1: A, B: not in …"
_WHERE = re.compile(r"^(?P<table>XML\w+)(?: record (?P<n>\d+))?(?: (?P<field>[A-Za-z0-9_]+))?: (?P<reason>.*)$", re.S)


class NotUsable(Exception):
    """Input this page cannot check: not JSON or XML, or not one of the two kinds it knows."""


def detect(data: bytes) -> Kind:
    """The kind of ``data`` from its content: a JSON object is a transfer record, XML is told
    apart by its root element (``CHI_TIEU_GIAYCHUYENTUYEN`` or ``GIAMDINHHS``)."""
    text = data.removeprefix(_BOM).lstrip()
    if not text:
        raise NotUsable("Nothing was given: paste a record or choose a file.")
    if text[:1] in (b"{", b"["):
        return "transfer54-json"
    if text[:1] != b"<":
        raise NotUsable("This is neither JSON nor XML: paste a transfer record (JSON or XML) or a GIAMDINHHS envelope.")
    found = _FIRST_ELEMENT.search(_COMMENT.sub(b"", text[:8192]))
    root = found.group(2).decode("ascii") if found else ""
    if root == ENVELOPE_ROOT:
        return "bhyt"
    if root == TRANSFER_ROOT:
        return "transfer54-xml"
    shown = f"<{root}>" if root else "no element"
    raise NotUsable(f"The XML's root element is {shown}: expected <{TRANSFER_ROOT}> (a transfer record) or <{ENVELOPE_ROOT}> (an insurance envelope).")


# ----------------------------------------------------------------------------- transfer record


@dataclass
class FieldCheck:
    """One of the 54 fields: the value given (``None``: absent) and its problems."""

    field: Field
    value: str | None
    problems: list[str]


@dataclass
class TransferCheck:
    form: Kind
    fields: list[FieldCheck]
    #: problems of no one of the 54 fields (the record itself, names that are not fields)
    other: list[str]
    bundle: dict[str, Any] | None
    kind: str = "transfer54"

    @property
    def ok(self) -> bool:
        return self.bundle is not None

    @property
    def problem_count(self) -> int:
        return len(self.other) + sum(len(f.problems) for f in self.fields)


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else repr(value)


def _check_transfer(data: bytes, form: Kind) -> TransferCheck:
    try:
        record = read_record(data, xml=form == "transfer54-xml")
    except FhirError as exc:
        raise NotUsable(str(exc)) from None
    if isinstance(record, dict) and "resourceType" in record:
        raise NotUsable(f"This is a FHIR {record.get('resourceType')!s} resource, not a transfer record or an insurance envelope.")
    by_field: dict[str, list[str]] = {}
    other: list[str] = []
    for p in validate(record):
        if p.field in BY_NAME:
            by_field.setdefault(p.field, []).append(p.reason)
        else:
            other.append(p.reason)
    values = record if isinstance(record, dict) else {}
    fields = [FieldCheck(f, _shown(values.get(f.name)), by_field.get(f.name, [])) for f in FIELDS]
    bundle = None
    if not other and not by_field:
        try:
            bundle = transfer_bundle(record)
        except EpisodeFailed as exc:
            other.extend(exc.reasons)
    return TransferCheck(form, fields, other, bundle)


# ----------------------------------------------------------------------------- insurance envelope


@dataclass(frozen=True)
class Finding:
    """One problem of an episode, located as precisely as its message says."""

    table: str | None
    record: int | None
    field: str | None
    reason: str
    warning: bool = False


@dataclass
class EpisodeCheck:
    position: int
    ma_lk: str | None
    standard: str | None
    findings: list[Finding]
    bundle: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.bundle is not None


@dataclass
class EnvelopeCheck:
    episodes: list[EpisodeCheck] = field(default_factory=list)
    kind: str = "bhyt"

    @property
    def ok(self) -> bool:
        """Something in it can be imported."""
        return any(e.ok for e in self.episodes)

    @property
    def bundles(self) -> list[dict[str, Any]]:
        return [e.bundle for e in self.episodes if e.bundle is not None]


def locate(message: str, *, warning: bool = False) -> Finding:
    """A problem message of :mod:`mappings.bhyt_xml.values` split into table, record, field."""
    m = _WHERE.match(message)
    if m is None:
        return Finding(None, None, None, message, warning)
    n = m.group("n")
    return Finding(m.group("table"), int(n) if n else None, m.group("field"), m.group("reason"), warning)


def _check_envelope(data: bytes) -> EnvelopeCheck:
    try:
        results = read_episodes(data)
    except FhirError as exc:
        raise NotUsable(str(exc)) from None
    out = EnvelopeCheck()
    for result in results:
        warnings: list[str] = []
        standard = result.standard if isinstance(result, Episode) else None
        try:
            bundle: dict[str, Any] | None = insurance_bundle(result, warnings=warnings)
            findings = [locate(w, warning=True) for w in warnings]
        except EpisodeFailed as exc:
            bundle, findings = None, [locate(r) for r in exc.reasons]
        out.episodes.append(EpisodeCheck(result.position, result.ma_lk, standard, findings, bundle))
    if not out.episodes:
        raise NotUsable("The envelope holds no HOSO (no episode to check).")
    return out


Checked = TransferCheck | EnvelopeCheck


def check(data: bytes) -> Checked:
    """Every problem of ``data`` and, where there are none, the FHIR it maps to."""
    kind = detect(data)
    return _check_envelope(data) if kind == "bhyt" else _check_transfer(data, kind)


# ----------------------------------------------------------------------------- import


def bundles_of(checked: Checked) -> list[dict[str, Any]]:
    if isinstance(checked, TransferCheck):
        return [checked.bundle] if checked.bundle is not None else []
    return checked.bundles


def may_import(access: Access, checked: Checked) -> bool:
    """Whether the token may write what the bundles hold: each entry's interaction on its type
    (a conditional PUT creates or updates, so either is enough, as for the FHIR API)."""
    wanted = {"POST": ("create",), "PUT": ("create", "update"), "DELETE": ("delete",)}
    needs: set[tuple[str, tuple[str, ...]]] = set()
    for bundle in bundles_of(checked):
        for entry in bundle.get("entry", []):
            method = str(entry.get("request", {}).get("method", "POST")).upper()
            needs.add((entry.get("resource", {}).get("resourceType") or str(entry.get("request", {}).get("url", "")).split("?")[0],
                       wanted.get(method, ("create",))))
    if not needs:
        return False
    return all(any(access.can(t, INTERACTION_LETTER[i]) for i in interactions) for t, interactions in needs)


async def import_checked(repo: Repository, data: bytes, checked: Checked) -> list[dict[str, Any]]:
    """Store it through the operation's own function: transaction-response entries for a transfer
    record, one batch-response entry per HOSO for an envelope."""
    if isinstance(checked, EnvelopeCheck):
        return await import_bhyt(repo, data)
    record = read_record(data, xml=checked.form == "transfer54-xml")
    return await import_transfer54(repo, record, prefer_return="minimal")
