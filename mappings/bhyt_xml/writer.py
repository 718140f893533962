"""Writer of GIAMDINHHS envelopes.

Each table is written as a complete UTF-8 XML document (with declaration) in the layout's element
names and field order, then base64-encoded into NOIDUNGFILE.  Fields that are not in the layout
(unknown to both standards) are written after the layout's fields, in the order they came.

Standard override (``standard="130"`` or ``"4210"``): each table is written with the target
standard's layout.  No field is renamed or converted (e.g. 4210 ``MA_THE`` is *not* turned into 130
``MA_THE_BHYT``: that is a semantic mapping, not a layout matter).  A field, or a whole table, that
the target standard does not have raises ``ValueError`` listing them — unless ``drop_missing=True``,
in which case they are left out.  Fields that neither standard knows are kept either way.

Values are written as text with ``& < >`` escaped and CR as ``&#13;`` so that they read back exactly;
characters XML 1.0 cannot carry raise ``ValueError``.  ``CHUKYDONVI`` is copied verbatim from the
header when present (note: a re-written envelope no longer matches that signature's digest).
"""
from __future__ import annotations

import base64
import io
import re
from dataclasses import replace
from typing import BinaryIO, Iterable

from .envelope import BrokenEpisode, Episode, Header, Record
from .layouts import STANDARDS, TableLayout, layout, layouts, table_exists, table_sort_key

_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})

XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'


def _text(value: str, where: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where}: value must be str, got {type(value).__name__}")
    m = _ILLEGAL.search(value)
    if m:
        raise ValueError(f"{where}: character U+{ord(m.group()):04X} cannot be written in XML 1.0")
    return value.translate(_ESC)


def _known_anywhere(table: str, name: str) -> bool:
    return any(table_exists(s, table) and layout(s, table).field(name) for s in STANDARDS)


def _ordered_fields(lay: TableLayout, record: Record, drop_missing: bool, where: str) -> list[str]:
    names = [n for n in lay.field_names if n in record]
    extra = [n for n in record if lay.field(n) is None]
    missing = [n for n in extra if _known_anywhere(lay.table, n)]
    if missing and not drop_missing:
        raise ValueError(f"{where}: fields not in standard {lay.standard} {lay.table}: {', '.join(missing)}"
                         " (pass drop_missing=True to leave them out)")
    return names + [n for n in extra if n not in missing]


def table_document(lay: TableLayout, records: list[Record], *, drop_missing: bool = False,
                   where: str = "") -> bytes:
    """A complete XML document for one table."""
    where = where or lay.table
    out = [XML_DECL, f"<{lay.root}>"]
    if lay.single:
        if len(records) > 1:
            raise ValueError(f"{where}: {lay.table} holds one record, got {len(records)}")
    else:
        out.append(f"<{lay.list}>")
    for i, r in enumerate(records, 1):
        w = f"{where} record {i}"
        if not lay.single:
            out.append(f"<{lay.record}>")
        for n in _ordered_fields(lay, r, drop_missing, w):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", n):
                raise ValueError(f"{w}: {n!r} is not a usable element name")
            out.append(f"<{n}>{_text(r[n], f'{w} {n}')}</{n}>")
        if not lay.single:
            out.append(f"</{lay.record}>")
    if not lay.single:
        out.append(f"</{lay.list}>")
    out.append(f"</{lay.root}>")
    return "".join(out).encode("utf-8")


def write_envelope(header: Header, episodes: Iterable[Episode], standard: str | None = None, *,
                   drop_missing: bool = False) -> bytes:
    """The envelope bytes (UTF-8, with declaration).  ``standard``: None keeps each episode's own."""
    episodes = list(episodes)
    count = header.soluonghoso if header.soluonghoso is not None else str(len(episodes))
    buf = io.BytesIO()
    with EnvelopeWriter(buf, replace(header, soluonghoso=count), standard, drop_missing=drop_missing) as w:
        for ep in episodes:
            w.write(ep)
    return buf.getvalue()


def header_xml(header: Header) -> str:
    """THONGTINDONVI and the start of THONGTINHOSO up to (not including) SOLUONGHOSO."""
    out = ["<THONGTINDONVI>"]
    if header.macskcb is not None:
        out.append(f"<MACSKCB>{_text(header.macskcb, 'MACSKCB')}</MACSKCB>")
    out.append("</THONGTINDONVI><THONGTINHOSO>")
    if header.ngaylap is not None:
        out.append(f"<NGAYLAP>{_text(header.ngaylap, 'NGAYLAP')}</NGAYLAP>")
    return "".join(out)


# --------------------------------------------------------------------------- streaming

_COUNT_SLOT = 20  # blanks reserved for SOLUONGHOSO when the count is only known at the end


def _hoso_xml(ep: Episode, i: int, standard: str | None, drop_missing: bool) -> str:
    """One <HOSO> element, exactly as write_envelope writes it."""
    if isinstance(ep, BrokenEpisode) or not isinstance(ep, Episode):
        raise TypeError(f"HOSO {i}: only Episode can be written, got {type(ep).__name__}")
    target = standard or ep.standard
    tables = layouts(target)
    out = ["<HOSO>"]
    for t in sorted(ep.tables, key=table_sort_key):
        where = f"HOSO {i} ({ep.ma_lk}) {t}"
        if t not in tables:
            if drop_missing:
                continue
            raise ValueError(f"{where}: no such table in standard {target}"
                             " (pass drop_missing=True to leave it out)")
        doc = table_document(tables[t], ep.tables[t], drop_missing=drop_missing, where=where)
        out.append(f"<FILEHOSO><LOAIHOSO>{t}</LOAIHOSO><NOIDUNGFILE>"
                   f"{base64.b64encode(doc).decode('ascii')}</NOIDUNGFILE></FILEHOSO>")
    out.append("</HOSO>\n")
    return "".join(out)


class EnvelopeWriter:
    """Streaming counterpart of ``write_envelope``: writes HOSO by HOSO to a binary file, so memory
    stays bounded by one HOSO whatever the envelope size (bulk exports, the 100 MB benchmark).

    With ``header.soluonghoso`` set the bytes equal ``write_envelope``'s.  Without it the count is only
    known at the end: a slot of blanks is reserved and filled in by ``close()`` (the reader trims the
    blanks), which needs a seekable file.  ``close()`` returns the number of HOSO written.
    """

    def __init__(self, fp: BinaryIO, header: Header, standard: str | None = None, *,
                 drop_missing: bool = False):
        if standard is not None and standard not in STANDARDS:
            raise ValueError(f"unknown standard {standard!r}")
        self._fp = fp
        self._header = header
        self._standard = standard
        self._drop = drop_missing
        self.count = 0
        self._slot: int | None = None
        self._closed = False
        if header.soluonghoso is None and not fp.seekable():
            raise ValueError("SOLUONGHOSO unknown and the file is not seekable: set header.soluonghoso")
        head = [XML_DECL,
                '<GIAMDINHHS xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n',
                header_xml(header), "<SOLUONGHOSO>"]
        fp.write("".join(head).encode("utf-8"))
        if header.soluonghoso is None:
            self._slot = fp.tell()
            fp.write(b" " * _COUNT_SLOT)
        else:
            fp.write(_text(header.soluonghoso, "SOLUONGHOSO").encode("utf-8"))
        fp.write(b"</SOLUONGHOSO><DANHSACHHOSO>")

    def write(self, ep: Episode) -> int:
        """Append one episode; returns the bytes written."""
        if self._closed:
            raise ValueError("envelope already closed")
        data = _hoso_xml(ep, self.count + 1, self._standard, self._drop).encode("utf-8")
        self._fp.write(data)
        self.count += 1
        return len(data)

    def close(self) -> int:
        if self._closed:
            return self.count
        self._closed = True
        tail = "</DANHSACHHOSO></THONGTINHOSO>"
        if self._header.chukydonvi is not None:
            tail += self._header.chukydonvi
        self._fp.write((tail + "</GIAMDINHHS>\n").encode("utf-8"))
        if self._slot is not None:
            end = self._fp.tell()
            self._fp.seek(self._slot)
            self._fp.write(str(self.count).ljust(_COUNT_SLOT).encode("ascii"))
            self._fp.seek(end)
        return self.count

    def __enter__(self) -> "EnvelopeWriter":
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        if exc_type is None:
            self.close()


def write_envelope_to(fp: BinaryIO, header: Header, episodes: Iterable[Episode], standard: str | None = None, *,
                      drop_missing: bool = False) -> int:
    """``write_envelope`` streamed into ``fp`` episode by episode; returns the number of HOSO written."""
    with EnvelopeWriter(fp, header, standard, drop_missing=drop_missing) as w:
        for ep in episodes:
            w.write(ep)
    return w.count
