"""The facts of an import run, told twice: as text a person reads, and as JSON a program reads.

Both are made from the same :class:`Report`, so they cannot disagree. An episode is *read* once
the reader has it; it then ends *stored* (``created`` or ``updated``), *unchanged* (already there
exactly so) or *failed*, with the stage that failed it: ``read`` (the envelope reader: bad base64,
malformed table, missing MA_LK), ``check`` (values: dates, codes), ``map`` (cannot become FHIR),
or ``store`` (refused by the store or server).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

STAGES = ("read", "check", "map", "store")


@dataclass(slots=True)
class Failure:
    file: str
    kind: str  # recognised kind of the file
    position: int | None  # HOSO position in the file (None: a transfer record)
    ma_lk: str | None
    stage: str  # one of STAGES
    reasons: list[str]
    status: int | None = None  # the store's / server's HTTP status, when it refused
    quarantined: str | None = None  # the copy, relative to the quarantine folder

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "kind": self.kind, "position": self.position, "ma_lk": self.ma_lk, "stage": self.stage,
                "reasons": self.reasons, "status": self.status, "quarantined": self.quarantined}


@dataclass(slots=True)
class Accepted:
    """An episode stored although it departs from the spec as the import policy accepts (warnings)."""
    file: str
    position: int | None
    ma_lk: str | None
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "position": self.position, "ma_lk": self.ma_lk, "warnings": self.warnings}


@dataclass(slots=True)
class FileProblem:
    file: str
    reason: str
    quarantined: str | None = None
    #: a quarantine's own notes, met when that folder is imported again: skipped, but not a problem
    notes: bool = False


@dataclass
class Report:
    target: str
    started: datetime
    finished: datetime | None = None
    files_seen: int = 0
    files_by_kind: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: list[Failure] = field(default_factory=list)
    #: episodes stored with warnings (the import policy's accepted departures), per episode
    accepted: list[Accepted] = field(default_factory=list)
    skipped: list[FileProblem] = field(default_factory=list)
    file_errors: list[FileProblem] = field(default_factory=list)  # files that could not be read to their end
    #: what a file held besides its episodes, read past (e.g. unknown elements inside <GIAMDINHHS>)
    file_warnings: list[FileProblem] = field(default_factory=list)
    quarantine: Path | None = None

    # ------------------------------------------------------------------ counts
    @property
    def stored(self) -> int:
        return self.created + self.updated

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def seconds(self) -> float:
        end = self.finished or datetime.now(self.started.tzinfo)
        return max((end - self.started).total_seconds(), 0.0)

    @property
    def rate(self) -> float:
        """Episodes read per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every file imported whole: no failed episode, no unreadable file, no skipped file."""
        return not self.failures and not self.file_errors and not self.skipped_data

    @property
    def skipped_data(self) -> list[FileProblem]:
        """The skipped files that were not a quarantine's own notes."""
        return [p for p in self.skipped if not p.notes]

    def count(self, change: str) -> None:
        setattr(self, change, getattr(self, change) + 1)

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": self.finished.isoformat(timespec="seconds") if self.finished else None,
            "seconds": round(self.seconds, 3),
            "files": {"seen": self.files_seen, "by_kind": dict(sorted(self.files_by_kind.items())), "skipped": len(self.skipped),
                      "unreadable": len(self.file_errors), "bytes": self.bytes_read},
            "episodes": {"read": self.read, "stored": self.stored, "created": self.created, "updated": self.updated,
                         "unchanged": self.unchanged, "failed": self.failed},
            "episodes_per_second": round(self.rate, 2),
            "ok": self.ok,
            "quarantine": str(self.quarantine) if self.quarantine else None,
            "failed": [f.to_json() for f in self.failures],
            "warnings": [a.to_json() for a in self.accepted],
            "unreadable": [{"file": p.file, "reason": p.reason, "quarantined": p.quarantined} for p in self.file_errors],
            "skipped": [{"file": p.file, "reason": p.reason} for p in self.skipped],
            "file_warnings": [{"file": p.file, "warning": p.reason} for p in self.file_warnings],
        }

    # ------------------------------------------------------------------ text
    def render(self, console: Console) -> None:
        """The summary, then every failed episode, unreadable file and skipped file."""
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.files_by_kind.items())) or "none recognised"
        console.print(f"[bold]Import into {escape(self.target)}[/bold]", soft_wrap=True)
        console.print(f"  files     {self.files_seen} ({kinds}; {len(self.skipped)} skipped, {len(self.file_errors)} unreadable), {_size(self.bytes_read)}")
        console.print(f"  episodes  {self.read} read: {self.stored} stored ({self.created} new, {self.updated} updated), "
                      f"{self.unchanged} unchanged, {self.failed} failed")
        console.print(f"  time      {self.seconds:.2f} s, {self.rate:.1f} episodes/s")
        if self.failures:
            console.print(f"[bold]{self.failed} failed episode(s)[/bold]")
            for f in self.failures:
                _episode(console, f, f.reasons, "-", f"  ({f.stage})")
        if self.accepted:
            console.print(f"[bold]{len(self.accepted)} episode(s) stored with warnings[/bold] (accepted departures; --strict refuses them)")
            for a in self.accepted:
                _episode(console, a, a.warnings, "~")
        for p in self.file_errors:
            console.print(f"[red]unreadable[/red] {escape(p.file)}: {escape(p.reason)}")
        for p in self.file_warnings:
            console.print(f"[yellow]warning[/yellow] {escape(p.file)}: {escape(p.reason)}")
        for p in self.skipped:
            console.print(f"skipped {escape(p.file)}: {escape(p.reason)}")
        if self.quarantine:
            console.print(f"Failed episodes copied to {escape(str(self.quarantine))} (repair them, then import that folder again).")
        if self.ok:
            console.print("[green]All episodes stored.[/green]")
        if self.failures or self.file_errors:
            console.print("[red]Some episodes were not stored.[/red]")
        if self.skipped_data:
            console.print(f"[red]{len(self.skipped_data)} file(s) skipped, nothing read from them[/red] (neither an envelope nor a transfer record).")


def _episode(console: Console, e: Failure | Accepted, lines: list[str], mark: str, tail: str = "") -> None:
    """One episode of the report (file, HOSO or record, MA_LK) and its reasons or warnings."""
    where = "record" if e.position is None else f"HOSO {e.position}"
    console.print(f"  {escape(e.file)}  {where}  MA_LK {escape(e.ma_lk or '?')}{tail}")
    for line in lines:
        console.print(f"      {mark} {escape(line)}")


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"
