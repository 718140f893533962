"""The progress bar of ``lienthong import`` (rich, on stderr): files, episodes, bytes of the file.

Drawn only when stderr is a terminal: piped or captured output gets the final report alone.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from .discovery import Found
from .run import Progress as RunProgress


class BarProgress(RunProgress):
    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
            transient=False,
        )
        self._files: TaskID | None = None
        self._bytes: TaskID | None = None
        self._done = 0
        self._episodes = 0
        self._failed = 0
        self._total = 0
        self._size: int | None = None

    def _detail(self) -> str:
        return f"{self._done}/{self._total} files · {self._episodes} episodes · {self._failed} failed"

    def start(self, files: int) -> None:
        self._total = files
        self._bar.start()
        self._files = self._bar.add_task("files", total=files or None, detail=self._detail())
        self._bytes = self._bar.add_task("", total=None, detail="", visible=False)

    def file(self, found: Found, size: int) -> None:
        assert self._bytes is not None
        self._bar.reset(self._bytes, total=size or None, completed=0, visible=True,
                        description=_short(found.relative.as_posix()), detail="")
        self._size = size

    def advance(self, position: int, episodes: int, failed: int) -> None:
        self._episodes, self._failed = episodes, failed
        assert self._files is not None and self._bytes is not None
        self._bar.update(self._bytes, completed=position, detail=f"{_mib(position)}/{_mib(self._size or 0)} MiB")
        self._bar.update(self._files, detail=self._detail())

    def file_done(self) -> None:
        self._done += 1
        assert self._files is not None and self._bytes is not None
        if self._size is not None:  # a file that was read (skipped files are not)
            self._bar.update(self._bytes, completed=self._size, detail=f"{_mib(self._size)}/{_mib(self._size)} MiB")
            self._size = None
        self._bar.update(self._files, completed=self._done, detail=self._detail())
        self._bar.refresh()  # once per file: a small file still shows that it was read through

    def stop(self) -> None:
        if self._bytes is not None:
            self._bar.update(self._bytes, visible=False)
        self._bar.stop()


def _short(name: str, width: int = 32) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]


def _mib(n: int) -> str:
    return f"{n / 1048576:.1f}"
