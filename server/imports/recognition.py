"""What a file is, from its first bytes: an insurance envelope, a transfer record, or neither.

Extensions lie (``.txt`` envelopes, ``.xml`` exports that are HTML error pages), so only content
counts. XML is recognised by its root element (found by skipping the declaration, comments and
processing instructions, never by parsing the whole file, so a 100 MB envelope costs one read of
its head); JSON by being one object that carries ``MA_LK`` and is not a FHIR resource.
Each kind names why a file was skipped, so the report can say it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mappings.transfer54.xml_form import MAX_BYTES as TRANSFER_MAX_BYTES

from .. import jsonio

HEAD = 64 * 1024
ENVELOPE_ROOT = "GIAMDINHHS"
TRANSFER_ROOT = "CHI_TIEU_GIAYCHUYENTUYEN"
_BOM = b"\xef\xbb\xbf"
# declaration, comments, processing instructions and a DOCTYPE that may precede the root element
# (a DOCTYPE is only looked past: the reader then refuses the file, so it is reported, not skipped)
_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)", re.DOTALL)
_ROOT = re.compile(rb"<([A-Za-z_][A-Za-z0-9_.\-]*(?::[A-Za-z_][A-Za-z0-9_.\-]*)?)[\s/>]")


@dataclass(frozen=True, slots=True)
class Kind:
    """``envelope``, ``transfer54-json``, ``transfer54-xml`` or ``skip`` (with the reason)."""

    name: str
    reason: str = ""

    @property
    def skipped(self) -> bool:
        return self.name == "skip"


ENVELOPE = Kind("envelope")
TRANSFER_JSON = Kind("transfer54-json")
TRANSFER_XML = Kind("transfer54-xml")


def skip(reason: str) -> Kind:
    return Kind("skip", reason)


def recognise(path: Path) -> Kind:
    """The kind of the file at ``path`` (reads its head; a JSON candidate is read whole, ≤ 5 MiB)."""
    try:
        with path.open("rb") as f:
            head = f.read(HEAD)
    except OSError as exc:
        return skip(f"cannot read the file: {exc.strerror or exc}")
    return recognise_bytes(head, path)


def recognise_bytes(head: bytes, path: Path | None = None) -> Kind:
    """The kind of a file whose first bytes are ``head`` (``path`` lets JSON be read whole)."""
    data = head[len(_BOM):] if head.startswith(_BOM) else head
    stripped = data.lstrip()
    if not stripped:
        return skip("empty file")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return skip("UTF-16 text: envelopes and transfer records are read as UTF-8")
    if stripped.startswith(b"<"):
        return _xml_kind(stripped)
    if stripped.startswith(b"{"):
        return _json_kind(head, path)
    if stripped.startswith(b"["):
        return skip("JSON array: a transfer record is one JSON object")
    if b"\x00" in data[:4096]:
        return skip("binary file, neither XML nor JSON")
    return skip("neither XML nor JSON")


def _xml_kind(text: bytes) -> Kind:
    pos = 0
    while m := _PROLOG.match(text, pos):
        pos = m.end()
    rest = text[pos:].lstrip()
    m = _ROOT.match(rest)
    if m is None:
        return skip("XML whose root element cannot be found in the first 64 KiB")
    root = m.group(1).decode("ascii").rpartition(":")[2]
    if root == ENVELOPE_ROOT:
        return ENVELOPE
    if root == TRANSFER_ROOT:
        return TRANSFER_XML
    return skip(f"XML with root <{root}>: not an insurance envelope (<{ENVELOPE_ROOT}>) nor a transfer record (<{TRANSFER_ROOT}>)")


def _json_kind(head: bytes, path: Path | None) -> Kind:
    data = head
    if path is not None and len(head) >= HEAD:
        size = path.stat().st_size
        if size > TRANSFER_MAX_BYTES:
            return skip(f"JSON file of {size} bytes: too large for a transfer record (at most {TRANSFER_MAX_BYTES})")
        data = path.read_bytes()
    try:
        value = jsonio.loads(data[len(_BOM):] if data.startswith(_BOM) else data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return skip(f"not valid JSON: {exc}")
    if not isinstance(value, dict):
        return skip("JSON that is not an object")
    if "resourceType" in value:
        return skip(f"a FHIR {value.get('resourceType')} (JSON), not a transfer record")
    if "MA_LK" not in value:
        return skip("JSON object without MA_LK: not a transfer record")
    return TRANSFER_JSON
