"""Shared bits of the benchmark scripts: a real server in a subprocess, timing, reporting."""

from __future__ import annotations

import contextlib
import os
import platform
import re
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


def wrk(url: str, seconds: int, connections: int, *, script: Path | None = None, headers: dict[str, str] | None = None) -> dict[str, float]:
    """A wrk run (2 threads, keep-alive): requests/s, p50 and p99 latency in ms, request count.
    A failed (non-2xx/3xx) response ends the benchmark: its figures would mean nothing."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    cmd += [a for k, v in (headers or {}).items() for a in ("-H", f"{k}: {v}")]
    cmd += ["-s", str(script)] if script else []
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    unit = {"us": 1e-3, "ms": 1.0, "s": 1000.0}

    def latency(pct: str) -> float:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * unit[m.group(2)] if m else float("nan")

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"wrk saw {non2xx.group(1)} failed responses:\n{out}")
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": latency("50"), "p99": latency("99"), "requests": requests}  # type: ignore[union-attr]


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
def running_server(store_url: str, env: dict[str, str] | None = None, args: list[str] | None = None) -> Iterator[str]:
    """``lienthong serve`` on a free loopback port; yields its base URL (``env``: extra variables,
    ``args``: extra options such as ``--workers 2``)."""
    port = free_port()
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store", store_url, "--log-level", "warning", *(args or [])]
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


# ----------------------------------------------------------------------------- load benchmarks
# Added for benchmarks/load.py and benchmarks/bhyt.py: the server with options and its own log,
# the machine's state (how busy it was), and per-process CPU and memory from /proc.

def serve_options() -> set[str]:
    """The options `lienthong serve` accepts here (``--workers`` is not in every version)."""
    cmd = [sys.executable, "-m", "server.cli", "serve", "--help"]
    text = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return {word.rstrip(",") for word in text.split() if word.startswith("--")}


@dataclass
class Server:
    """A running `lienthong serve`: its base URL and process (for CPU accounting)."""

    base: str
    proc: subprocess.Popen


@contextlib.contextmanager
def server_process(store_url: str, options: list[str] | None = None, env: dict[str, str] | None = None,
                   log: Path | None = None, timeout: float = 60) -> Iterator[Server]:
    """Like :func:`running_server`, with extra ``serve`` options and stderr to ``log``.

    The log is a file, not a pipe: under load the server may log more than a pipe holds, and a
    full pipe would stall it.
    """
    port = free_port()
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store", store_url, "--log-level", "warning", *(options or [])]
    sink = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=sink, env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/metadata", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:] if log else ""
                raise RuntimeError(f"server did not start: {' '.join(cmd)}\n{tail}")
            time.sleep(0.1)
        yield Server(base, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            sink.close()  # type: ignore[union-attr]


def machine_facts() -> dict[str, object]:
    """What the figures depend on: cores, CPU model, RAM, kernel, Python, date and load."""
    facts: dict[str, object] = {"date_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    facts["nproc"] = len(os.sched_getaffinity(0))
    facts["cpu"] = cpu_model()
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
        facts["ram_gib"] = round(kib / 2**20, 1)
    facts["kernel"] = platform.release()
    facts["python"] = platform.python_version()
    facts["uptime"] = uptime()
    return facts


def cpu_model() -> str:
    """The ``model name`` of /proc/cpuinfo."""
    with contextlib.suppress(OSError, StopIteration):
        line = next(x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("model name"))
        return line.split(":", 1)[1].strip()
    return "unknown CPU"


def uptime() -> str:
    """The `uptime` line (load averages over 1, 5 and 15 minutes)."""
    try:
        return subprocess.run(["uptime"], check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already in user
    return total - idle, total


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Share of all CPUs busy between two :func:`cpu_ticks` readings (0..1)."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total if total else 0.0


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process under it (uvicorn workers, import workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the live processes ``pids`` have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            rest = stat[stat.rindex(")") + 2:].split()
            total += int(rest[11]) + int(rest[12])  # utime, stime (fields 14 and 15)
    return total / tick


def process_cpu() -> dict[int, tuple[str, float]]:
    """(name, CPU seconds so far) of every process: two readings show who kept the machine busy."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                out[int(entry.name)] = (stat[stat.index("(") + 1:stat.rindex(")")], cpu_seconds([int(entry.name)]))
    return out


def status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory field in KiB (``VmRSS``, ``VmHWM``); 0 once the process is gone."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith(field + ":"))
        return int(line.split()[1])
    return 0
