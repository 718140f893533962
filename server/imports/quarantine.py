"""Failed episodes copied aside, byte for byte, so a person can repair them and import again.

For an envelope, one new envelope per source file holding only its failed ``<HOSO>`` elements,
copied from the source's own bytes (the reader gives each HOSO's byte span, so nothing is kept
in memory and nothing is re-encoded: what was wrong is still there to be seen and fixed). The
header is the source's: its XML declaration and ``<GIAMDINHHS …>`` start tag verbatim, then
MACSKCB and NGAYLAP, with SOLUONGHOSO counting the HOSO copied. The unit signature
(``CHUKYDONVI``) is left out: it signed the whole original file, which this no longer is.

A transfer record, or an envelope that cannot be read to its end, is copied whole.

Next to the copies, ``_quarantine.json`` (machine-readable) and ``_README.txt`` (for a person)
say for each copy where it came from, which HOSO it holds and why each failed.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mappings.bhyt_xml.envelope import Header
from mappings.bhyt_xml.writer import header_xml

from .. import jsonio
from .discovery import Found

NOTES_JSON = "_quarantine.json"
NOTES_TEXT = "_README.txt"
_COPY_CHUNK = 1024 * 1024
_HEAD = 64 * 1024
_ROOT_TAG = re.compile(rb"<GIAMDINHHS(?:\s[^>]*)?>")
_DEFAULT_START = (b'<?xml version="1.0" encoding="utf-8"?>\n'
                  b'<GIAMDINHHS xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">')


@dataclass(slots=True)
class Held:
    """One failed episode to copy: its place in the source and why it failed."""

    position: int | None  # 1-based HOSO position in the source (None: a transfer record)
    ma_lk: str | None
    reasons: list[str]
    span: tuple[int, int] | None = None


@dataclass(slots=True)
class Copy:
    file: Path  # relative to the quarantine folder
    source: Path
    kind: str
    reasons: list[str] = field(default_factory=list)  # why the whole file is here (if it is)
    episodes: list[dict[str, Any]] = field(default_factory=list)


def default_folder(started: datetime) -> Path:
    return Path("quarantine") / started.strftime("%Y%m%dT%H%M%S")


class Quarantine:
    """A quarantine folder, created on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.copies: list[Copy] = []

    @property
    def used(self) -> bool:
        return bool(self.copies)

    def _place(self, relative: Path) -> Path:
        target = self.folder / relative
        n = 1
        while target.exists():
            n += 1
            target = target.with_name(f"{relative.stem}.{n}{relative.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def whole_file(self, found: Found, kind: str, reasons: list[str], held: list[Held] | None = None) -> Path:
        """Copy the file as it is (a transfer record, or an envelope that cannot be read through)."""
        target = self._place(found.relative)
        shutil.copyfile(found.path, target)
        copy = Copy(target.relative_to(self.folder), found.path, kind, list(reasons))
        copy.episodes = [{"position": h.position, "source_position": h.position, "ma_lk": h.ma_lk, "reasons": h.reasons} for h in held or []]
        self.copies.append(copy)
        return target

    def envelope(self, found: Found, header: Header, held: list[Held]) -> Path:
        """A valid envelope holding only the failed HOSO of ``found``, in their original order."""
        target = self._place(found.relative)
        with found.path.open("rb") as src, target.open("wb") as out:
            out.write(_start(src.read(_HEAD)))
            out.write(_header(header, len(held)))
            for h in held:
                assert h.span is not None, "envelope episodes carry their byte span"
                start, end = h.span
                src.seek(start)
                left = end - start
                while left > 0:
                    chunk = src.read(min(_COPY_CHUNK, left))
                    if not chunk:
                        break
                    out.write(chunk)
                    left -= len(chunk)
                out.write(b"\n")
            out.write(b"</DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>\n")
        copy = Copy(target.relative_to(self.folder), found.path, "envelope")
        copy.episodes = [{"position": i, "source_position": h.position, "ma_lk": h.ma_lk, "reasons": h.reasons} for i, h in enumerate(held, 1)]
        self.copies.append(copy)
        return target

    def finish(self, run: dict[str, Any]) -> Path | None:
        """Write the notes; the folder, or None when nothing was quarantined."""
        if not self.copies:
            return None
        notes = {"run": run, "copies": [_copy_json(c) for c in self.copies]}
        (self.folder / NOTES_JSON).write_bytes(jsonio.dumps(notes, pretty=True))
        (self.folder / NOTES_TEXT).write_text(_readme(self.copies), encoding="utf-8")
        return self.folder


def _start(head: bytes) -> bytes:
    """The source's declaration and root start tag, verbatim (so its namespaces still apply)."""
    m = _ROOT_TAG.search(head)
    return head[: m.end()] + b"\n" if m else _DEFAULT_START + b"\n"


def _header(header: Header, count: int) -> bytes:
    return f"{header_xml(header)}<SOLUONGHOSO>{count}</SOLUONGHOSO><DANHSACHHOSO>\n".encode("utf-8")


def _copy_json(c: Copy) -> dict[str, Any]:
    out: dict[str, Any] = {"file": c.file.as_posix(), "source": str(c.source), "kind": c.kind, "episodes": c.episodes}
    if c.reasons:
        out["reasons"] = c.reasons
    return out


def _readme(copies: list[Copy]) -> str:
    lines = [
        "Quarantine of a `lienthong import` run",
        "",
        "Every file here holds episodes that could not be stored. Envelopes hold only the failed",
        "HOSO of their source file, copied byte for byte; transfer records and envelopes that could",
        "not be read to their end are copied whole. Repair them, then import this folder again:",
        "",
        "    lienthong import <this folder>",
        "",
        "Episodes already stored are not changed by importing them again.",
        f"The same facts, machine-readable: {NOTES_JSON}",
        "",
    ]
    for c in copies:
        lines.append(f"{c.file.as_posix()}  (from {c.source})")
        for r in c.reasons:
            lines.append(f"    whole file: {r}")
        for e in c.episodes:
            where = f"HOSO {e['position']} (was {e['source_position']} in the source)" if e["position"] is not None else "record"
            lines.append(f"    {where}, MA_LK {e['ma_lk'] or '?'}:")
            lines.extend(f"        - {r}" for r in e["reasons"])
        lines.append("")
    return "\n".join(lines)
