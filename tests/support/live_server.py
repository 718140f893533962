"""``lienthong serve`` in a subprocess on a free loopback port, for tests that need real TCP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``lienthong ARGS`` in a subprocess (the command exactly as an operator runs it)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=60)


@contextlib.contextmanager
def live_server(store_url: str, *extra: str) -> Iterator[str]:
    """Serve ``store_url``; yields the root URL (``http://127.0.0.1:PORT``)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store", store_url, "--log-level", "warning", *extra],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{root}/fhir/metadata", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.2)
        yield root
    finally:
        proc.terminate()
        proc.wait(timeout=20)
