"""The import's worker processes: they must not outlive the run that started them.

A parent killed with ``kill -9`` cannot shut its pool down, so each worker watches for itself:
on Linux the kernel sends it SIGTERM when the parent dies (``prctl(PR_SET_PDEATHSIG)``), and a
watchdog thread checks the parent's pid every second (other systems, and the moment between the
spawn and the ``prctl`` call). SIGTERM is made to terminate: an ignored or blocked SIGTERM is
inherited across ``exec`` from a supervisor, and would leave the worker running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 1.0


def start_worker(parent_pid: int) -> None:
    """``ProcessPoolExecutor`` initializer: exit with the parent, terminate on SIGTERM."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog still stops the worker
    if os.getppid() != parent_pid:  # the parent died before the prctl call took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(_POLL_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(1)
