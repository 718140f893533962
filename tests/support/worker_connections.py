"""Which worker process holds which client connection of a server (Linux ``/proc`` only).

A test of ``serve --workers N`` is only a test of N workers if its requests reach more than
one of them; the kernel decides, so the test looks.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

_ESTABLISHED = "01"


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections whose local port is ``port``."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _ESTABLISHED and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    found: set[str] = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[len("socket:[") : -1])
    return found


def connections_per_process(port: int) -> Counter[int] | None:
    """How many established connections to local ``port`` each process holds (the server's
    workers: clients' ends have another local port); ``None`` where ``/proc`` cannot tell."""
    if not Path("/proc/net/tcp").exists():
        return None
    established = _established_inodes(port)
    counts: Counter[int] = Counter()
    for name in os.listdir("/proc"):
        if name.isdigit():
            held = len(_socket_inodes(int(name)) & established)
            if held:
                counts[int(name)] = held
    return counts
