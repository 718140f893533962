"""Ingest benchmark on the embedded (SQLite) store.

Measures, in one run:
  floor, single   validate + store one resource at a time, in-process (no HTTP)
  floor, bundle   the same transaction Bundles processed in-process (no HTTP)
  HTTP, single    POST /fhir/{type}, one resource per request
  HTTP, bundle    POST /fhir with transaction Bundles of 100 entries
and, with ``--concurrency C`` (C > 1), the bundle phases again with C Bundles in flight at once
(in-process: C concurrent units, which the store may commit together; over HTTP: C keep-alive
connections). Prints resources/s, p50/p95 latency per request (or per unit) and each HTTP
phase's ratio to its floor. Usage: python benchmarks/ingest.py [--single N] [--bundles N]
[--concurrency C] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import HEADER, Measure, bearer, machine, running_server  # noqa: E402
from server import jsonio  # noqa: E402
from server.config import Settings  # noqa: E402
from server.fhir.bundles import BundleProcessor  # noqa: E402
from server.fhir.intake import check_resource  # noqa: E402
from server.fhir.repository import Repository  # noqa: E402
from server.storage.sqlite.store import SqliteStore  # noqa: E402
from server.synthetic import SampleData  # noqa: E402


def make_bundles(count: int, seed: int) -> list[dict]:
    """Transactions of 100 entries: 20 patients × (Patient, Encounter, 2 Observations, DocumentReference)."""
    data = SampleData(seed)
    bundles = []
    for b in range(count):
        entries = []
        for p in range(20):
            entries += data.patient_bundle(b * 20 + p, observations=2)["entry"]
        bundles.append({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    return bundles


async def floor_single(resources: list[dict], folder: Path) -> Measure:
    store = SqliteStore(str(folder / "floor-single.db"))
    await store.open()
    repo = Repository(store, Settings(integrity_on_write=False))  # as the server below: a bulk load
    lat = []
    t0 = time.perf_counter()
    for r in resources:
        t = time.perf_counter()
        checked = check_resource(r, type_=r["resourceType"])
        await store.atomic(lambda tx, c=checked: repo.create(tx, c["resourceType"], c))
        lat.append(time.perf_counter() - t)
    m = Measure("floor, single (in-process)", len(resources), time.perf_counter() - t0, lat)
    await store.close()
    return m


async def floor_bundles(bundles: list[dict], folder: Path, concurrency: int = 1) -> Measure:
    """The Bundles through BundleProcessor in-process, ``concurrency`` units in flight (the store
    may group their commits)."""
    store = SqliteStore(str(folder / f"floor-bundles-c{concurrency}.db"))
    await store.open()
    repo = Repository(store, Settings(integrity_on_write=False))  # as the server below: a bulk load
    lat: list[float] = []
    todo = iter(bundles)

    async def lane() -> None:
        for b in todo:
            t = time.perf_counter()
            processor = BundleProcessor(repo)
            _, entries = processor.parse(copy.deepcopy(b))
            await processor.transaction(entries)
            lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    name = "floor, bundle of 100 (in-process)" if concurrency == 1 else f"floor, bundle of 100, {concurrency} at once"
    m = Measure(name, 100 * len(bundles), time.perf_counter() - t0, lat)
    await store.close()
    return m


async def http_bundles_concurrent(base: str, bundles: list[dict], auth: dict[str, str], concurrency: int) -> Measure:
    """Transaction Bundles over ``concurrency`` keep-alive connections."""
    lat: list[float] = []
    todo = iter(bundles)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"Content-Type": "application/fhir+json", **auth}, timeout=300, limits=limits) as c:
        async def lane() -> None:
            for b in todo:
                t = time.perf_counter()
                resp = await c.post("", content=jsonio.dumps(b))
                assert resp.status_code == 200, resp.text[:500]
                lat.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return Measure(f"HTTP, transaction of 100, {concurrency} at once", 100 * len(bundles), time.perf_counter() - t0, lat)


def http_single(base: str, resources: list[dict], auth: dict[str, str]) -> Measure:
    lat = []
    with httpx.Client(base_url=base, headers={"Content-Type": "application/fhir+json", "Prefer": "return=minimal", **auth}) as c:
        t0 = time.perf_counter()
        for r in resources:
            t = time.perf_counter()
            resp = c.post(f"/{r['resourceType']}", content=jsonio.dumps(r))
            assert resp.status_code == 201, resp.text
            lat.append(time.perf_counter() - t)
        return Measure("HTTP, single create", len(resources), time.perf_counter() - t0, lat)


def http_bundles(base: str, bundles: list[dict], auth: dict[str, str]) -> Measure:
    lat = []
    with httpx.Client(base_url=base, headers={"Content-Type": "application/fhir+json", **auth}, timeout=120) as c:
        t0 = time.perf_counter()
        for b in bundles:
            t = time.perf_counter()
            resp = c.post("", content=jsonio.dumps(b))
            assert resp.status_code == 200, resp.text[:500]
            lat.append(time.perf_counter() - t)
        return Measure("HTTP, transaction of 100", 100 * len(bundles), time.perf_counter() - t0, lat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--single", type=int, default=2000, help="resources for the single-create phases")
    ap.add_argument("--bundles", type=int, default=30, help="transaction bundles of 100")
    ap.add_argument("--concurrency", type=int, default=8, help="Bundles in flight at once in the concurrent phases (1: none)")
    ap.add_argument("--workers", type=int, default=None, help="server worker processes (default: the server's)")
    args = ap.parse_args()
    resources = list(SampleData(7).resources(args.single))
    bundles = make_bundles(args.bundles, seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        f_single = asyncio.run(floor_single(resources, folder))
        f_bundle = asyncio.run(floor_bundles(bundles, folder))
        f_many = asyncio.run(floor_bundles(make_bundles(args.bundles, seed=11), folder, args.concurrency)) \
            if args.concurrency > 1 else None
        # the single creates include Observations that refer to synthetic patients never stored: the
        # write-time reference check (on by default) would refuse them, so it is off here, as for any bulk load
        extra = ["--no-integrity-on-write"] + (["--workers", str(args.workers)] if args.workers else [])
        with running_server(f"sqlite:///{folder / 'http.db'}", args=extra) as base:
            auth = bearer(f"sqlite:///{folder / 'http.db'}")
            h_single = http_single(base, resources, auth)
            h_bundle = http_bundles(base, make_bundles(args.bundles, seed=11), auth)
        h_many = None
        if args.concurrency > 1:
            with running_server(f"sqlite:///{folder / 'http-many.db'}", args=extra) as base:
                auth = bearer(f"sqlite:///{folder / 'http-many.db'}")
                h_many = asyncio.run(http_bundles_concurrent(base, make_bundles(args.bundles, seed=11), auth, args.concurrency))
    print(f"Ingest benchmark, embedded SQLite store — {date.today()} — {machine()}")
    print("p50/p95: per request (HTTP) or per atomic unit (floor); 'of floor': resources/s relative to the in-process floor of the same work")
    print(HEADER)
    print(f_single.row())
    print(h_single.row(f_single))
    print(f_bundle.row())
    print(h_bundle.row(f_bundle))
    if f_many is not None and h_many is not None:
        print(f_many.row())
        print(h_many.row(f_many))
    print(f"\nTransaction ingest over HTTP: {h_bundle.rate / f_bundle.rate:.0%} of its in-process floor one at a time; {h_bundle.rate / f_single.rate:.0%} of the single-resource floor.")
    if f_many is not None and h_many is not None:
        print(f"With {args.concurrency} at once: {h_many.rate:,.0f} resources/s over HTTP, {h_many.rate / f_many.rate:.0%} of the same in-process (target ≥ 2,500 resources/s and ≥ 90%).")


if __name__ == "__main__":
    main()
