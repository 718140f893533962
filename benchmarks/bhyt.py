"""Throughput and memory of the insurance-table mapping (mappings.bhyt_xml) and of `lienthong import`.

Phases (episodes/s):
  floor       read_envelope over a generated envelope of --mb megabytes: base64 decoding and XML
              parsing of every table, the least any import of that file does
  to_fhir     to_fhir(episode) + jsonio.dumps of the Bundle (episodes in memory)
  from_fhir   jsonio.loads of the Bundle + from_fhir(bundle)
  import      `lienthong import FILE --store sqlite:///…` in a child process on a fresh database:
              check, map and store every episode, one transaction each (wall time, peak RSS of
              the child from getrusage)
Each rate is also given as a share of the floor. Run by `benchmarks/mappings.py` too.
Usage: python benchmarks/bhyt.py [--mb 100] [--episodes 1000] [--seed S] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, machine  # noqa: E402
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


def run_import(path: Path, work: Path, workers: int = 0) -> tuple[float, float, dict]:
    """(seconds, peak RSS MiB of the largest process, report) of one `lienthong import` on a fresh database."""
    report = work / f"report-{workers}.json"
    cmd = [sys.executable, "-m", "server.cli", "import", str(path), "--store", f"sqlite:///{work}/import-{workers}.db",
           "--report", str(report), "--quarantine", str(work / f"quarantine-{workers}"), "--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr.decode()[-2000:])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kib <= before:
        raise RuntimeError("could not read the child's peak RSS")
    return seconds, peak_kib / 1024, json.loads(report.read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=100, help="size of the generated envelope (default 100)")
    ap.add_argument("--episodes", type=int, default=1000, help="episodes for the mapping phases (default 1000)")
    ap.add_argument("--seed", type=int, default=130)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    report(args.mb, args.episodes, args.seed, args.repeat)


def report(mb: int, count: int, seed: int, repeat: int) -> None:
    """Run every phase and print the table (also called by benchmarks/mappings.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "envelope.xml"
        written = write_big_envelope(path, mb * 2**20, seed)
        size = path.stat().st_size
        n_floor, s_floor = floor(path, repeat)
        assert n_floor == written
        to_rate, from_rate = mapping_rates(count, seed, repeat)
        s_import, rss, summary = run_import(path, work)
        s_workers, rss_workers, summary_workers = run_import(path, work, workers=1)
        assert summary_workers["episodes"] == summary["episodes"]
        n_stages, spent = asyncio.run(_stages(path, work, 300))
    floor_rate = _rate(n_floor, s_floor)
    import_rate = _rate(n_floor, s_import)
    print(f"Insurance tables benchmark — {date.today()} — {machine()}")
    print(f"envelope {size / 2**20:,.1f} MiB, {n_floor:,} episodes (generate.write_big_envelope, seed {seed}); "
          f"mapping phases over {count} generated episodes (both standards), best of {repeat}")
    print("| phase | episodes/s | share of floor | memory |")
    print("|---|---:|---:|---|")
    print(f"| floor: read_envelope (base64 + XML parse) | {floor_rate:,.0f} | 100% | |")
    print(f"| to_fhir + jsonio.dumps | {to_rate:,.0f} | {to_rate / floor_rate:.0%} | |")
    print(f"| jsonio.loads + from_fhir | {from_rate:,.0f} | {from_rate / floor_rate:.0%} | |")
    print(f"| `lienthong import` (SQLite, one transaction per episode) | {import_rate:,.1f} | {import_rate / floor_rate:.1%} "
          f"| peak RSS {rss:,.0f} MiB |")
    rate_workers = _rate(n_floor, s_workers)
    print(f"| `lienthong import --workers 1` (validation in a second process) | {rate_workers:,.1f} | "
          f"{rate_workers / floor_rate:.1%} | peak RSS {rss_workers:,.0f} MiB (largest process; the worker adds its own) |")
    total = sum(spent.values())
    print(f"\nWhere an imported episode's time goes (in-process, first {n_stages} episodes):")
    print("| stage | ms/episode | share | alone, episodes/s |")
    print("|---|---:|---:|---:|")
    for name, seconds in spent.items():
        print(f"| {name} | {seconds / n_stages * 1000:,.1f} | {seconds / total:.0%} | {_rate(n_stages, seconds):,.0f} |")
    print(f"import report: episodes {json.dumps(summary['episodes'])}, {summary['episodes_per_second']} episodes/s, ok={summary['ok']}")


if __name__ == "__main__":
    main()
