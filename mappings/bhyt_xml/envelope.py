"""Streaming reader of GIAMDINHHS envelopes (insurance XML tables, standards 130, 3176 and 4210).

``read_envelope(source)`` returns an iterator of ``Episode`` / ``BrokenEpisode`` (one per HOSO, in
envelope order).  The envelope is fed to an expat parser in fixed-size chunks and every HOSO is
dropped as soon as it has been decoded, so memory stays bounded by the largest HOSO, whatever the
size of the file.  (We drive expat — the parser under ``xml.etree`` — directly: same streaming model as
``XMLPullParser``, plus handlers that make the parser itself refuse DOCTYPE/ENTITY and byte offsets
to keep the signature verbatim.)

A NOIDUNGFILE that holds its table as XML elements rather than base64 text (an export option of some
hospital software) is read all the same: the elements are written back out as the table document,
and the episode carries a note saying so (a warning in the import report).

Safety: DOCTYPE / ENTITY declarations are refused in the envelope (``UnsafeXMLError``, nothing is
read) and in every decoded table document (that HOSO becomes a ``BrokenEpisode``): the bytes are
scanned before parsing and the parser refuses them too.  Sizes are capped per decoded table and per
HOSO.  Nothing here touches the network (expat never fetches external entities, and we refuse them).
"""
from __future__ import annotations

import base64
import binascii
import os
import re
import xml.parsers.expat as expat
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import BinaryIO, Iterator, Union

from ..safe_xml import REFUSAL, UNSAFE_DECLARATION, hardened_parser
from .layouts import (
    STANDARDS,
    Shape,
    UnknownStandard,
    known_table,
    layouts,
    recognise_episode,
    table_sort_key,
)

CHUNK = 64 * 1024
MAX_TABLE_BYTES = 50 * 1024 * 1024  # one decoded NOIDUNGFILE document
MAX_HOSO_BYTES = 200 * 1024 * 1024  # all base64 text of one HOSO
MAX_HEADER_TEXT = 64 * 1024  # MACSKCB, NGAYLAP, SOLUONGHOSO, LOAIHOSO
MAX_SIGNATURE_BYTES = 16 * 1024 * 1024
_WINDOW = 1024 * 1024  # raw bytes kept behind the parser (to copy CHUKYDONVI verbatim)

_B64_WS = b" \t\r\n\f\v"
#: what a GIAMDINHHS holds; any other child is read past and reported (``EnvelopeReader.warnings``)
ENVELOPE_PARTS = frozenset({"THONGTINDONVI", "THONGTINHOSO", "CHUKYDONVI"})
_MAX_UNKNOWN_NAMES = 20  # distinct unknown names counted one by one; the rest together
_LOAI = re.compile(r"^\s*xml\s*0*(\d+)\s*$", re.IGNORECASE)

Record = dict[str, str]


class EnvelopeError(ValueError):
    """The envelope itself cannot be read (not a GIAMDINHHS, malformed XML, …)."""


class UnsafeXMLError(EnvelopeError):
    """A DOCTYPE or ENTITY declaration was found."""


class _TableError(Exception):
    pass


@dataclass
class Header:
    macskcb: str | None = None
    ngaylap: str | None = None
    soluonghoso: str | None = None
    chukydonvi: str | None = None  # the whole <CHUKYDONVI …>…</CHUKYDONVI> element, verbatim


@dataclass
class Episode:
    ma_lk: str
    standard: str  # "130" | "3176" | "4210"
    tables: dict[str, list[Record]]  # "XML1" → records (single-record tables: a list of one)
    position: int = field(default=0, compare=False)  # 1-based place in the envelope (0: not read)
    #: byte offsets [start, end) of the <HOSO> element in the source (None: not read from a file);
    #: lets a failed episode be copied byte for byte (quarantine) without keeping it in memory
    span: tuple[int, int] | None = field(default=None, compare=False)
    #: what the reader passed over, for the import report (e.g. a table document's own signature)
    notes: list[str] = field(default_factory=list, compare=False)


@dataclass
class BrokenEpisode:
    position: int
    ma_lk: str | None
    reasons: list[str]
    span: tuple[int, int] | None = field(default=None, compare=False)  # as Episode.span


Result = Union[Episode, BrokenEpisode]


@dataclass
class RawHoso:
    """One HOSO as the envelope holds it, not yet decoded: its tables' LOAIHOSO and base64 text.

    What ``read_envelope(…, decode=False)`` yields, so the decoding and parsing of the tables
    (:func:`finish_hoso`) can run in another process."""
    position: int
    span: tuple[int, int] | None
    files: list[tuple[str, str]]  # (LOAIHOSO, base64 text)
    reasons: list[str]
    max_table_bytes: int = MAX_TABLE_BYTES
    #: not known before decoding (for the report of a worker that died)
    ma_lk: str | None = None
    #: what the reader passed over or accepted (e.g. a table held as inline XML), for Episode.notes
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- safe expat

def _safe_parser() -> expat.XMLParserType:
    return hardened_parser(UnsafeXMLError)


def normalise_table_name(loaihoso: str) -> str | None:
    """'Xml2', ' xml02 ', 'XML2' → 'XML2'; None when not of that shape."""
    m = _LOAI.match(loaihoso)
    return f"XML{int(m.group(1))}" if m else None


# --------------------------------------------------------------------------- one table document

@lru_cache(maxsize=None)
def _shapes(table: str) -> dict[str, Shape]:
    """Root element → shape, for every shape some standard writes or reads this table in."""
    out: dict[str, Shape] = {}
    for std in STANDARDS:
        lay = layouts(std).get(table)
        for shape in lay.shapes if lay else ():
            out.setdefault(shape.root, shape)
    return out


@lru_cache(maxsize=None)
def keyed_by_episode(table: str) -> bool:
    """Whether the table's records carry MA_LK (XML12, the medical assessment, does not)."""
    return any("MA_LK" in layouts(s)[table].field_names for s in STANDARDS if table in layouts(s))


#: an element a table document may carry beside its list: the check-in service's signature (XML0)
SIGNATURE = "CHUKYDONVI"


def parse_table(table: str, document: bytes) -> list[Record]:
    """Records of one decoded NOIDUNGFILE document (raises _TableError with a reason)."""
    return read_table(table, document)[0]


def read_table(table: str, document: bytes) -> tuple[list[Record], list[str]]:
    """Records of one decoded NOIDUNGFILE document, and notes on what was passed over: a
    ``<CHUKYDONVI>`` beside the list (XML0 as the check-in service sends it) is not kept, since a
    signature cannot stay valid once the values are mapped.  Raises _TableError with a reason."""
    notes: list[str] = []
    if not document.strip():
        return [], notes  # empty NOIDUNGFILE: an empty table
    if UNSAFE_DECLARATION.search(document):
        raise _TableError(REFUSAL)
    shapes = _shapes(table)
    records: list[Record] = []
    errors: list[str] = []
    stack: list[str] = []
    state: dict = {"shape": None, "record": None, "field": None, "text": [], "skip": None}

    def start(name, _attrs):
        depth = len(stack)
        stack.append(name)
        if state["skip"] is not None:
            return
        if depth == 0:
            shape = shapes.get(name)
            if shape is None:
                raise _TableError(f"root element <{name}> is not a {table} table "
                                  f"(expected {' or '.join(sorted(shapes))})")
            state["shape"] = shape
            return
        shape = state["shape"]
        single = shape.list is None
        field_depth = 1 if single else 3
        if not single and depth == 1 and name == SIGNATURE:
            state["skip"] = depth
            notes.append(f"{table}: its own <{SIGNATURE}> signature was not kept (it cannot stay valid once mapped)")
        elif not single and depth == 1:
            if name != shape.list:
                raise _TableError(f"<{name}> found where <{shape.list}> was expected")
        elif not single and depth == 2:
            if name != shape.record:
                raise _TableError(f"<{name}> found where <{shape.record}> was expected")
            state["record"] = {}
        elif depth == field_depth:
            if single and state["record"] is None:
                state["record"] = {}
            if name in state["record"]:
                raise _TableError(f"field {name} appears twice in one record")
            state["field"] = name
            state["text"] = []
        else:
            raise _TableError(f"unexpected element <{name}> inside field {stack[-2]}")

    def end(name):
        stack.pop()
        depth = len(stack)
        if state["skip"] is not None:
            if depth == state["skip"]:
                state["skip"] = None
            return
        single = state["shape"].list is None
        field_depth = 1 if single else 3
        if depth == field_depth and state["field"] == name:
            state["record"][name] = "".join(state["text"]).strip()
            state["field"] = None
        elif not single and depth == 2:
            records.append(state["record"])
            state["record"] = None
        elif depth == 0 and single and state["record"] is not None:
            records.append(state["record"])

    def data(text):
        if state["skip"] is not None:
            return
        if state["field"] is not None:
            state["text"].append(text)
        elif text.strip():
            errors.append(f"stray text {text.strip()[:40]!r} outside any field")

    p = _safe_parser()
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = data
    try:
        p.Parse(document, True)
    except UnsafeXMLError as e:
        raise _TableError(str(e)) from None
    except expat.ExpatError as e:
        raise _TableError(f"malformed XML: {e}") from None
    if errors:
        raise _TableError(errors[0])
    return records, notes


def decode_base64(parts: list[str]) -> bytes:
    text = "".join(parts).encode("ascii", "replace").translate(None, _B64_WS)
    if len(text) % 4:
        text += b"=" * (-len(text) % 4)  # some producers drop the padding
    return base64.b64decode(text, validate=True)


# --------------------------------------------------------------------------- one HOSO

class _Hoso:
    __slots__ = ("position", "start", "files", "size", "reasons", "loai", "content", "in_loai", "in_content",
                 "content_depth", "inline", "notes")

    def __init__(self, position: int, start: int = 0):
        self.position = position
        self.start = start
        self.files: list[tuple[str, list[str]]] = []
        self.size = 0
        self.reasons: list[str] = []
        self.loai: list[str] = []
        self.content: list[str] = []
        self.in_loai = False
        self.in_content = False
        self.content_depth = 0  # depth of the open NOIDUNGFILE (elements below it: inline XML)
        self.inline = False  # the current NOIDUNGFILE holds XML elements, not base64
        self.notes: list[str] = []


def finish_hoso(raw: RawHoso) -> Result:
    """Decode and parse the tables of a HOSO read with ``decode=False``."""
    h = _Hoso(raw.position)
    h.files = [(loai, [text]) for loai, text in raw.files]
    h.reasons = list(raw.reasons)
    h.notes = list(raw.notes)
    result = _finish_hoso(h, raw.max_table_bytes)
    result.span = raw.span
    return result


def _finish_hoso(h: _Hoso, max_table_bytes: int) -> Result:
    reasons = list(h.reasons)
    notes: list[str] = list(h.notes)
    tables: dict[str, list[Record]] = {}
    for loai, parts in h.files:
        table = normalise_table_name(loai)
        label = table or repr(loai)
        if table is None or not known_table(table):
            reasons.append(f"{label}: unknown table (LOAIHOSO {loai!r})")
            continue
        if table in tables:
            reasons.append(f"{table}: table appears twice in the HOSO")
            continue
        encoded = sum(len(p) for p in parts)
        if encoded * 3 // 4 > max_table_bytes + 3:
            reasons.append(f"{table}: decoded table larger than {max_table_bytes} bytes")
            continue
        try:
            document = decode_base64(parts)
        except (binascii.Error, ValueError) as e:
            reasons.append(f"{table}: bad base64 in NOIDUNGFILE ({e})")
            continue
        if len(document) > max_table_bytes:
            reasons.append(f"{table}: decoded table larger than {max_table_bytes} bytes")
            continue
        try:
            tables[table], passed = read_table(table, document)
            notes.extend(passed)
        except _TableError as e:
            reasons.append(f"{table}: {e}")
    ma_lks: dict[str, list[str]] = {}
    for t, records in sorted(tables.items(), key=lambda kv: table_sort_key(kv[0])):
        if not keyed_by_episode(t):
            continue
        for i, r in enumerate(records, 1):
            v = r.get("MA_LK", "")
            if not v:
                reasons.append(f"{t}: record {i} has no MA_LK")
            else:
                ma_lks.setdefault(v, []).append(t)
    ma_lk = next(iter(ma_lks), None)
    if len(ma_lks) > 1:
        reasons.append("MA_LK mismatch between tables: "
                       + "; ".join(f"{k} in {', '.join(sorted(set(v), key=table_sort_key))}" for k, v in ma_lks.items()))
    if not h.files:
        reasons.append("HOSO has no FILEHOSO")
    elif not ma_lks and not any("MA_LK" in r for r in reasons):
        reasons.append("missing MA_LK (no table has a record)")
    standard = None
    if not reasons:
        try:
            standard = recognise_episode(tables)
        except UnknownStandard as e:
            reasons.append(str(e))
    if reasons:
        return BrokenEpisode(position=h.position, ma_lk=ma_lk, reasons=reasons)
    for t in tables:
        if t not in layouts(standard):
            return BrokenEpisode(h.position, ma_lk, [f"{t}: no such table in standard {standard}"])
    ordered = dict(sorted(tables.items(), key=lambda kv: table_sort_key(kv[0])))
    return Episode(ma_lk=ma_lk, standard=standard, tables=ordered, position=h.position, notes=notes)


# --------------------------------------------------------------------------- the envelope

class EnvelopeReader:
    """Iterator over the HOSO of one envelope; ``header`` fills in while reading
    (MACSKCB/NGAYLAP/SOLUONGHOSO before the first HOSO, CHUKYDONVI once exhausted)."""

    def __init__(self, source: BinaryIO | str | os.PathLike, *, chunk_size: int = CHUNK,
                 max_table_bytes: int = MAX_TABLE_BYTES, max_hoso_bytes: int = MAX_HOSO_BYTES,
                 decode: bool = True):
        self.header = Header()
        self._decode = decode
        self._source = source
        self._chunk_size = chunk_size
        self._max_table = max_table_bytes
        self._max_hoso = max_hoso_bytes
        self._ready: deque[Result | RawHoso] = deque()
        self._stack: list[str] = []
        self._hoso: _Hoso | None = None
        self._count = 0
        self._text: list[str] | None = None
        self._text_size = 0
        self._window = bytearray()
        self._window_start = 0
        self._sig_start: int | None = None
        self._sig_depth = 0
        self._unknown: dict[str, int] = {}  # unknown child of GIAMDINHHS → how many times
        self._unknown_others = 0
        self._iter = self._run()

    def __iter__(self):
        return self

    def __next__(self) -> Result | RawHoso:
        return next(self._iter)

    def read_all(self) -> list[Result]:
        return list(self)

    @property
    def warnings(self) -> list[str]:
        """What the envelope holds besides its parts, read past (complete once exhausted): each
        unknown element directly inside <GIAMDINHHS> named once, with how many times it appears."""
        if not self._unknown:
            return []
        named = ", ".join(f"<{n}> ({c} time{'s' if c > 1 else ''})" for n, c in self._unknown.items())
        if self._unknown_others:
            named += f", and {self._unknown_others} more of other names"
        return [f"<GIAMDINHHS> holds element(s) an envelope does not have, ignored: {named}"]

    # -- expat handlers
    def _start(self, name, _attrs):
        stack = self._stack
        if not stack and name != "GIAMDINHHS":
            raise EnvelopeError(f"root element is <{name}>, expected <GIAMDINHHS>")
        stack.append(name)
        if self._sig_start is not None:
            return
        if len(stack) == 2 and name not in ENVELOPE_PARTS and name != "HOSO":
            self._count_unknown(name)
        h = self._hoso
        if h is not None and h.in_content:
            self._inline_start(h, name, _attrs)
        elif name == "HOSO" and h is None:
            self._count += 1
            self._hoso = _Hoso(self._count, self._parser.CurrentByteIndex)
        elif h is not None:
            if name == "FILEHOSO":
                h.loai, h.content = [], []
            elif name == "LOAIHOSO":
                h.in_loai = True
            elif name == "NOIDUNGFILE":
                h.in_content = True
                h.content_depth = len(stack)
                h.inline = False
        elif name in ("MACSKCB", "NGAYLAP", "SOLUONGHOSO"):
            self._text, self._text_size = [], 0
        elif name == "CHUKYDONVI" and len(stack) == 2:
            self._sig_start = self._parser.CurrentByteIndex
            self._sig_depth = len(stack)

    def _end(self, name):
        stack = self._stack
        depth = len(stack)
        stack.pop()
        if self._sig_start is not None:
            if depth == self._sig_depth:
                self.header.chukydonvi = self._copy_signature()
                self._sig_start = None
            return
        h = self._hoso
        if h is not None and h.in_content and depth > h.content_depth:
            self._inline_text(h, f"</{name}>")
        elif h is not None:
            if name == "HOSO":
                span = (h.start, self._element_end())
                if self._decode:
                    result: Result | RawHoso = _finish_hoso(h, self._max_table)
                    result.span = span
                else:
                    result = RawHoso(h.position, span, [(loai, "".join(parts)) for loai, parts in h.files],
                                     h.reasons, self._max_table, notes=h.notes)
                self._ready.append(result)
                self._hoso = None
            elif name == "LOAIHOSO":
                h.in_loai = False
            elif name == "NOIDUNGFILE":
                h.in_content = False
            elif name == "FILEHOSO":
                if h.inline:
                    h.content = _inline_as_base64(h, "".join(h.loai))
                    h.inline = False
                h.files.append(("".join(h.loai), h.content))
                h.loai, h.content = [], []
        elif name in ("MACSKCB", "NGAYLAP", "SOLUONGHOSO") and self._text is not None:
            setattr(self.header, name.lower(), "".join(self._text).strip())
            self._text = None

    def _count_unknown(self, name: str) -> None:
        if name in self._unknown:
            self._unknown[name] += 1
        elif len(self._unknown) < _MAX_UNKNOWN_NAMES:
            self._unknown[name] = 1
        else:
            self._unknown_others += 1

    def _inline_start(self, h: _Hoso, name: str, attrs: dict[str, str]) -> None:
        """An element inside NOIDUNGFILE: the table written inline; kept as XML text."""
        if not h.inline:
            h.inline = True
            if "".join(h.content).strip():
                h.reasons.append(f"{normalise_table_name(''.join(h.loai)) or repr(''.join(h.loai))}: "
                                 "NOIDUNGFILE mixes base64 text and XML elements")
            h.content = []
        attributes = "".join(f' {k}="{_escape(v, attribute=True)}"' for k, v in attrs.items())
        self._inline_text(h, f"<{name}{attributes}>")

    def _inline_text(self, h: _Hoso, text: str) -> None:
        h.size += len(text)
        if h.size <= self._max_hoso:
            h.content.append(text)

    def _data(self, text):
        h = self._hoso
        if h is not None:
            if h.in_content and h.inline:
                text = _escape(text)
            if h.in_content:
                h.size += len(text)
                if h.size > self._max_hoso:
                    if not any("HOSO larger" in r for r in h.reasons):
                        h.reasons.append(f"HOSO larger than {self._max_hoso} bytes")
                    for _, parts in h.files:
                        parts.clear()
                    h.content.clear()
                    return
                h.content.append(text)
            elif h.in_loai:
                if sum(map(len, h.loai)) < MAX_HEADER_TEXT:
                    h.loai.append(text)
        elif self._text is not None:
            self._text_size += len(text)
            if self._text_size > MAX_HEADER_TEXT:
                raise EnvelopeError(f"<{self._stack[-1]}> is longer than {MAX_HEADER_TEXT} characters")
            self._text.append(text)

    def _element_end(self) -> int:
        """Byte offset just past the element whose end tag is being reported."""
        at = self._parser.CurrentByteIndex
        rel = at - self._window_start
        buf = self._window
        if buf[rel:rel + 2] != b"</":  # <HOSO/>: expat reports the end after the empty tag
            return at
        return self._window_start + buf.index(b">", rel) + 1

    def _copy_signature(self) -> str:
        start = self._sig_start - self._window_start
        if start < 0:
            raise EnvelopeError("CHUKYDONVI start tag too long to keep verbatim")
        buf = self._window
        tag_end = _tag_end(buf, start)
        if buf[tag_end - 1] == 0x2F:  # <CHUKYDONVI/>
            end = tag_end + 1
        else:
            close = self._parser.CurrentByteIndex - self._window_start
            end = buf.index(b">", close) + 1
        return bytes(buf[start:end]).decode("utf-8")

    # -- driver
    def _drain(self) -> Iterator[Result]:
        while self._ready:
            yield self._ready.popleft()

    def _run(self) -> Iterator[Result]:
        p = self._parser = _safe_parser()
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._data
        close = False
        src = self._source
        if isinstance(src, (str, os.PathLike)):
            src = open(src, "rb")
            close = True
        try:
            tail = b""
            pos = 0
            while True:
                chunk = src.read(self._chunk_size)
                if UNSAFE_DECLARATION.search(tail + chunk):
                    raise UnsafeXMLError(f"envelope: {REFUSAL}")
                tail = chunk[-16:]
                self._window += chunk
                try:
                    p.Parse(chunk, not chunk)
                except expat.ExpatError as e:
                    yield from self._drain()  # HOSO completed before the fault still count
                    raise EnvelopeError(f"malformed envelope XML: {e}") from None
                except UnsafeXMLError as e:
                    raise UnsafeXMLError(f"envelope: {e}") from None
                except EnvelopeError:
                    yield from self._drain()
                    raise
                pos += len(chunk)
                if self._sig_start is None and len(self._window) > _WINDOW:
                    drop = len(self._window) - _WINDOW
                    del self._window[:drop]
                    self._window_start += drop
                elif self._sig_start is not None and pos - self._sig_start > MAX_SIGNATURE_BYTES:
                    raise EnvelopeError(f"CHUKYDONVI larger than {MAX_SIGNATURE_BYTES} bytes")
                yield from self._drain()
                if not chunk:
                    break
        finally:
            self._window = bytearray()
            if close:
                src.close()


def _escape(text: str, *, attribute: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;") if attribute else text.replace("\r", "&#13;")


def _inline_as_base64(h: _Hoso, loai: str) -> list[str]:
    """The inline table as the base64 text the decoder expects, with a note for the report."""
    h.notes.append(f"{normalise_table_name(loai) or repr(loai)}: NOIDUNGFILE held the table as inline XML, "
                   "not base64 (read as it is)")
    return [base64.b64encode("".join(h.content).encode("utf-8")).decode("ascii")]


def _tag_end(buf: bytearray, start: int) -> int:
    """Index of the '>' closing the start tag beginning at ``start`` (quotes respected)."""
    quote = None
    i = start
    n = len(buf)
    while i < n:
        c = buf[i]
        if quote is not None:
            if c == quote:
                quote = None
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x3E:
            return i
        i += 1
    raise EnvelopeError("CHUKYDONVI start tag not complete")


def read_envelope(source: BinaryIO | str | os.PathLike, **limits) -> EnvelopeReader:
    """Stream the HOSO of an envelope: ``for ep in (r := read_envelope(f)): …`` then ``r.header``.

    ``source`` is a binary file object or a path.  Yields ``Episode`` or ``BrokenEpisode`` per HOSO,
    in order (``decode=False``: a :class:`RawHoso` each, for :func:`finish_hoso`); a broken HOSO
    never stops the others.  Raises ``EnvelopeError`` (``UnsafeXMLError``
    for DOCTYPE/ENTITY) when the envelope itself cannot be read — HOSO completed before the fault
    have already been yielded.  ``limits``: chunk_size, max_table_bytes, max_hoso_bytes.
    """
    return EnvelopeReader(source, **limits)
