"""``lienthong import --workers N``: the worker processes do not outlive their parent (killed with
``kill -9``, it cannot shut them down itself) and SIGTERM terminates them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bhyt_envelopes import envelope, generated, hoso

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")


def sleepy_prepare(result, strict, depth):  # noqa: ANN001, ANN201
    """A worker's preparation that takes long enough to kill its parent meanwhile (module level:
    the workers import it by name)."""
    time.sleep(120)


_WRAPPER = """
import sys
import server.imports.pipeline as pipeline
import tests.test_import_workers as t
pipeline.prepare_insurance = t.sleepy_prepare
from server import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _is_worker(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in cmdline


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _sigterm_ignored_or_blocked(pid: int) -> bool:
    fields = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)
    bit = 1 << (signal.SIGTERM - 1)
    return bool(int(fields["SigIgn"], 16) & bit or int(fields["SigBlk"], 16) & bit)


def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    src = tmp_path / "e.xml"
    src.write_bytes(envelope([hoso(e) for e in generated(5, 4)]))
    cmd = [sys.executable, "-c", _WRAPPER, "import", str(src), "--store", f"sqlite:///{tmp_path / 's.db'}",
           "--quarantine", str(tmp_path / "q"), "--workers", "2"]
    # SIGTERM ignored in the parent (as under some process supervisors) is inherited by spawned children
    parent = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [p for p in _children(parent.pid) if _is_worker(p)]
            time.sleep(0.2)
        assert len(workers) == 2, "the import did not start its workers"
        time.sleep(3)  # let them finish starting (the initializer runs before the first task)
        assert not any(_sigterm_ignored_or_blocked(w) for w in workers), "a worker ignores SIGTERM"
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "workers outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
