"""What the audit trail costs a reader (issue 10): reads over HTTP with and without it.

Seeds an embedded SQLite store with Patients (the server's own write preparation, the bulk
path), then starts `lienthong serve` twice on it, with the audit trail on and with
`LIENTHONG_AUDIT=off`, and drives `GET /fhir/Patient/{id}` with wrk (keep-alive, 2 threads,
32 connections, ids rotating) carrying a vendor's bearer token (`lienthong token --scope
"system/*.rs"`). Floor: the same reads through the Repository in-process, without HTTP.
Afterwards it checks that the store holds one AuditEvent per read wrk completed: at least as
many, and at most the connections more (the requests in flight when wrk stopped are served
and audited, but wrk does not count them).

  python benchmarks/audit.py [--patients N] [--seconds S] [--connections C]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import bearer, machine, running_server  # noqa: E402
from benchmarks._common import wrk as run_wrk  # noqa: E402
from server.config import Settings  # noqa: E402
from server.fhir.repository import Repository  # noqa: E402
from server.storage.base import Query  # noqa: E402
from server.storage.sqlite.store import SqliteStore  # noqa: E402

LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local n = 0
wrk.headers["Authorization"] = "%(auth)s"
wrk.headers["Accept"] = "application/fhir+json"
request = function()
  n = n + 1
  return wrk.format("GET", "/fhir/Patient/" .. ids[(n %% #ids) + 1])
end
"""


async def seed(path: Path, patients: int) -> list[str]:
    store = SqliteStore(str(path))
    await store.open()
    repo = Repository(store, Settings())
    ids = [f"p{i}" for i in range(patients)]
    writes = [repo.prepare("Patient", pid, {"resourceType": "Patient", "id": pid, "name": [{"family": "Nguyễn", "given": ["Văn", f"An{i}"]}],
                                            "gender": "male", "birthDate": "1980-01-01"})[0] for i, pid in enumerate(ids)]
    async with store.bulk():
        for i in range(0, len(writes), 5000):
            await store.bulk_load(writes[i:i + 5000])
    await store.close()
    return ids


async def floor(path: Path, ids: list[str], seconds: float) -> float:
    """Reads per second through the Repository, in-process, one at a time."""
    store = SqliteStore(str(path))
    await store.open()
    repo = Repository(store, Settings())
    rng, n, t0 = random.Random(1), 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        await repo.read("Patient", rng.choice(ids))
        n += 1
    rate = n / (time.perf_counter() - t0)
    await store.close()
    return rate


async def count_events(path: Path) -> int:
    store = SqliteStore(str(path))
    await store.open()
    total = (await store.search(Query("AuditEvent", limit=0, total=True))).total or 0
    await store.close()
    return total


def settled_count(path: Path, limit: float = 60.0) -> int:
    """The AuditEvents stored once the trail has written what it queued (the count stops moving)."""
    stored, deadline = -1, time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = asyncio.run(count_events(path))
        if now == stored:
            break
        stored = now
    return stored


def wrk(base: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    return run_wrk(base.removesuffix("/fhir"), seconds, connections, script=script)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = []
        for label, env in (("audit on", {}), ("audit off (LIENTHONG_AUDIT=off)", {"LIENTHONG_AUDIT": "off"})):
            path = folder / f"{'on' if not env else 'off'}.db"
            ids = asyncio.run(seed(path, args.patients))
            (folder / "ids.txt").write_text("\n".join(ids) + "\n")
            url = f"sqlite:///{path}"
            script = folder / "read.lua"
            script.write_text(LUA % {"ids": folder / "ids.txt", "auth": bearer(url, "system/*.rs")["Authorization"]})
            with running_server(url, env) as base:
                wrk(base, script, 3, args.connections)  # warm-up (its reads are audited too)
                before = settled_count(path)
                result = wrk(base, script, args.seconds, args.connections)
                stored = settled_count(path) - before
            rows.append((label, result, stored))
        base_floor = asyncio.run(floor(folder / "off.db", ids, 5.0))
    print(f"# Audit cost on reads — {machine()} — {time.strftime('%Y-%m-%d')}")
    print(f"{args.patients} Patients, wrk -t2 -c{args.connections} -d{args.seconds}s, keep-alive, GET /fhir/Patient/{{id}} with a bearer token\n")
    print("| run | req/s | p50 ms | p99 ms | share of floor | AuditEvents stored / reads |")
    print("|---|---:|---:|---:|---:|---:|")
    verdicts = []
    for label, r, stored in rows:
        check = f"{stored:,} / {r['requests']:,}" if label == "audit on" else f"{stored} (none expected)"
        if label == "audit on":
            extra = stored - int(r["requests"])
            verdicts.append(f"AuditEvents − reads = {extra} ({'ok' if 0 <= extra <= args.connections else 'MISMATCH'}: 0 to {args.connections} expected)")
        elif stored != 0:
            verdicts.append(f"audit off stored {stored} events (MISMATCH: none expected)")
        print(f"| {label} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['rps'] / base_floor:.0%} | {check} |")
    print(f"| floor: Repository.read in-process, one at a time | {base_floor:,.0f} | | | 100% | |")
    on, off = rows[0][1]["rps"], rows[1][1]["rps"]
    print(f"\nWith audit: {on / off:.0%} of the throughput without it (the target: not below 50%).")
    for v in verdicts:
        print(v)


if __name__ == "__main__":
    main()
