"""Throughput under concurrent load: create, update, read and identifier search over HTTP.

Seeds a fresh embedded SQLite store with Patients (the server's own write preparation, the
bulk path), starts `lienthong serve` on a copy of it (authorization on, a vendor's bearer token
from `lienthong token --scope system/*.cruds`; or `--auth off` on 127.0.0.1), and drives it with
wrk (/usr/bin/wrk: keep-alive, 2 threads, 32 connections, `benchmarks/lua/fhir.lua`):

  create   POST /fhir/Patient, `Prefer: return=minimal`
  update   PUT /fhir/Patient/{id} of seeded Patients, a new version each (no If-Match; each
           wrk thread has its own ids, so no two threads change the same Patient)
  read     GET /fhir/Patient/{id}, ids in a shuffled order
  search   GET /fhir/Patient?identifier=system|value (the insurance card number), one match

For each: requests/s, latency p50/p90/p95/p99/max (wrk's histogram; p95 from the script's
done()), non-2xx responses and socket errors, the server's CPU per request, and how busy the
whole machine was while it ran (the load generator runs on the same cores). The floor of each
operation is the same work in-process, one at a time, without HTTP: parse + `check_resource` +
`Repository.create`/`update` in one atomic unit, `Repository.read`, `Repository.search` of the
parsed identifier query. "of floor" = HTTP req/s ÷ floor/s. "/vCPU" = req/s ÷ the cores here.

  python benchmarks/load.py [--workers 1,2] [--seconds 15] [--warmup 3] [--connections 32]
                            [--resources 100000] [--ops create,update,read,search]
                            [--json FILE] [--auth on|off] [--audit on|off]

One server per worker count (default 1 and 2), each on its own copy of the seeded store; `--workers
N` is passed to `lienthong serve` when it has that option (without it only 1 runs, and the other
counts are reported as skipped). Figures taken while other processes used more than 10% of the
CPUs are flagged ⚠. Notes and figures: docs/benchmarks-load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (  # noqa: E402
    Server,
    bearer,
    busy_share,
    cpu_seconds,
    cpu_ticks,
    descendants,
    machine_facts,
    process_cpu,
    serve_options,
    server_process,
    uptime,
)
from server import jsonio  # noqa: E402
from server.config import Settings  # noqa: E402
from server.fhir.intake import check_resource  # noqa: E402
from server.fhir.repository import Repository  # noqa: E402
from server.storage.sqlite.store import SqliteStore  # noqa: E402
from server.synthetic import SampleData  # noqa: E402

WRK = "/usr/bin/wrk"
LUA = Path(__file__).resolve().parent / "lua" / "fhir.lua"
OPS = ("create", "update", "read", "search")
RUN_ORDER = ("read", "search", "update", "create")  # creates last: they grow the store
TARGETS = {"create": 1300.0, "update": 1000.0, "read": 3500.0}  # req/s at c=32 on 2 cores (the issue)
CHUNK = 5000
CORES = len(os.sched_getaffinity(0))
DISTURBED = 0.10  # others' share of the CPUs above which a figure is flagged


@dataclass
class Seeded:
    """The seeded Patients: ids and their insurance card identifier (system, value)."""

    ids: list[str]
    identifiers: list[tuple[str, str]]
    seconds: float


@dataclass
class Run:
    """One wrk run against one server configuration."""

    op: str
    workers: int
    seconds: float
    requests: int
    rps: float
    latency_ms: dict[str, float]
    statuses: dict[str, int]
    non_2xx: int
    socket_errors: dict[str, int]
    server_cpu_s: float
    wrk_cpu_s: float
    machine_busy: float
    other_cpu_s: float  # CPU the rest of the machine used meanwhile (other people's work; the kernel)
    floor_rps: float | None = None
    target_rps: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def other_share(self) -> float:
        """Share of the machine's CPU capacity taken by processes other than the server and wrk."""
        return self.other_cpu_s / (CORES * self.extra.get("wall_s", self.seconds))

    @property
    def ratio(self) -> float | None:
        return self.rps / self.floor_rps if self.floor_rps else None


# ----------------------------------------------------------------------------- seeding

async def seed(path: Path, count: int, seed_value: int = 7) -> Seeded:
    """``count`` Patients through ``Repository.prepare`` and ``bulk_load`` (no validation, as seeding does)."""
    store = SqliteStore(str(path))
    await store.open()
    repo = Repository(store, Settings())
    data = SampleData(seed_value)
    ids, identifiers = [], []
    t0 = time.perf_counter()
    async with store.bulk():
        for start in range(0, count, CHUNK):
            writes = []
            for n in range(start, min(count, start + CHUNK)):
                patient = data.patient(n)
                ids.append(f"p{n}")
                card = patient["identifier"][1]
                identifiers.append((card["system"], card["value"]))
                writes.append(repo.prepare("Patient", ids[-1], patient)[0])
            await store.bulk_load(writes)
    seconds = time.perf_counter() - t0
    await store.close()
    return Seeded(ids, identifiers, seconds)


def copy_store(source: Path, target: Path) -> Path:
    """A copy of a closed SQLite store (with its -wal/-shm files if any are left)."""
    for suffix in ("", "-wal", "-shm"):
        src = source.with_name(source.name + suffix)
        if src.exists():
            shutil.copyfile(src, target.with_name(target.name + suffix))
    return target


def body_templates(folder: Path) -> tuple[Path, Path]:
    """Patient bodies for create and update; the Lua script fills in @N@ (and @ID@)."""
    patient = SampleData(99).patient(0)
    patient["identifier"][1]["value"] = "DN401@N@"
    patient["telecom"][0]["value"] = "09@N@"
    create = folder / "create.json"
    update = folder / "update.json"
    create.write_text(json.dumps(patient, ensure_ascii=False), encoding="utf-8")
    update.write_text(json.dumps({"resourceType": "Patient", "id": "@ID@", **patient}, ensure_ascii=False), encoding="utf-8")
    return create, update


def request_lines(folder: Path, seeded: Seeded) -> dict[str, Path]:
    """The LINES file of each operation, shuffled with a fixed seed (reads spread over the store)."""
    order = list(range(len(seeded.ids)))
    random.Random(1).shuffle(order)
    contents = {
        "read": [f"/fhir/Patient/{seeded.ids[i]}" for i in order],
        "search": [f"/fhir/Patient?identifier={quote(seeded.identifiers[i][0], safe='')}%7C{quote(seeded.identifiers[i][1], safe='')}" for i in order],
        "update": [seeded.ids[i] for i in order],
    }
    paths = {}
    for op, lines in contents.items():
        paths[op] = folder / f"{op}.txt"
        paths[op].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


# ----------------------------------------------------------------------------- floors

FLOOR_BUSY: dict[str, float] = {}  # share of the CPUs busy during each floor (one process uses 1/cores)


async def timed_loop(seconds: float, step: Callable[[int], Awaitable[object]]) -> float:
    """Calls of ``step(n)`` per second, one at a time, for ``seconds``."""
    n, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        await step(n)
        n += 1
    return n / elapsed


async def timed_op(op: str, seconds: float, step: Callable[[int], Awaitable[object]]) -> float:
    """:func:`timed_loop`, noting how busy the machine was meanwhile in ``FLOOR_BUSY``."""
    before = cpu_ticks()
    rate = await timed_loop(seconds, step)
    FLOOR_BUSY[op] = busy_share(before, cpu_ticks())
    return rate


async def floors(path: Path, seeded: Seeded, create_body: str, update_body: str, seconds: float, ops: list[str]) -> dict[str, float]:
    """Each operation's work in-process without HTTP: the ceiling of one server process."""
    store = SqliteStore(str(path))
    await store.open()
    repo = Repository(store, Settings())
    depth = repo.settings.max_json_depth
    ids, cards = seeded.ids, seeded.identifiers

    async def create(n: int) -> object:
        checked = check_resource(jsonio.loads(create_body.replace("@N@", str(n))), type_="Patient", max_depth=depth)
        return await repo.atomic(lambda tx: repo.create(tx, "Patient", checked))

    async def update(n: int) -> object:
        pid = ids[n % len(ids)]
        data = jsonio.loads(update_body.replace("@ID@", pid).replace("@N@", str(n)))
        checked = check_resource(data, type_="Patient", id_=pid, require_id=True, max_depth=depth)
        return await repo.atomic(lambda tx: repo.update(tx, "Patient", pid, checked))

    async def read(n: int) -> object:
        return await repo.read("Patient", ids[(n * 7919) % len(ids)])

    async def search(n: int) -> object:
        system, value = cards[(n * 7919) % len(cards)]
        parsed = repo.parse_search("Patient", [("identifier", f"{system}|{value}")], strict=False)
        return await repo.search("Patient", parsed, {})

    steps = {"create": create, "update": update, "read": read, "search": search}
    try:
        return {op: await timed_op(op, seconds, steps[op]) for op in RUN_ORDER if op in ops}
    finally:
        await store.close()


# ----------------------------------------------------------------------------- wrk

def wrk_command(root_url: str, op: str, lines: Path | None, body: Path | None, seconds: float, connections: int, threads: int) -> list[str]:
    return [WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "--latency",
            "-s", str(LUA), root_url, "--", op, str(threads), str(lines or "-"), str(body or "-")]


def parse_wrk(out: str) -> dict[str, Any]:
    """The ``LOAD_RESULT`` line the Lua script's done() prints, as a dict."""
    for line in out.splitlines():
        if line.startswith("LOAD_RESULT "):
            return json.loads(line.removeprefix("LOAD_RESULT "))
    raise RuntimeError(f"wrk printed no LOAD_RESULT line:\n{out}")


def wrk_rate(out: str) -> float | None:
    """wrk's own "Requests/sec" line (a cross-check of the rate computed from LOAD_RESULT)."""
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE)
    return float(m.group(1)) if m else None


def run_wrk(cmd: list[str], auth: str) -> tuple[dict[str, Any], str]:
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env={"LOAD_AUTH": auth, "PATH": "/usr/bin:/bin"})
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr}\n{proc.stdout}")
    return parse_wrk(proc.stdout), proc.stdout


def children_cpu() -> float:
    """CPU seconds of this process's waited-for children (here: the wrk runs)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def settle(server: Server, quiet: float = 0.05, limit: float = 30.0) -> None:
    """Wait until the server is idle (the audit trail writes what it queued after a run)."""
    deadline = time.monotonic() + limit
    last = cpu_seconds(descendants(server.proc.pid))
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(descendants(server.proc.pid))
        if now - last < quiet:
            return
        last = now


def measure(server: Server, op: str, workers: int, cmd: list[str], auth: str) -> Run:
    """One wrk run with the server's CPU, wrk's CPU and the whole machine's busy share around it."""
    pids = descendants(server.proc.pid)
    cpu0, wrk0, ticks0, t0 = cpu_seconds(pids), children_cpu(), cpu_ticks(), time.perf_counter()
    result, text = run_wrk(cmd, auth)
    elapsed = time.perf_counter() - t0
    server_cpu = cpu_seconds(descendants(server.proc.pid)) - cpu0
    wrk_cpu, busy = children_cpu() - wrk0, busy_share(ticks0, cpu_ticks())
    duration = result["duration_us"] / 1e6
    other = max(0.0, busy * CORES * elapsed - server_cpu - wrk_cpu)
    lat = {k: v / 1000 for k, v in result["latency_us"].items()}
    errors = {k: v for k, v in result["errors"].items() if k != "status"}
    return Run(op, workers, duration, result["requests"], result["requests"] / duration, lat,
               {str(k): v for k, v in sorted(result["statuses"].items())}, result["errors"]["status"], errors,
               server_cpu, wrk_cpu, busy, other, target_rps=TARGETS.get(op),
               extra={"wall_s": round(elapsed, 2), "wrk_requests_per_sec": wrk_rate(text)})


# ----------------------------------------------------------------------------- runs

@dataclass
class Plan:
    """What to run against each server: options shared by every worker count."""

    ops: list[str]
    seconds: float
    warmup: float
    connections: int
    threads: int
    auth: bool
    audit: bool
    has_workers_option: bool


def serve_args(plan: Plan, workers: int) -> list[str]:
    args = ["--auth", "on" if plan.auth else "off"]
    return args + (["--workers", str(workers)] if plan.has_workers_option else [])


def run_server(plan: Plan, workers: int, db: Path, lines: dict[str, Path], bodies: dict[str, Path], folder: Path) -> list[Run]:
    """Every operation against one `lienthong serve --workers N` on its own copy of the seeded store."""
    url = f"sqlite:///{db}"
    auth = bearer(url)["Authorization"] if plan.auth else ""
    env = {} if plan.audit else {"LIENTHONG_AUDIT": "off"}
    runs = []
    with server_process(url, serve_args(plan, workers), env, log=folder / f"server-w{workers}.log") as server:
        root = server.base.removesuffix("/fhir")
        for op in (o for o in RUN_ORDER if o in plan.ops):
            if plan.warmup > 0:
                run_wrk(wrk_command(root, op, lines.get(op), bodies.get(op), plan.warmup, plan.connections, plan.threads), auth)
            settle(server)
            cmd = wrk_command(root, op, lines.get(op), bodies.get(op), plan.seconds, plan.connections, plan.threads)
            runs.append(measure(server, op, workers, cmd, auth))
            print(f"  workers={workers} {op}: {runs[-1].rps:,.0f} req/s", file=sys.stderr)
    return runs


def worker_counts(text: str) -> list[int]:
    counts = [int(x) for x in text.split(",") if x.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--workers takes positive counts, e.g. 1,2")
    return counts


def idle_check(seconds: float = 2.0) -> tuple[float, list[str]]:
    """Share of the CPUs busy before the benchmark starts, and the processes busy then (other work here)."""
    before, procs = cpu_ticks(), process_cpu()
    time.sleep(seconds)
    share, after = busy_share(before, cpu_ticks()), process_cpu()
    used = sorted(((after[p][1] - procs[p][1], p, after[p][0]) for p in after.keys() & procs.keys()), reverse=True)
    return share, [f"pid {pid} {name} {cpu / seconds:.0%}" for cpu, pid, name in used if cpu / seconds >= 0.05]


# ----------------------------------------------------------------------------- report

def fmt(x: float | None, spec: str = ",.0f") -> str:
    return "—" if x is None else format(x, spec)


def verdict(run: Run) -> str:
    if run.target_rps is None:
        return "—"
    return f"{'✅' if run.rps >= run.target_rps else '❌'} ≥ {run.target_rps:,.0f}"


def row(run: Run, cores: int) -> list[str]:
    errors = run.non_2xx + sum(run.socket_errors.values())
    lat = run.latency_ms
    return [run.op, str(run.workers), fmt(run.rps), fmt(run.rps / cores), fmt(run.floor_rps), fmt(run.ratio, ".0%"),
            fmt(lat["p50"], ".2f"), fmt(lat["p90"], ".2f"), fmt(lat["p95"], ".2f"), fmt(lat["p99"], ".2f"), fmt(lat["max"], ".1f"),
            f"{errors:,}", fmt(run.server_cpu_s / max(1, run.requests) * 1000, ".2f"),
            f"{run.machine_busy:.0%} ({run.other_share:.0%}{' ⚠' if run.other_share > DISTURBED else ''})", verdict(run)]


COLUMNS = ["op", "workers", "req/s", "/vCPU", "floor/s", "of floor", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms",
           "errors", "srv CPU ms/req", "CPUs busy (others)", "target"]


def print_table(runs: list[Run], cores: int, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, name in enumerate(COLUMNS):
        table.add_column(name, justify="left" if i == 0 else "right")
    for run in sorted(runs, key=lambda r: (r.workers, OPS.index(r.op))):
        table.add_row(*row(run, cores))
    Console(width=max(160, Console().width), highlight=False).print(table)


def print_markdown(runs: list[Run], cores: int) -> None:
    """The same rows as a Markdown table, for docs/."""
    print("| " + " | ".join(COLUMNS) + " |")
    print("|---|" + "---:|" * (len(COLUMNS) - 1))
    for run in sorted(runs, key=lambda r: (r.workers, OPS.index(r.op))):
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in row(run, cores)) + " |")


def print_details(runs: list[Run]) -> None:
    """Statuses and socket errors per run, and where the CPU went."""
    for run in sorted(runs, key=lambda r: (r.workers, OPS.index(r.op))):
        print(f"  {run.op:<6} workers={run.workers}: {run.requests:,} requests in {run.seconds:.1f} s; statuses {run.statuses}; "
              f"socket errors {run.socket_errors}; CPU s: server {run.server_cpu_s:.1f}, wrk {run.wrk_cpu_s:.1f}, "
              f"others {run.other_cpu_s:.1f} (of {CORES * run.extra['wall_s']:.0f} available)")
    disturbed = [f"{r.op} (workers={r.workers}): {r.other_share:.0%}" for r in runs if r.other_share > DISTURBED]
    if disturbed:
        print(f"  ⚠ other work took more than {DISTURBED:.0%} of the CPUs during: {', '.join(disturbed)} — re-run those figures on a quiet machine")


# ----------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=worker_counts, default=[1, 2], help="server worker counts, one run each (default 1,2)")
    ap.add_argument("--seconds", type=float, default=15, help="measured seconds per operation (default 15)")
    ap.add_argument("--warmup", type=float, default=3, help="warm-up seconds per operation, not counted (default 3; 0: none)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--resources", type=int, default=100_000, help="Patients seeded before the runs (default 100000)")
    ap.add_argument("--ops", default=",".join(OPS), help=f"operations to run (default {','.join(OPS)})")
    ap.add_argument("--floor-seconds", type=float, default=5, help="seconds per in-process floor (default 5; 0: skip)")
    ap.add_argument("--auth", choices=("on", "off"), default="on", help="on: bearer token (default); off: --auth off on 127.0.0.1")
    ap.add_argument("--audit", choices=("on", "off"), default="on", help="off: LIENTHONG_AUDIT=off (default on, the server's default)")
    ap.add_argument("--json", type=Path, default=None, help="also write every figure to this JSON file")
    args = ap.parse_args(argv)
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = set(args.ops) - set(OPS)
    if unknown:
        ap.error(f"unknown operations: {', '.join(sorted(unknown))}")
    if args.connections < args.threads:
        ap.error("--connections must be at least --threads")
    return args


def runnable(counts: list[int], has_option: bool) -> tuple[list[int], list[str]]:
    """The worker counts this server can run, and a note for each it cannot."""
    if has_option:
        return counts, []
    ok = [c for c in counts if c == 1]
    notes = [f"workers={c} skipped: `lienthong serve` has no --workers option in this tree" for c in counts if c != 1]
    return ok, notes


def prepare(folder: Path, args: argparse.Namespace) -> tuple[Seeded, dict[str, Path], dict[str, Path], dict[str, float]]:
    """The seeded store, the wrk inputs and the in-process floors (before any server runs)."""
    print(f"seeding {args.resources:,} Patients …", file=sys.stderr)
    seeded = asyncio.run(seed(folder / "seed.db", args.resources))
    create_body, update_body = body_templates(folder)
    bodies = {"create": create_body, "update": update_body}
    lines = request_lines(folder, seeded)
    floor: dict[str, float] = {}
    if args.floor_seconds > 0:
        print("floors (in-process) …", file=sys.stderr)
        db = copy_store(folder / "seed.db", folder / "floor.db")
        floor = asyncio.run(floors(db, seeded, create_body.read_text(encoding="utf-8"), update_body.read_text(encoding="utf-8"),
                                   args.floor_seconds, args.ops))
    return seeded, lines, bodies, floor


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    facts = machine_facts()
    facts["busy_before_start"], facts["busy_processes_before_start"] = idle_check()
    plan = Plan(args.ops, args.seconds, args.warmup, args.connections, args.threads, args.auth == "on", args.audit == "on",
                "--workers" in serve_options())
    counts, notes = runnable(args.workers, plan.has_workers_option)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="lienthong-load-") as tmp:
        folder = Path(tmp)
        seeded, lines, bodies, floor = prepare(folder, args)
        for workers in counts:
            db = copy_store(folder / "seed.db", folder / f"w{workers}.db")
            runs += run_server(plan, workers, db, lines, bodies, folder)
    for run in runs:
        run.floor_rps = floor.get(run.op)
    facts["uptime_after"] = uptime()
    report(args, facts, seeded, floor, runs, notes, plan)


def report(args: argparse.Namespace, facts: dict[str, Any], seeded: Seeded, floor: dict[str, float], runs: list[Run],
           notes: list[str], plan: Plan) -> None:
    cores = int(facts["nproc"])
    print(f"\n# Load benchmark — {facts['date_utc']}")
    print(f"machine: {facts['nproc']} vCPU ({facts['cpu']}), {facts.get('ram_gib', '?')} GiB RAM, Linux {facts['kernel']}, Python {facts['python']}")
    print(f"before:  {facts['uptime']}; CPUs {facts['busy_before_start']:.0%} busy over 2 s before the start"
          + (f" ({', '.join(facts['busy_processes_before_start'])})" if facts["busy_processes_before_start"] else ""))
    print(f"after:   {facts['uptime_after']}")
    print(f"store:   embedded SQLite, {len(seeded.ids):,} Patients seeded in {seeded.seconds:.1f} s (bulk path); a fresh copy per worker count")
    print(f"server:  `lienthong serve` {'--auth on with a bearer token (system/*.cruds)' if plan.auth else '--auth off on 127.0.0.1'}, "
          f"audit trail {'on' if plan.audit else 'off'}; --workers option {'present' if plan.has_workers_option else 'absent'}")
    print(f"client:  wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s --latency, keep-alive, {args.warmup:g} s warm-up per operation, "
          f"same machine; floor: in-process, one at a time, {args.floor_seconds:g} s per operation"
          + (f" (CPUs busy meanwhile: {', '.join(f'{op} {share:.0%}' for op, share in FLOOR_BUSY.items())}; "
             f"the floor itself is {1 / CORES:.0%})" if FLOOR_BUSY else ""))
    for note in notes:
        print(f"note:    {note}")
    print()
    print_table(runs, cores, "HTTP under load vs. in-process floor")
    print_details(runs)
    print("\nMarkdown:\n")
    print_markdown(runs, cores)
    if args.json:
        out = {"machine": facts, "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
               "server": asdict(plan), "seeded": {"patients": len(seeded.ids), "seconds": seeded.seconds},
               "floors": floor, "floor_cpus_busy": FLOOR_BUSY, "notes": notes, "runs": [{**asdict(r), "ratio": r.ratio, "per_vcpu": r.rps / cores, "other_share": r.other_share} for r in runs]}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
