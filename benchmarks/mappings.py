"""Throughput of the 54-field transfer dataset mapping (mappings.transfer54), in-process.

Phases, each over the same N generated records (records/s, one pass over all of them):
  floor        jsonio.loads of the record JSON bytes (the least any reader of a record does)
  validate     validate(record)
  to_fhir      to_fhir(record) + jsonio.dumps of the Bundle
  from_fhir    jsonio.loads of the Bundle JSON + from_fhir(bundle)
and each phase's cost relative to the floor (floor rate / phase rate: "×" slower than parsing).
The best of --repeat passes is reported for every phase.
Then the insurance tables (benchmarks/bhyt.py): to_fhir, from_fhir and `lienthong import` of a
--bhyt-mb envelope against the floor of decoding and parsing it, and the import's peak RSS.
Usage: python benchmarks/mappings.py [--records N] [--seed S] [--repeat R] [--bhyt-mb 100 (0: skip)]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import machine  # noqa: E402
from mappings.transfer54.fhir import from_fhir, to_fhir  # noqa: E402
from mappings.transfer54.generate import records  # noqa: E402
from mappings.transfer54.validate import validate  # noqa: E402
from server import jsonio  # noqa: E402


def best_rate(items: list, work: Callable[[object], object], repeat: int) -> float:
    """Records per second of the fastest of ``repeat`` passes of ``work`` over ``items``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - t0)
    return len(items) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=2000, help="records generated (default 2000)")
    ap.add_argument("--seed", type=int, default=54)
    ap.add_argument("--repeat", type=int, default=3, help="passes per phase; the best is reported")
    ap.add_argument("--bhyt-mb", type=int, default=100, help="size of the insurance-table envelope imported (0: skip)")
    args = ap.parse_args()

    recs = records(args.seed, args.records)
    record_json = [jsonio.dumps(r) for r in recs]
    bundle_json = [jsonio.dumps(to_fhir(r)) for r in recs]
    # The benchmark is only meaningful if the work is right: check it once, untimed.
    for r, b in zip(recs, bundle_json):
        assert not validate(r), r["MA_LK"]
        assert from_fhir(jsonio.loads(b)) == r, r["MA_LK"]

    floor = best_rate(record_json, jsonio.loads, args.repeat)
    phases = [
        ("validate(record)", best_rate(recs, validate, args.repeat)),
        ("to_fhir(record) + jsonio.dumps(bundle)", best_rate(recs, lambda r: jsonio.dumps(to_fhir(r)), args.repeat)),
        ("jsonio.loads(bundle) + from_fhir(bundle)", best_rate(bundle_json, lambda b: from_fhir(jsonio.loads(b)), args.repeat)),
    ]
    avg_record = sum(map(len, record_json)) / len(record_json)
    avg_bundle = sum(map(len, bundle_json)) / len(bundle_json)

    print(f"Mappings benchmark (transfer54), in-process — {date.today()} — {machine()}")
    print(f"{args.records} records from generate.records({args.seed}, {args.records}); best of {args.repeat} passes; "
          f"record JSON {avg_record:,.0f} B, bundle JSON {avg_bundle:,.0f} B on average")
    print("| phase | records/s | µs/record | floor/phase |")
    print("|---|---:|---:|---:|")
    print(f"| floor: jsonio.loads(record JSON) | {floor:,.0f} | {1e6 / floor:,.1f} | 1.0× |")
    for name, rate in phases:
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:,.1f} | {floor / rate:,.1f}× |")
    if args.bhyt_mb:
        print()
        from benchmarks.bhyt import report
        report(args.bhyt_mb, 1000, 130, args.repeat)


if __name__ == "__main__":
    main()
