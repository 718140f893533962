"""Search latency of the SQLite store at scale (not part of the test suite).

Seeds a store with synthetic resources through ``bulk_load`` (default: 100 000 Patients,
each with Encounters and Observations, about 1 000 000 resources; a few "heavy" patients
have ~200 resources each), then times, in-process and without HTTP:

  identifier     Patient by identifier token (system|code), _count 20 + total
  name prefix    Patient by accent-folded name prefix ("nguyen van", ...), _count 20 + total
  everything     TypeIs(Encounter, Observation, ...) + AnyOf(reference target = one
                 heavy patient over 10 reference parameters), all ~200 rows + total
  sorted         a name prefix sorted by birthdate desc, _count 20
  keyset         the second page of all Observations
and a few heavier searches outside the targets (40 % / 50 % of the Patients, a whole
type with its total, a whole type sorted by name), printing resources/s of the load and
p50/p95 per query kind. Usage:
  python benchmarks/store_scale.py [--patients N] [--db PATH] [--reuse] [--runs N]
``--reuse`` times an existing file (from an earlier ``--db PATH`` run) without seeding.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Iterator

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.storage.base import Query, SortKey, Version, Write  # noqa: E402
from server.storage.index import (  # noqa: E402
    All,
    AnyOf,
    Cond,
    DateValue,
    IndexValue,
    QuantityValue,
    ReferenceValue,
    StringValue,
    TokenMatch,
    TokenValue,
    TypeIs,
    ValueMatch,
)
from server.storage.sqlite.store import SqliteStore  # noqa: E402

FAMILIES = [("Nguyễn", 40), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4), ("Phan", 4), ("Vũ", 4),
            ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2), ("Ngô", 2), ("Dương", 2), ("Lý", 1)]
MIDDLE_M = [("Văn", 85), ("Đức", 5), ("Minh", 5), ("Hữu", 5)]
MIDDLE_F = [("Thị", 80), ("Ngọc", 10), ("Thu", 5), ("Kim", 5)]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hằng", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long",
         "Mai", "Nam", "Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Tuấn", "Vy", "Yến"]
LOINC = ["8867-4", "8480-6", "8462-4", "8310-5", "29463-7", "8302-2", "2339-0", "718-7", "4548-4", "2093-3"]
REF_PARAMS = ["subject", "patient", "performer", "encounter", "focus", "author", "requester", "participant",
              "based-on", "part-of"]
EVERYTHING_TYPES = ("Encounter", "Observation", "Condition", "Procedure", "MedicationRequest", "DiagnosticReport",
                    "AllergyIntolerance", "Immunization", "CarePlan", "DocumentReference")
DAY = 86_400_000_000


def fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


def pick(rnd: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rnd.choices([w for w, _ in weighted], [n for _, n in weighted])[0]


def write(type_: str, id_: str, ts: int, body: dict, index: list[IndexValue]) -> Write:
    body = {"resourceType": type_, "id": id_, "meta": {"versionId": "1"}, **body}
    return Write(Version(type_, id_, 1, ts, "POST", orjson.dumps(body)), tuple(index))


def patient_family(rnd: random.Random, p: int, ts: int, related: int) -> Iterator[Write]:
    """One Patient and ``related`` Encounters/Observations referring to it."""
    male = rnd.random() < 0.5
    family, middle, given = pick(rnd, FAMILIES), pick(rnd, MIDDLE_M if male else MIDDLE_F), rnd.choice(GIVEN)
    full = f"{family} {middle} {given}"
    birth = rnd.randrange(-20_000, 19_000) * DAY
    pid = f"p{p}"
    yield write("Patient", pid, ts, {"identifier": [{"system": "urn:cccd", "value": f"{p:012d}"}],
                                     "name": [{"text": full, "family": family, "given": [middle, given]}],
                                     "gender": "male" if male else "female", "birthDate": birth // DAY}, [
        TokenValue("identifier", "urn:cccd", f"{p:012d}"),
        TokenValue("identifier", "urn:hospital", f"HN-{p}"),
        StringValue("name", fold(full), full),
        StringValue("name", fold(family), family),
        StringValue("name", fold(f"{middle} {given}"), f"{middle} {given}"),
        StringValue("family", fold(family), family),
        TokenValue("gender", "http://hl7.org/fhir/administrative-gender", "male" if male else "female"),
        DateValue("birthdate", birth, birth + DAY - 1),
        TokenValue("active", None, "true"),
    ])
    encounters = max(1, related // 5)
    for e in range(encounters):
        start = ts - rnd.randrange(1, 3650) * DAY
        yield write("Encounter", f"{pid}-e{e}", ts, {"subject": {"reference": f"Patient/{pid}"}, "status": "finished"}, [
            ReferenceValue("subject", f"Patient/{pid}"),
            ReferenceValue("patient", f"Patient/{pid}"),
            ReferenceValue("participant", f"Practitioner/d{rnd.randrange(500)}"),
            TokenValue("status", None, "finished"),
            TokenValue("class", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"),
            DateValue("date", start, start + 3_600_000_000),
        ])
    for o in range(related - encounters):
        when = ts - rnd.randrange(1, 3650) * DAY
        code = rnd.choice(LOINC)
        value = round(rnd.uniform(1, 200), 1)
        yield write("Observation", f"{pid}-o{o}", ts, {"subject": {"reference": f"Patient/{pid}"}, "status": "final",
                                                         "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                                                         "valueQuantity": {"value": value, "unit": "mmol/L"}}, [
            ReferenceValue("subject", f"Patient/{pid}"),
            ReferenceValue("patient", f"Patient/{pid}"),
            ReferenceValue("encounter", f"Encounter/{pid}-e{o % encounters}"),
            ReferenceValue("performer", f"Practitioner/d{rnd.randrange(500)}"),
            TokenValue("code", "http://loinc.org", code),
            TokenValue("status", None, "final"),
            TokenValue("category", "http://terminology.hl7.org/CodeSystem/observation-category", "laboratory"),
            DateValue("date", when, when),
            QuantityValue("value-quantity", value, "http://unitsofmeasure.org", "mmol/L"),
        ])


def synthetic(patients: int, heavy: int, seed: int = 7) -> Iterator[Write]:
    """About 10 resources per patient; every ``patients // heavy``-th patient has 200."""
    rnd = random.Random(seed)
    ts = 1_750_000_000_000_000
    step = max(1, patients // max(1, heavy))
    for p in range(patients):
        yield from patient_family(rnd, p, ts + p, 200 if heavy and p % step == 0 else 9)


async def seed(store: SqliteStore, patients: int, heavy: int, batch: int) -> tuple[int, float]:
    buffer: list[Write] = []
    n, t0 = 0, time.perf_counter()
    for w in synthetic(patients, heavy):
        buffer.append(w)
        if len(buffer) >= batch:
            await store.bulk_load(buffer)
            n += len(buffer)
            buffer = []
            if n % (batch * 20) == 0:
                print(f"  {n:>9,} resources, {n / (time.perf_counter() - t0):,.0f}/s", flush=True)
    if buffer:
        await store.bulk_load(buffer)
        n += len(buffer)
    return n, time.perf_counter() - t0


def pct(xs: list[float], p: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def timed(store: SqliteStore, name: str, queries: list[Query]) -> None:
    lat, rows, totals = [], [], []
    for q in queries:
        t = time.perf_counter()
        page = await store.search(q)
        lat.append(time.perf_counter() - t)
        rows.append(len(page.versions))
        totals.append(page.total or 0)
    print(f"| {name:<34} | {len(queries):>5} | {statistics.median(rows):>6.0f} | {statistics.median(totals):>8.0f} "
          f"| {pct(lat, 0.5):>7.2f} | {pct(lat, 0.95):>7.2f} | {max(lat) * 1000:>7.2f} |")


def ref_everything(pid: int) -> Query:
    target = f"Patient/p{pid}"
    refs = AnyOf(tuple(ValueMatch(p, "reference", (Cond("target", "eq", target),)) for p in REF_PARAMS))
    return Query(None, All((TypeIs(EVERYTHING_TYPES), refs)), limit=1000, total=True)


async def measure(store: SqliteStore, patients: int, heavy: int, runs: int) -> None:
    rnd = random.Random(11)
    step = max(1, patients // max(1, heavy))
    print("| query                              | runs  | rows   | total    | p50 ms  | p95 ms  | max ms  |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    ident = [Query("Patient", TokenMatch("identifier", "urn:cccd", f"{rnd.randrange(patients):012d}"), limit=21, total=True)
             for _ in range(runs)]
    await timed(store, "identifier (system|code), total", ident)
    ident_any = [Query("Patient", TokenMatch("identifier", "urn:hospital", f"HN-{rnd.randrange(patients)}"), limit=21)
                 for _ in range(runs)]
    await timed(store, "identifier (hospital), no total", ident_any)
    name = [Query("Patient", ValueMatch("name", "string", (Cond("norm", "prefix", "nguyen van"),)), limit=21, total=True)
            for _ in range(runs)]
    await timed(store, "name prefix 'nguyen van', total", name)
    others = ["tran thi", "le van", "pham", "nguyen thi l", "hoang van", "vo", "ngo thi h"]
    mixed = [Query("Patient", ValueMatch("name", "string", (Cond("norm", "prefix", rnd.choice(others)),)), limit=21, total=True)
             for _ in range(runs)]
    await timed(store, "name prefix (others), total", mixed)
    heavy_ids = [p for p in range(0, patients, step)][:heavy] or [0]
    everything = [ref_everything(rnd.choice(heavy_ids)) for _ in range(runs)]
    await timed(store, "TypeIs + AnyOf(10 refs), heavy", everything)
    light = [ref_everything(rnd.randrange(patients)) for _ in range(runs)]
    await timed(store, "TypeIs + AnyOf(10 refs), typical", light)
    sorted_q = [Query("Patient", ValueMatch("name", "string", (Cond("norm", "prefix", "tran thi"),)),
                      sort=(SortKey("birthdate", "date", True),), limit=21) for _ in range(max(1, runs // 5))]
    await timed(store, "name prefix sorted by -birthdate", sorted_q)
    first = await store.search(Query("Observation", limit=20))
    after = [Query("Observation", after=first.keys[-1], limit=20) for _ in range(runs)]
    await timed(store, "Observation keyset page 2", after)
    few = max(1, runs // 10)  # heavier searches, outside the targets
    await timed(store, "name prefix 'nguyen' (40%), total", [
        Query("Patient", ValueMatch("name", "string", (Cond("norm", "prefix", "nguyen"),)), limit=21, total=True)] * few)
    await timed(store, "all Patients, total", [Query("Patient", limit=21, total=True)] * few)
    await timed(store, "gender=male (50%), total", [Query("Patient", TokenMatch("gender", "http://hl7.org/fhir/administrative-gender", "male"), limit=21, total=True)] * few)
    await timed(store, "all Patients sorted by name", [Query("Patient", sort=(SortKey("name", "string"),), limit=21)] * few)


async def main_async(args: argparse.Namespace) -> None:
    folder = None
    if args.db:
        path = Path(args.db)
    else:
        folder = tempfile.TemporaryDirectory(prefix="store-scale-")
        path = Path(folder.name) / "scale.db"
    store = SqliteStore(str(path))
    await store.open()
    try:
        if not args.reuse:
            await store.clear()
            print(f"seeding {args.patients:,} patients into {path} ...")
            n, secs = await seed(store, args.patients, args.heavy, args.batch)
            print(f"bulk_load: {n:,} resources in {secs:.1f} s = {n / secs:,.0f} resources/s")
        count = (await store.search(Query(None, limit=0, total=True))).total
        print(f"{count:,} resources; file {path.stat().st_size / 2**30:.2f} GiB\n")
        plan = store.explain(Query("Patient", ValueMatch("name", "string", (Cond("norm", "prefix", "nguyen van"),)), limit=21))
        print("plan, name prefix:", plan)
        plan = store.explain(ref_everything(0))
        print("plan, references:", plan, "\n")
        await measure(store, args.patients, args.heavy, args.runs)
    finally:
        await store.close()
        if folder is not None:
            folder.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--heavy", type=int, default=100, help="patients with ~200 related resources")
    ap.add_argument("--batch", type=int, default=10_000, help="resources per bulk_load call")
    ap.add_argument("--runs", type=int, default=200, help="queries timed per kind")
    ap.add_argument("--db", help="SQLite file to use (kept); default a temporary one")
    ap.add_argument("--reuse", action="store_true", help="time the existing --db file, no seeding")
    args = ap.parse_args()
    if args.reuse and not args.db:
        ap.error("--reuse needs --db")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
