"""Throughput and memory of the insurance-table mapping (mappings.bhyt_xml) and of `lienthong import`.

Phases (episodes/s):
  floor       read_envelope over a generated envelope of --mb megabytes: base64 decoding and XML
              parsing of every table, the least any import of that file does
  to_fhir     to_fhir(episode) + jsonio.dumps of the Bundle (episodes in memory)
  from_fhir   jsonio.loads of the Bundle + from_fhir(bundle)
  import      `lienthong import FILE --store sqlite:///… --workers N` in a child process on a
              fresh database, once per worker count: check, map and store every episode, one
              transaction each (wall time and peak memory, measured for that child alone)
Each rate is also given as a share of the floor. Run by `benchmarks/mappings.py` too.

Memory, per import: the import process's own peak (VmHWM from /proc/self/status, read by a small
wrapper as the import exits), the largest peak of its worker processes, and the peak of the sum
of the RSS of all its processes (both sampled from /proc every 50 ms while it runs). Not
getrusage: RUSAGE_CHILDREN keeps the largest child ever waited for, so a second import reported
the first one's peak; and a child's own ru_maxrss survives exec, so it would start at the size of
this (large) benchmark process.
Usage: python benchmarks/bhyt.py [--mb 100] [--episodes 1000] [--seed S] [--repeat R] [--workers 0,1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, descendants, machine, status_kib  # noqa: E402
from mappings.bhyt_xml import read_envelope  # noqa: E402
from mappings.bhyt_xml.envelope import Episode  # noqa: E402
from mappings.bhyt_xml.fhir import from_fhir, to_fhir  # noqa: E402
from mappings.bhyt_xml.generate import episodes, write_big_envelope  # noqa: E402
from server import jsonio  # noqa: E402


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


def floor(path: Path, repeat: int) -> tuple[int, float]:
    """(episodes, best seconds) of reading the whole envelope."""
    best, n = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = sum(1 for ep in read_envelope(path) if isinstance(ep, Episode))
        best = min(best, time.perf_counter() - t0)
    return n, best


def mapping_rates(count: int, seed: int, repeat: int) -> tuple[float, float]:
    eps = [ep for std in ("130", "4210") for ep in episodes(seed, count // 2, std)]
    bundles = [jsonio.dumps(to_fhir(ep)) for ep in eps]
    for ep, b in zip(eps, bundles):  # right before fast: checked once, untimed
        assert from_fhir(jsonio.loads(b)).tables == {t: r for t, r in ep.tables.items() if r}, ep.ma_lk
    best_to = best_from = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for ep in eps:
            jsonio.dumps(to_fhir(ep))
        best_to = min(best_to, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for b in bundles:
            from_fhir(jsonio.loads(b))
        best_from = min(best_from, time.perf_counter() - t0)
    return _rate(len(eps), best_to), _rate(len(eps), best_from)


async def _stages(path: Path, work: Path, limit: int) -> tuple[int, dict[str, float]]:
    """Seconds per stage of the import loop, in-process, over the first ``limit`` episodes."""
    from mappings.bhyt_xml.values import check_episode
    from server.config import Settings
    from server.fhir.bundles import BundleProcessor
    from server.fhir.repository import Repository
    from server.storage.factory import make_store

    store = make_store(f"sqlite:///{work}/stages.db")
    await store.open()
    processor = BundleProcessor(Repository(store, Settings()))
    spent = dict.fromkeys(("read (decode + parse)", "check_episode", "to_fhir", "validation (BundleProcessor.parse)",
                           "store (one transaction)"), 0.0)
    names = list(spent)
    n = 0
    reader = iter(read_envelope(path))
    try:
        while n < limit:
            t = [time.perf_counter()]
            ep = next(reader, None)
            if ep is None:
                break
            t.append(time.perf_counter())
            check_episode(ep)
            t.append(time.perf_counter())
            bundle = to_fhir(ep)
            t.append(time.perf_counter())
            _, entries = processor.parse(bundle)
            t.append(time.perf_counter())
            await processor.transaction(entries)
            t.append(time.perf_counter())
            for i, name in enumerate(names):
                spent[name] += t[i + 1] - t[i]
            n += 1
    finally:
        await store.close()
    return n, spent


# Runs `lienthong import` and, as it exits, writes the process's own peak RSS (VmHWM, KiB) to argv[1].
_WRAPPER = """
import json, sys
from pathlib import Path

def vmhwm():
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmHWM:'):
            return int(line.split()[1])
    return 0

from server.cli import main
try:
    code = main(sys.argv[2:])
finally:
    Path(sys.argv[1]).write_text(json.dumps({'vmhwm_kib': vmhwm()}))
sys.exit(code)
"""


@dataclass
class Memory:
    """Peak memory of one import, in MiB."""

    main: float  # the import process itself (exact: its VmHWM at exit)
    worker: float  # the largest of its other processes (sampled VmHWM; 0 without workers)
    total: float  # the sum of the RSS of all its processes (sampled; shared pages counted in each)
    processes: int  # the most processes seen at once


class TreeSampler(threading.Thread):
    """Samples the memory of a process and everything under it until :meth:`stop`."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.total_kib = self.worker_kib = self.processes = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            pids = descendants(self.pid)
            self.total_kib = max(self.total_kib, sum(status_kib(p, "VmRSS") for p in pids))
            self.worker_kib = max([self.worker_kib] + [status_kib(p, "VmHWM") for p in pids if p != self.pid])
            self.processes = max(self.processes, len(pids))
            self._done.wait(self.every)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_import(path: Path, work: Path, workers: int = 0) -> tuple[float, Memory, dict]:
    """(seconds, peak memory of this import alone, report) of one `lienthong import` on a fresh database."""
    report = work / f"report-{workers}.json"
    peak = work / f"peak-{workers}.json"
    cmd = [sys.executable, "-c", _WRAPPER, str(peak), "import", str(path), "--store", f"sqlite:///{work}/import-{workers}.db",
           "--report", str(report), "--quarantine", str(work / f"quarantine-{workers}"), "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, stderr = proc.communicate()
    seconds = time.perf_counter() - t0
    sampler.stop()
    if proc.returncode not in (0, 1):
        raise RuntimeError(stderr.decode()[-2000:])
    main_kib = json.loads(peak.read_text())["vmhwm_kib"]
    if not main_kib:
        raise RuntimeError("the import did not report its peak RSS")
    memory = Memory(main_kib / 1024, sampler.worker_kib / 1024, max(sampler.total_kib, main_kib) / 1024, sampler.processes)
    return seconds, memory, json.loads(report.read_text(encoding="utf-8"))


def worker_counts(text: str) -> tuple[int, ...]:
    counts = tuple(int(x) for x in text.split(",") if x.strip())
    if not counts or min(counts) < 0:
        raise argparse.ArgumentTypeError("--workers takes counts of 0 or more, e.g. 0,1,2")
    return counts


def _memory(m: Memory) -> str:
    """The memory cell of an import row: the total against the target, then its parts."""
    mark = "✅" if m.total < 300 else "❌"
    parts = f"import process {m.main:,.0f}" + (f", largest worker {m.worker:,.0f}" if m.worker else "")
    return f"peak RSS {m.total:,.0f} MiB {mark} (target < 300; {parts}; {m.processes} process{'es' if m.processes > 1 else ''})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=100, help="size of the generated envelope (default 100)")
    ap.add_argument("--episodes", type=int, default=1000, help="episodes for the mapping phases (default 1000)")
    ap.add_argument("--seed", type=int, default=130)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=worker_counts, default=(0, 1),
                    help="`lienthong import --workers N` runs, one per count, each with its own figures (default 0,1)")
    args = ap.parse_args()
    report(args.mb, args.episodes, args.seed, args.repeat, args.workers)


def report(mb: int, count: int, seed: int, repeat: int, workers: tuple[int, ...] = (0, 1)) -> None:
    """Run every phase and print the table (also called by benchmarks/mappings.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "envelope.xml"
        written = write_big_envelope(path, mb * 2**20, seed)
        size = path.stat().st_size
        n_floor, s_floor = floor(path, repeat)
        assert n_floor == written
        to_rate, from_rate = mapping_rates(count, seed, repeat)
        imports = {n: run_import(path, work, n) for n in workers}
        summary = imports[workers[0]][2]
        for n, (_, _, other) in imports.items():
            assert other["episodes"] == summary["episodes"], (n, other["episodes"], summary["episodes"])
        n_stages, spent = asyncio.run(_stages(path, work, 300))
    floor_rate = _rate(n_floor, s_floor)
    print(f"Insurance tables benchmark — {date.today()} — {machine()}")
    print(f"envelope {size / 2**20:,.1f} MiB, {n_floor:,} episodes (generate.write_big_envelope, seed {seed}); "
          f"mapping phases over {count} generated episodes (both standards), best of {repeat}")
    print("| phase | episodes/s | share of floor | memory |")
    print("|---|---:|---:|---|")
    print(f"| floor: read_envelope (base64 + XML parse) | {floor_rate:,.0f} | 100% | |")
    print(f"| to_fhir + jsonio.dumps | {to_rate:,.0f} | {to_rate / floor_rate:.0%} | |")
    print(f"| jsonio.loads + from_fhir | {from_rate:,.0f} | {from_rate / floor_rate:.0%} | |")
    for n, (seconds, memory, _) in imports.items():
        rate = _rate(n_floor, seconds)
        how = "in the import process" if n == 0 else f"validation in {n} worker process{'es' if n > 1 else ''}"
        print(f"| `lienthong import --workers {n}` (SQLite, one transaction per episode; {how}) | {rate:,.1f} | "
              f"{rate / floor_rate:.1%} (target ≥ 30%) | {_memory(memory)} |")
    total = sum(spent.values())
    print(f"\nWhere an imported episode's time goes (in-process, first {n_stages} episodes):")
    print("| stage | ms/episode | share | alone, episodes/s |")
    print("|---|---:|---:|---:|")
    for name, seconds in spent.items():
        print(f"| {name} | {seconds / n_stages * 1000:,.1f} | {seconds / total:.0%} | {_rate(n_stages, seconds):,.0f} |")
    print(f"import report: episodes {json.dumps(summary['episodes'])}, {summary['episodes_per_second']} episodes/s, ok={summary['ok']}")


if __name__ == "__main__":
    main()
