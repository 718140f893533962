"""The workspace's patient page (issue 15): server time of ``GET /app/patient/{id}`` for a record of
about 200 resources (the synthetic trends record: ten episodes at three facilities, repeated
laboratory tests and vital signs), against its floor.

- page, in-process: the whole request through the ASGI app (httpx ``ASGITransport``) with a
  workspace session cookie, so the session lookup, the token's guarded repository, ``$everything``,
  rendering and the audit hand-off all run; no network;
- page, HTTP: the same request to ``lienthong serve`` over loopback (one worker), one at a time;
- under load: wrk, 32 keep-alive connections, 1 and 2 workers, against the floor's rate on one core;
- floor, read: ``reading.record`` (``$everything``, all pages) + ``Record.of`` on the unguarded
  repository, without a request, a session or rendering;
- floor, render: the sections and the page frame on a record read once.

  python benchmarks/workspace_page.py [--runs 50] [--seed 7] [--no-http]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Awaitable, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from benchmarks._common import machine, server_process, wrk  # noqa: E402
from server.app import create_app  # noqa: E402
from server.auth.tokens import Principal, issue  # noqa: E402
from server.config import Settings  # noqa: E402
from server.fhir.bundles import BundleProcessor  # noqa: E402
from server.storage.sqlite.store import SqliteStore  # noqa: E402
from server.synthetic import trends_bundle  # noqa: E402
from server.workspace import sessions  # noqa: E402
from server.workspace.context import Ctx  # noqa: E402
from server.workspace.layout import Frame, page  # noqa: E402
from server.workspace.reading import record as read_record  # noqa: E402
from server.workspace.record import Record  # noqa: E402
from server.workspace.sections import SECTIONS  # noqa: E402

TARGET_MS = 300.0


async def timed(runs: int, step: Callable[[], Awaitable[object]], warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        await step()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await step()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p(xs: list[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(name: str, xs: list[float], floor: float | None = None) -> str:
    ratio = f"{statistics.median(xs) / floor:.2f}×" if floor else "—"
    return f"| {name} | {len(xs)} | {statistics.median(xs):.1f} | {p(xs, 0.95):.1f} | {ratio} |"


def padded(bundle: dict, size: int) -> dict:
    """The bundle with more results of its laboratory tests, one day apart after the last, until it
    holds ``size`` resources (the issue's page is one of 200)."""
    labs = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
            and any(c.get("code") == "laboratory" for cc in e["resource"].get("category", []) for c in cc.get("coding", []))]
    n = 0
    while len(bundle["entry"]) < size:
        source = copy.deepcopy(labs[n % len(labs)]["resource"])
        n += 1
        source["id"] = f"{source['id']}-more-{n}"
        when = datetime.fromisoformat(source["effectiveDateTime"]) + timedelta(days=n)
        source["effectiveDateTime"] = when.isoformat(timespec="seconds")
        source.pop("partOf", None)
        source.pop("encounter", None)
        bundle["entry"].append({"fullUrl": f"https://lienthong.dev/fhir/Observation/{source['id']}", "resource": source,
                                "request": {"method": "PUT", "url": f"Observation/{source['id']}"}})
    return bundle


async def seed(path: Path, seed_: int, size: int = 200) -> tuple[str, str, int]:
    """The store with the trends record (padded to ``size`` resources) and a doctor's workspace
    session: (patient id, cookie, resources)."""
    store = SqliteStore(str(path))
    await store.open()
    settings = Settings()
    app = create_app(settings, store)
    bundle = padded(trends_bundle(seed_, prefix="bench"), size)
    processor = BundleProcessor(app.state.repo)
    _, entries = processor.parse(bundle)
    await processor.transaction(entries)
    token, claims = await issue(store, settings, Principal(scope="user/*.rs openid", client_id="lienthong-workspace", user="bs.bench"))
    cookie, _ = await sessions.start(store, user="bs.bench", provider="local", access_token=token,
                                     expires_in=claims["exp"] - claims["iat"], refresh_token=None)
    await app.state.audit.stop()
    await store.close()
    return "bench-patient-1", cookie, len(bundle["entry"])


async def in_process(path: Path, pid: str, cookie: str, runs: int) -> dict[str, list[float]]:
    store = SqliteStore(str(path))
    await store.open()
    app = create_app(Settings(), store)
    out: dict[str, list[float]] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", cookies={sessions.COOKIE: cookie}) as client:
        async def get_page() -> None:
            r = await client.get(f"/app/patient/{pid}")
            assert r.status_code == 200 and "<svg" in r.text, (r.status_code, r.text[:300])
        out["page, in-process (ASGI)"] = await timed(runs, get_page)
        size = len((await client.get(f"/app/patient/{pid}")).content)

    repo = app.state.repo

    async def read() -> Record:
        return Record.of(pid, *await read_record(repo, pid))
    out["floor: read ($everything) + Record.of"] = await timed(runs, read)

    record = await read()
    ctx = Ctx(request=None, session=None, frame=Frame("vi", f"/app/patient/{pid}", [], "bs.bench", "x"), repo=repo)  # type: ignore[arg-type]

    async def render() -> str:
        body = "\n".join(part for part in (section(ctx, record) for section in SECTIONS) if part)
        return page(ctx.frame, "x", body, styles=("record.css",))
    out["floor: render (sections + frame)"] = await timed(runs, render)
    out["_size"] = [float(size), float(record.size)]
    await app.state.audit.stop()
    await store.close()
    return out


def over_http(path: Path, pid: str, cookie: str, runs: int) -> list[float]:
    with server_process(f"sqlite:///{path}") as server:
        root = server.base.removesuffix("/fhir")
        with httpx.Client(base_url=root, cookies={sessions.COOKIE: cookie}, timeout=30) as client:
            for _ in range(3):
                assert client.get(f"/app/patient/{pid}").status_code == 200
            out = []
            for _ in range(runs):
                t0 = time.perf_counter()
                r = client.get(f"/app/patient/{pid}")
                out.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200
            return out


def under_load(path: Path, pid: str, cookie: str, seconds: int, connections: int, workers: int) -> dict[str, float]:
    """wrk at ``connections`` keep-alive connections on the page, ``lienthong serve --workers``."""
    with server_process(f"sqlite:///{path}", ["--workers", str(workers)]) as server:
        url = f"{server.base.removesuffix('/fhir')}/app/patient/{pid}"
        headers = {"Cookie": f"{sessions.COOKIE}={cookie}"}
        wrk(url, 2, connections, headers=headers)  # warm-up
        return wrk(url, seconds, connections, headers=headers)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--resources", type=int, default=200, help="resources in the record (the trends record, padded with more results)")
    ap.add_argument("--no-http", action="store_true", help="skip the runs against lienthong serve")
    ap.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        pid, cookie, count = asyncio.run(seed(path, args.seed, args.resources))
        results = asyncio.run(in_process(path, pid, cookie, args.runs))
        size, record_size = results.pop("_size")
        loads = {}
        if not args.no_http:
            results["page, HTTP (lienthong serve, loopback)"] = over_http(path, pid, cookie, args.runs)
            for workers in (1, 2):
                loads[workers] = under_load(path, pid, cookie, args.seconds, args.connections, workers)
    floor = statistics.median(results["floor: read ($everything) + Record.of"]) + statistics.median(results["floor: render (sections + frame)"])
    print(f"# Patient page — {date.today()}, {machine()}")
    print(f"record: {count} resources written, {int(record_size)} read by $everything; page {size / 1024:.0f} KiB; {args.runs} runs each\n")
    print("| phase | runs | median ms | p95 ms | of floor (read + render) |\n|---|---:|---:|---:|---:|")
    for name, xs in results.items():
        print(row(name, xs, floor if name.startswith("page") else None))
    if loads:
        floor_rps = 1000.0 / floor
        print(f"\nunder load: wrk -c{args.connections} -d{args.seconds}s, keep-alive, the same session cookie (each view audited)\n")
        print("| workers | req/s | p50 ms | p99 ms | of the one-core floor (1000 / read+render ms) |\n|---:|---:|---:|---:|---:|")
        for workers, r in loads.items():
            print(f"| {workers} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['rps'] / floor_rps:.2f}× |")
    page_ms = statistics.median(results["page, in-process (ASGI)"])
    print(f"\ntarget < {TARGET_MS:.0f} ms server time: {'met' if page_ms < TARGET_MS else 'NOT met'} ({page_ms:.1f} ms median in-process)")


if __name__ == "__main__":
    main()
