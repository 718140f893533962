"""Search benchmark at a million resources, end to end (issue 3).

Seeds an embedded SQLite store with about 1,000,000 FHIR resources (100,000 Patients with
Vietnamese names and identifiers, each with 2 Encounters and 7 Observations, plus one
patient with 200 resources), through the server's own write preparation (stamping, index
extraction, serialisation; validation is skipped for the generated data) and the store's
bulk path. Then starts `lienthong serve` on that file and runs a fixed query mix over HTTP,
printing p50/p95 per query kind next to its floor: the same lookup straight on the store,
in-process. Usage:

  python benchmarks/search.py [--patients N] [--runs N] [--db PATH] [--reuse]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import bearer, machine, running_server  # noqa: E402
from profiles import SID  # noqa: E402
from server.config import Settings  # noqa: E402
from server.fhir.compartment import compartment_term  # noqa: E402
from server.fhir.repository import Repository  # noqa: E402
from server.fhir.search.deferred import resolve  # noqa: E402
from server.fhir.search.strings import fold  # noqa: E402
from server.storage.base import Query, Write  # noqa: E402
from server.storage.packing import Packed, pack, unpack  # noqa: E402
from server.storage.sqlite.store import SqliteStore  # noqa: E402
from server.synthetic import FAMILY, MIDDLE_F, MIDDLE_M, SampleData  # noqa: E402

SYS_MABN = SID["ma-bn"] + "/01001"  # the facility patient id of the generated patients' facility
PER_PATIENT = 10  # Patient + 2 Encounters + 7 Observations
BIG = "big"  # the patient with 200 resources
CHUNK = 500  # patients per worker task

_repo: Repository | None = None


class _NoStore:
    kind = "none"


def _worker_repo() -> Repository:
    global _repo
    if _repo is None:
        _repo = Repository(_NoStore(), Settings())  # type: ignore[arg-type]
    return _repo


def _patient_writes(n: int, data: SampleData, encounters: int = 2, observations: int = 7, pid: str | None = None) -> list[Write]:
    repo = _worker_repo()
    pid = pid or f"p{n}"
    patient = data.patient(n)
    patient["identifier"].append({"system": SYS_MABN, "value": f"BN{n:08d}"})
    writes = [repo.prepare("Patient", pid, patient)[0]]
    for e in range(encounters):
        enc = data.encounter(f"Patient/{pid}", "01001")
        writes.append(repo.prepare("Encounter", f"{pid}-e{e}", enc)[0])
    for o in range(observations):
        ob = data.observation(f"Patient/{pid}", f"Encounter/{pid}-e{o % max(1, encounters)}")
        writes.append(repo.prepare("Observation", f"{pid}-o{o}", ob)[0])
    return writes


def _chunk(start: int) -> list[Packed]:
    data = SampleData(seed=start)
    out: list[Write] = []
    for n in range(start, start + CHUNK):
        out += _patient_writes(n, data)
    return pack(out)


async def seed(path: Path, patients: int) -> tuple[int, float]:
    store = SqliteStore(str(path))
    await store.open()
    t0 = time.perf_counter()
    total = 0
    async with store.bulk():  # indexes are built once at the end, inside the timing
        with mp.get_context("fork").Pool(2) as pool:
            for packed in pool.imap(_chunk, range(0, patients, CHUNK)):
                writes = unpack(packed)
                await store.bulk_load(writes)
                total += len(writes)
                if total % 100_000 < len(writes):
                    print(f"  loaded {total:,} resources ({total / (time.perf_counter() - t0):,.0f}/s)", file=sys.stderr)
        big = _patient_writes(patients, SampleData(seed=-1), encounters=20, observations=179, pid=BIG)
        await store.bulk_load(big)
        total += len(big)
        print("  building indexes", file=sys.stderr)
    seconds = time.perf_counter() - t0
    await store.close()
    return total, seconds


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))] * 1000


def query_mix(patients: int, runs: int, rng: random.Random) -> dict[str, list[str]]:
    """Query strings per kind (relative to /fhir), fixed by the seed."""
    names = [f"{fold(f)} {fold(m)}" for f in FAMILY for m in MIDDLE_M + MIDDLE_F]
    return {
        "identifier": [f"Patient?identifier={SYS_MABN}|BN{rng.randrange(patients):08d}" for _ in range(runs)],
        "name (accent-folded prefix)": [f"Patient?name={rng.choice(names).replace(' ', '%20')}&_count=20" for _ in range(runs)],
        "name, family only": [f"Patient?family={fold(rng.choice(FAMILY))}&_count=20" for _ in range(runs)],
        "$everything (200 resources)": [f"Patient/{BIG}/$everything?_count=250"] * runs,
        "Observation?subject&code": [f"Observation?subject=Patient/p{rng.randrange(patients)}&code=http://loinc.org|29463-7" for _ in range(runs)],
        "chain subject:Patient.identifier": [f"Observation?subject:Patient.identifier={SYS_MABN}|BN{rng.randrange(patients):08d}" for _ in range(runs)],
    }


def http_times(base: str, queries: list[str], auth: dict[str, str]) -> tuple[list[float], int]:
    times, returned = [], 0
    with httpx.Client(timeout=60, headers=auth) as c:
        c.get(f"{base}/{queries[0]}")  # warm
        for q in queries:
            t = time.perf_counter()
            r = c.get(f"{base}/{q}")
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, (q, r.text[:300])
            returned += len(r.json().get("entry", []))
    return times, returned


async def floor_times(path: Path, queries: list[str]) -> list[float]:
    """The same lookups straight on the store: parsed once, then store.search timed alone."""
    store = SqliteStore(str(path))
    await store.open()
    repo = Repository(store, Settings())
    prepared: list[Callable[[], Any]] = []
    for q in queries:
        url, _, qs = q.partition("?")
        params = [tuple(p.split("=", 1)) for p in qs.replace("%20", " ").split("&")]
        if url.endswith("$everything"):
            where = compartment_term(repo.search_params, BIG, tuple(sorted(repo.types)))
            query = Query(None, where, limit=251, total=True)
        else:
            parsed = repo.parse_search(url, [p for p in params if p[0] != "_count"], strict=True)  # type: ignore[misc]
            where = await resolve(parsed.where, store.search, repo.search_params)
            query = Query(url, where, limit=21, total=True)
        prepared.append(lambda query=query: store.search(query))
    await prepared[0]()
    times = []
    for run in prepared:
        t = time.perf_counter()
        await run()
        times.append(time.perf_counter() - t)
    await store.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--db", type=Path, default=None, help="keep the seeded store in this file")
    ap.add_argument("--reuse", action="store_true", help="time an existing --db without seeding")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "search.db"
    lines = [f"Search benchmark, embedded SQLite store — {date.today()} — {machine()}"]
    if not args.reuse:
        total, seconds = asyncio.run(seed(path, args.patients))
        lines.append(f"Seeded {total:,} resources in {seconds:,.0f} s: {total / seconds:,.0f} resources/s (target ≥ 5,000)")
    mix = query_mix(args.patients, args.runs, random.Random(42))
    lines.append("| query | runs | avg entries | HTTP p50 ms | HTTP p95 ms | floor p50 ms | floor p95 ms |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    floors = {kind: asyncio.run(floor_times(path, qs)) for kind, qs in mix.items()}
    auth = bearer(f"sqlite:///{path}")
    with running_server(f"sqlite:///{path}") as base:
        for kind, qs in mix.items():
            times, returned = http_times(base, qs, auth)
            f = floors[kind]
            lines.append(f"| {kind} | {len(qs)} | {returned / len(qs):.0f} | {pct(times, .5):.1f} | {pct(times, .95):.1f} | {pct(f, .5):.1f} | {pct(f, .95):.1f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
