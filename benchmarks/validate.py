"""Throughput of resource validation, in-process, on the two mixes the server writes most.

Mixes (every resource of every entry, as generated, all valid):
  transaction  the entries of the transaction Bundles ``transfer54`` ``to_fhir`` makes of
               ``generate.records(seed, --records)`` (Patient, Encounter, Condition, Observation, ...)
  insurance    the entries of the episode Bundles ``bhyt_xml`` ``to_fhir`` makes of
               ``generate.episodes(seed, --episodes / 2, standard)`` for standards 130 and 4210
               (Procedure, Observation, Condition, MedicationRequest, ClinicalImpression, ...)
Phases per mix (resources/s, best of --repeat passes, the phases taken in turn so that load
from other work on the machine falls on all of them alike):
  floor        jsonio.loads of the resource JSON (the least any reader does)
  validate     server.fhir.validation.validate_resource: the validator compiled from the R4
               definitions (what every write runs)
  pydantic     fhir.resources R4B ``model_validate``: the model build the previous validator
               ran for every resource after its own walk (so "before" cost at least this
               much more); kept here only for comparison, nothing on the write path builds it
and, on the transaction mix's Patient, Encounter, Observation and DocumentReference resources,
the profile phases (base + R4 invariants, and the Vietnamese core profile).
Usage: python benchmarks/validate.py [--records N] [--episodes N] [--seed S] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fhir.resources.R4B import get_fhir_model_class  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from mappings.bhyt_xml.fhir import to_fhir as episode_to_fhir  # noqa: E402
from mappings.bhyt_xml.generate import episodes  # noqa: E402
from mappings.transfer54.fhir import to_fhir  # noqa: E402
from mappings.transfer54.generate import records  # noqa: E402
from server import jsonio  # noqa: E402
from server.fhir.profiling import validate  # noqa: E402
from server.fhir.profiling.mandatory import MANDATORY_TYPES, default_profile  # noqa: E402
from server.fhir.profiling.validator import claimed_profiles  # noqa: E402
from server.fhir.validation import validate_resource  # noqa: E402


def best_rates(phases: list[tuple[list, Callable[[Any], object]]], repeat: int) -> list[float]:
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


def pydantic_build(resource: dict[str, Any]) -> object:
    """What the previous validator did after its walk: build the R4B model."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def entries(bundles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["resource"] for b in bundles for e in b["entry"] if isinstance(e.get("resource"), dict)]


def describe(resources: list[dict[str, Any]]) -> str:
    kinds = Counter(r["resourceType"] for r in resources)
    avg = sum(len(jsonio.dumps(r)) for r in resources) / max(1, len(resources))
    top = ", ".join(f"{t} {n}" for t, n in kinds.most_common())
    return f"{len(resources)} resources ({top}); {avg:,.0f} B JSON on average"


def row(name: str, rate: float, floor: float) -> str:
    return f"| {name} | {rate:,.0f} | {1e6 / rate:,.1f} | {floor / rate:,.1f}× |"


def mix_table(label: str, resources: list[dict[str, Any]], repeat: int) -> None:
    errors = sum(1 for r in resources if any(i.severity == "error" for i in validate_resource(r)))
    as_json = [jsonio.dumps(r) for r in resources]
    floor, ours, theirs = best_rates(
        [(as_json, jsonio.loads), (resources, validate_resource), (resources, pydantic_build)], repeat
    )
    print(f"\n### {label}: {describe(resources)}; with errors: {errors}")
    print("| phase | resources/s | µs/resource | floor/phase |")
    print("|---|---:|---:|---:|")
    print(row("floor: jsonio.loads(resource JSON)", floor, floor))
    print(row("validate_resource (compiled R4 table)", ours, floor))
    print(row("R4B pydantic model_validate alone (comparison only)", theirs, floor))


def profile_table(resources: list[dict[str, Any]], repeat: int) -> None:
    core = [r for r in resources if r["resourceType"] in MANDATORY_TYPES]
    with_profile = [(r, claimed_profiles(r) or [default_profile(r)[0]]) for r in core]
    profile_errors = sum(1 for r, p in with_profile if any(i.severity == "error" for i in validate(r, [u for u in p if u])))
    floor, base, invariants, profile = best_rates([
        ([jsonio.dumps(r) for r in core], jsonio.loads),
        (core, validate_resource),
        ([{k: v for k, v in r.items() if k != "meta"} for r in core], validate),
        (with_profile, lambda rp: validate(rp[0], [u for u in rp[1] if u])),
    ], repeat)
    print(f"\n### profiles: the {len(core)} Patient, Encounter, Observation and DocumentReference resources of the "
          f"transaction mix; with profile errors: {profile_errors}")
    print("| phase | resources/s | µs/resource | floor/phase |")
    print("|---|---:|---:|---:|")
    print(row("floor: jsonio.loads(resource JSON)", floor, floor))
    print(row("base: validate_resource", base, floor))
    print(row("base + R4 invariants: profiling.validate(r, [])", invariants, floor))
    print(row("profile: profiling.validate(r, [core profile])", profile, floor))
    print(f"profile / base cost: {base / profile:,.1f}×")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=300, help="transfer records (default 300)")
    ap.add_argument("--episodes", type=int, default=200, help="insurance episodes, half per standard (default 200)")
    ap.add_argument("--seed", type=int, default=54)
    ap.add_argument("--repeat", type=int, default=5, help="passes per phase; the best is reported")
    ap.add_argument("--no-profiles", action="store_true", help="skip the profile phases")
    args = ap.parse_args()

    transaction = entries([to_fhir(r) for r in records(args.seed, args.records)])
    insurance = entries([
        episode_to_fhir(ep) for std in ("130", "4210") for ep in episodes(args.seed, args.episodes // 2, std)
    ])
    print(f"Validation benchmark, in-process — {date.today()} — {machine()}; best of {args.repeat} passes")
    mix_table(f"transaction mix (transfer54, {args.records} records)", transaction, args.repeat)
    mix_table(f"insurance-episode mix (bhyt_xml, {args.episodes} episodes)", insurance, args.repeat)
    if not args.no_profiles:
        profile_table(transaction, args.repeat)


if __name__ == "__main__":
    main()
