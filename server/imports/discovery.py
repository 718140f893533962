"""Which files an import run reads: the files named, and every file under the folders named.

Order is stable (as given, then sorted within a folder) so that two runs over the same tree
report the same way. Hidden files and folders (``.git``, editor droppings) are left out of folder
walks; a folder that is the run's own quarantine is left out too, so importing ``.`` does not
re-import what this very run copies aside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator


class MissingPath(ValueError):
    """A PATH argument names nothing (a usage error: the run does not start)."""


@dataclass(frozen=True, slots=True)
class Found:
    path: Path
    #: where the file sits relative to the argument that found it (``root/sub/file``); the
    #: quarantine copies failed episodes under this name so sources stay recognisable
    relative: Path


def check_paths(paths: Iterable[str]) -> list[Path]:
    """The PATH arguments as paths; raises MissingPath naming every one that does not exist."""
    out = [Path(p) for p in paths]
    missing = [str(p) for p in out if not p.exists()]
    if missing:
        raise MissingPath("no such file or folder: " + ", ".join(missing))
    return out


def discover(paths: Iterable[Path], *, exclude: Path | None = None) -> Iterator[Found]:
    """Every regular file named or under a folder named, once each."""
    seen: set[Path] = set()
    skip = exclude.resolve() if exclude is not None else None
    for arg in paths:
        if arg.is_dir():
            base = arg.resolve().name or "root"
            for path in _walk(arg, skip):
                real = path.resolve()
                if real not in seen:
                    seen.add(real)
                    yield Found(path, Path(base) / path.relative_to(arg))
        else:
            real = arg.resolve()
            if real not in seen:
                seen.add(real)
                yield Found(arg, Path(arg.name))


def _walk(folder: Path, skip: Path | None) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (skip is None or (here / d).resolve() != skip))
        for name in sorted(filenames):
            if not name.startswith(".") and (here / name).is_file():
                yield here / name
