"""Shared bits of the benchmark scripts: a real server in a subprocess, timing, reporting."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bearer(store_url: str, scope: str = "system/*.cruds") -> dict[str, str]:
    """An ``Authorization`` header with a token from ``lienthong token`` (the store's own key)."""
    cmd = [sys.executable, "-m", "server.cli", "token", "--scope", scope, "--ttl", "86400", "--store", store_url]
    token = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def running_server(store_url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``lienthong serve`` on a free loopback port; yields its base URL (``env``: extra variables)."""
    port = free_port()
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store", store_url, "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/metadata", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start: " + (proc.stderr.read().decode() if proc.stderr else ""))
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Measure:
    """Throughput and per-request latency of one benchmark phase."""

    name: str
    items: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    def row(self, floor: "Measure | None" = None) -> str:
        ratio = f"{self.rate / floor.rate:6.0%}" if floor else "   —  "
        return f"| {self.name:<42} | {self.items:>7} | {self.rate:>10,.0f} | {self.pct(0.5):>8.2f} | {self.pct(0.95):>8.2f} | {ratio} |"


HEADER = "| phase                                      |   items | resources/s | p50 ms  | p95 ms  | of floor |\n|---|---:|---:|---:|---:|---:|"


def median(xs: list[float]) -> float:
    return statistics.median(xs)
