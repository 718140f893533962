"""Throughput of resource validation, base-only vs. profiles, in-process.

The resources are the Patient, Encounter, Observation and DocumentReference resources that
``to_fhir`` makes of N generated 54-field records (the shapes the server receives most).
Phases, each over the same resources (resources/s, best of --repeat passes, taken in turn):
  floor        jsonio.loads of the resource JSON (the least any reader does)
  base         server.fhir.validation.validate_resource (what every write runs today)
  base + R4    profiling.validate without profiles: base + the base R4 invariants (FHIRPath)
  profile      profiling.validate with the resource's Vietnamese core profile (what a write
               runs with require_profiles on, and $validate)
and each phase's cost relative to the floor (floor rate / phase rate).
Usage: python benchmarks/validate.py [--records N] [--seed S] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import machine  # noqa: E402
from mappings.transfer54.fhir import to_fhir  # noqa: E402
from mappings.transfer54.generate import records  # noqa: E402
from server import jsonio  # noqa: E402
from server.fhir.profiling import validate  # noqa: E402
from server.fhir.profiling.mandatory import MANDATORY_TYPES, default_profile  # noqa: E402
from server.fhir.profiling.validator import claimed_profiles  # noqa: E402
from server.fhir.validation import validate_resource  # noqa: E402


def best_rates(phases: list[tuple[list, Callable[[object], object]]], repeat: int) -> list[float]:
    """Items per second of the fastest pass of each phase; passes alternate between phases so
    that load from other work on the machine falls on all of them alike."""
    best = [float("inf")] * len(phases)
    for _ in range(repeat):
        for i, (items, work) in enumerate(phases):
            t0 = time.perf_counter()
            for item in items:
                work(item)
            best[i] = min(best[i], time.perf_counter() - t0)
    return [len(items) / t for (items, _), t in zip(phases, best)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=300, help="records generated (default 300)")
    ap.add_argument("--seed", type=int, default=54)
    ap.add_argument("--repeat", type=int, default=5, help="passes per phase; the best is reported")
    args = ap.parse_args()

    resources = [e["resource"] for r in records(args.seed, args.records) for e in to_fhir(r)["entry"] if e["resource"]["resourceType"] in MANDATORY_TYPES]
    with_profile = [(r, claimed_profiles(r) or [default_profile(r)[0]]) for r in resources]
    unprofiled = [r for r, p in with_profile if p == [None]]
    as_json = [jsonio.dumps(r) for r in resources]
    # Untimed check that the work is real: how many resources have errors per phase.
    base_errors = sum(1 for r in resources if any(i.severity == "error" for i in validate_resource(r)))
    profile_errors = sum(1 for r, p in with_profile if any(i.severity == "error" for i in validate(r, [u for u in p if u])))

    names = ["base: validate_resource", "base + R4 invariants: profiling.validate(r, [])", "profile: profiling.validate(r, [core profile])"]
    floor, *rates = best_rates([
        (as_json, jsonio.loads),
        (resources, validate_resource),
        ([{k: v for k, v in r.items() if k != "meta"} for r in resources], validate),
        (with_profile, lambda rp: validate(rp[0], [u for u in rp[1] if u])),
    ], args.repeat)
    phases = list(zip(names, rates))
    kinds = Counter(r["resourceType"] for r in resources)
    avg = sum(map(len, as_json)) / len(as_json)
    print(f"Validation benchmark, in-process — {date.today()} — {machine()}")
    print(f"{len(resources)} resources ({', '.join(f'{n} {t}' for t, n in sorted(kinds.items()))}) from to_fhir of "
          f"generate.records({args.seed}, {args.records}); {avg:,.0f} B JSON on average; best of {args.repeat} passes")
    print(f"resources with errors: base {base_errors}, profile {profile_errors}; without an applicable core profile: {len(unprofiled)}")
    print("| phase | resources/s | µs/resource | floor/phase |")
    print("|---|---:|---:|---:|")
    print(f"| floor: jsonio.loads(resource JSON) | {floor:,.0f} | {1e6 / floor:,.1f} | 1.0× |")
    for name, rate in phases:
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:,.1f} | {floor / rate:,.1f}× |")
    base_rate, profile_rate = phases[0][1], phases[2][1]
    print(f"profile / base cost: {base_rate / profile_rate:,.1f}×")


if __name__ == "__main__":
    main()
