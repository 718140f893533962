"""The import run: every file found, recognised by content, episode by episode into the target.

Envelopes are streamed (one HOSO decoded at a time) so memory stays bounded whatever their size.
Each episode is one transaction; whatever fails it (the reader, the value checks, the mapping, the
store) is noted in the report with its reasons and the episode is copied to the quarantine. Nothing
stops the run but its end: a broken episode, or a file that cannot be read, never stops the others.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from mappings.bhyt_xml.envelope import EnvelopeError, read_envelope

from .. import jsonio
from .discovery import Found
from .pipeline import Outcome, StoreInOrder
from .episodes import EpisodeFailed, store_bundle, transfer_bundle
from .quarantine import NOTES_JSON, NOTES_TEXT, Held, Quarantine
from .recognition import Kind, recognise
from .report import Accepted, FileProblem, Failure, Report
from .targets import Target
from .workers import start_worker


class Progress:
    """What a run tells as it goes (the CLI draws a bar from it); the default tells nothing."""

    def start(self, files: int) -> None: ...

    def file(self, found: Found, size: int) -> None: ...

    def advance(self, position: int, episodes: int, failed: int) -> None: ...

    def file_done(self) -> None: ...

    def stop(self) -> None: ...


#: episodes in flight (prepared ahead in the workers, or queued in the store to share a commit),
#: per worker (at least one worker's worth without worker processes)
_AHEAD_PER_WORKER = 4


@dataclass
class ImportRun:
    target: Target
    quarantine: Quarantine
    progress: Progress
    clock: Callable[[], datetime] = lambda: datetime.now().astimezone()
    #: worker processes that review, map and validate the next episodes while earlier ones are stored (0: none)
    workers: int = 0
    #: refuse the departures the import policy otherwise accepts with a warning
    strict: bool = False
    #: episodes in flight at once (None: ``_AHEAD_PER_WORKER`` per worker; 1: one at a time)
    window: int | None = None
    _pool: ProcessPoolExecutor | None = field(default=None, init=False, repr=False)

    async def run(self, files: list[Found]) -> Report:
        report = Report(self.target.description, self.clock())
        self.progress.start(len(files))
        pool = None
        if self.workers > 0:
            # spawn, not fork: the parent holds an event loop and open database connections
            # start_worker: the workers exit with this process, even when it is killed with kill -9
            pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=start_worker, initargs=(os.getpid(),))
        self._pool = pool
        try:
            for found in files:
                await self._file(found, report)
                self.progress.file_done()
        finally:
            self.progress.stop()
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        report.finished = self.clock()
        report.quarantine = self.quarantine.finish({
            "started": report.started.isoformat(timespec="seconds"), "target": report.target,
        })
        return report

    # ----------------------------------------------------------------- one file
    async def _file(self, found: Found, report: Report) -> None:
        report.files_seen += 1
        kind = recognise(found.path)
        if kind.skipped:
            notes = found.path.name in (NOTES_JSON, NOTES_TEXT) and (found.path.parent / NOTES_JSON).is_file()
            report.skipped.append(FileProblem(str(found.path), "a quarantine's own notes" if notes else kind.reason, notes=notes))
            return
        report.files_by_kind[kind.name] = report.files_by_kind.get(kind.name, 0) + 1
        try:
            size = found.path.stat().st_size
        except OSError:
            size = 0
        self.progress.file(found, size)
        if kind.name == "envelope":
            await self._envelope(found, kind, report)
        else:
            await self._transfer(found, kind, report)

    async def _envelope(self, found: Found, kind: Kind, report: Report) -> None:
        held: list[Held] = []
        failures: list[Failure] = []
        window = self.window or max(1, self.workers) * _AHEAD_PER_WORKER
        pipe: StoreInOrder[Any] = StoreInOrder(self.target, window=window, pool=self._pool, strict=self.strict)

        def settle(outcome: Outcome[Any]) -> None:
            """Account for one episode (outcomes come in envelope order)."""
            raw, ma_lk = outcome.key, outcome.prepared.ma_lk
            if outcome.failure is not None:
                exc = outcome.failure
                failures.append(Failure(str(found.path), kind.name, raw.position, ma_lk, exc.stage, exc.reasons, exc.status))
                held.append(Held(raw.position, ma_lk, exc.reasons, raw.span))
            else:
                assert outcome.stored is not None
                report.count(outcome.stored.change)
                if outcome.prepared.warnings:
                    report.accepted.append(Accepted(str(found.path), raw.position, ma_lk, outcome.prepared.warnings))
            self.progress.advance(f.tell(), report.read, len(report.failures) + len(failures))

        with found.path.open("rb") as f:
            # the tables are decoded where the episode is prepared (a worker, if any)
            reader = read_envelope(f, decode=False)
            try:
                for raw in reader:
                    report.read += 1
                    for outcome in await pipe.add(raw, raw):
                        settle(outcome)
                for outcome in await pipe.drain():
                    settle(outcome)
            except EnvelopeError as exc:
                for outcome in await pipe.drain():  # the episodes read before the envelope broke off
                    settle(outcome)
                report.file_warnings += [FileProblem(str(found.path), w) for w in reader.warnings]
                report.bytes_read += f.tell()
                await self._unreadable(found, kind, report, failures, held, str(exc))
                return
            report.bytes_read += f.tell()
        report.file_warnings += [FileProblem(str(found.path), w) for w in reader.warnings]
        if held:
            copy = self.quarantine.envelope(found, reader.header, held)
            name = copy.relative_to(self.quarantine.folder).as_posix()
            for failure in failures:
                failure.quarantined = name
        report.failures.extend(failures)

    async def _unreadable(self, found: Found, kind: Kind, report: Report, failures: list[Failure], held: list[Held], reason: str) -> None:
        """The envelope breaks off: the whole file goes to the quarantine (its stored HOSO stay stored)."""
        copy = self.quarantine.whole_file(found, kind.name, [reason], held)
        name = copy.relative_to(self.quarantine.folder).as_posix()
        for failure in failures:
            failure.quarantined = name
        report.failures.extend(failures)
        report.file_errors.append(FileProblem(str(found.path), reason, name))

    async def _transfer(self, found: Found, kind: Kind, report: Report) -> None:
        from mappings.transfer54.xml_form import XmlFormError, parse_xml

        data = found.path.read_bytes()
        report.bytes_read += len(data)
        report.read += 1
        record: Any = None
        try:
            try:
                record = parse_xml(data) if kind.name == "transfer54-xml" else jsonio.loads(data.removeprefix(b"\xef\xbb\xbf"))
            except (XmlFormError, ValueError, UnicodeDecodeError, RecursionError) as exc:
                raise EpisodeFailed("read", [f"cannot be read as a transfer record: {exc}"]) from None
            stored = await store_bundle(self.target, transfer_bundle(record))
        except EpisodeFailed as exc:
            ma_lk = record.get("MA_LK") if isinstance(record, dict) and isinstance(record.get("MA_LK"), str) else None
            copy = self.quarantine.whole_file(found, kind.name, [], [Held(None, ma_lk, exc.reasons)])
            report.failures.append(Failure(str(found.path), kind.name, None, ma_lk, exc.stage, exc.reasons, exc.status,
                                           copy.relative_to(self.quarantine.folder).as_posix()))
        else:
            report.count(stored.change)
        self.progress.advance(len(data), report.read, len(report.failures))
