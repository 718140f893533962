"""How much of a realistic corpus of insurance envelopes imports whole (issue 11).

The corpus comes from ``mappings/bhyt_xml/realistic.py``: invented envelopes written the way
hospital software writes them, each with its own random mix of the departures real files carry
(``PATTERNS``). Every envelope goes through what ``lienthong import`` does before storing:

  read      read_envelope (base64, table documents, MA_LK, standard)
  check     review_episode with the default import policy (and, for comparison, --strict)
  map       to_fhir
  validate  check_entries, the resource validation the import runs before its transaction
  back      jsonio round trip + from_fhir, compared with values.trimmed(episode) (not a failure
            of the import, counted apart)

An envelope is *imported whole* when every one of its episodes passes read, check, map and
validate. Target: >= 95% of envelopes whole with the default policy.

Usage: python benchmarks/bhyt_realistic.py [--n 300] [--seed 2024] [--json FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import machine  # noqa: E402
from mappings.bhyt_xml.envelope import BrokenEpisode, EnvelopeError, Episode, read_envelope  # noqa: E402
from mappings.bhyt_xml.fhir import from_fhir, to_fhir  # noqa: E402
from mappings.bhyt_xml.realistic import PATTERNS, Generated, corpus  # noqa: E402
from mappings.bhyt_xml.values import review_episode, trimmed  # noqa: E402
from server import jsonio  # noqa: E402
from server.config import Settings  # noqa: E402
from server.fhir.bundles import check_entries  # noqa: E402

TARGET = 0.95
_WHERE = re.compile(r"^(XML\d+)(?: record \d+)?:? ([A-Z0-9_]+(?:, [A-Z0-9_]+)*):? ?(.*)$", re.DOTALL)


# ----------------------------------------------------------------------------- grouping

def warning_rule(message: str) -> str:
    """The policy rule a warning comes from, with its table and field (values masked)."""
    m = _WHERE.match(message)
    where = f"{m.group(1)} {m.group(2)}" if m else "?"
    for phrase, rule in (("published maximum", "length"), ("decimal separator", "decimal-comma"),
                         ("citizen identity", "format:citizen_id"), ("layout of", "unknown-field")):
        if phrase in message:
            return f"{rule} — {where}"
    return f"other — {mask(message)}"


def mask(message: str) -> str:
    """A reason without the value it quotes, so that equal reasons group together."""
    m = _WHERE.match(message)
    if not m:
        return re.sub(r"(?<!XML)\d+", "N", message)[:160]
    reason = re.sub(r"^.*?\b(is not|is \d+ characters|uses|differs|missing|empty|in this)", r"\1", m.group(3))
    return f"{m.group(1)} {m.group(2)}: {re.sub(r'[0-9]+', 'N', reason)}"[:160]


# ----------------------------------------------------------------------------- one envelope

@dataclass
class Tally:
    envelopes: int = 0
    episodes: int = 0
    read_as_meant: int = 0
    whole: int = 0
    whole_strict: int = 0
    episodes_ok: int = 0
    episodes_ok_strict: int = 0
    round_trip_checked: int = 0
    round_trip_exact: int = 0
    failures: Counter = field(default_factory=Counter)
    strict_failures: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)
    round_trip_diffs: Counter = field(default_factory=Counter)
    by_pattern: dict[str, list[int]] = field(default_factory=lambda: {p: [0, 0, 0] for p in PATTERNS})


def _episode(ep: Episode, depth: int, t: Tally) -> tuple[bool, bool]:
    """(passes the default policy, passes --strict) for one read episode."""
    review = review_episode(ep)
    t.warnings.update(warning_rule(w) for w in review.warnings)
    strict = review_episode(ep, strict=True)
    t.strict_failures.update(f"check: {mask(e)}" for e in strict.errors)
    if review.errors:
        t.failures.update(f"check: {mask(e)}" for e in review.errors)
        return False, False
    try:
        bundle = to_fhir(ep)
    except Exception as exc:  # a mapping defect fails this episode, as in the import
        t.failures[f"map: {type(exc).__name__}: {mask(str(exc))}"] += 1
        return False, False
    issues = [i.diagnostics for *_, found in check_entries(bundle, depth).values() for i in found]
    if issues:
        t.failures.update(f"validate: {mask(d)}" for d in issues)
        return False, False
    t.round_trip_checked += 1
    back = from_fhir(jsonio.loads(jsonio.dumps(bundle)))
    if back == trimmed(ep):
        t.round_trip_exact += 1
    else:
        tables = sorted(set(back.tables) ^ set(ep.tables) | {n for n in ep.tables if back.tables.get(n) != trimmed(ep).tables[n]})
        t.round_trip_diffs[", ".join(tables) or "standard/MA_LK"] += 1
    return True, not strict.errors


def envelope(gen: Generated, depth: int, t: Tally) -> None:
    t.envelopes += 1
    whole = whole_strict = True
    try:
        results = list(read_envelope(io.BytesIO(gen.data)))
    except EnvelopeError as exc:
        t.failures[f"read (envelope): {mask(str(exc))}"] += 1
        results, whole, whole_strict = [], False, False
    for i, result in enumerate(results):
        t.episodes += 1
        if isinstance(result, BrokenEpisode):
            t.failures.update(f"read: {mask(r)}" for r in result.reasons)
            whole = whole_strict = False
            continue
        if i < len(gen.episodes) and result == gen.episodes[i]:
            t.read_as_meant += 1
        ok, ok_strict = _episode(result, depth, t)
        t.episodes_ok += ok
        t.episodes_ok_strict += ok_strict
        whole &= ok
        whole_strict &= ok_strict
    t.whole += whole
    t.whole_strict += whole_strict
    for p in gen.patterns:
        t.by_pattern[p][0] += 1
        t.by_pattern[p][1] += whole
        t.by_pattern[p][2] += whole_strict


# ----------------------------------------------------------------------------- run and report

def run(n: int, seed: int) -> dict[str, Any]:
    depth = Settings().max_json_depth
    t = Tally()
    started = time.perf_counter()
    for gen in corpus(n, seed):
        envelope(gen, depth, t)
    seconds = time.perf_counter() - started
    share = t.whole / t.envelopes if t.envelopes else 0.0
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
        "corpus": {"n": n, "seed": seed, "generator": "mappings/bhyt_xml/realistic.py corpus(n, seed)"},
        "envelopes": t.envelopes, "episodes": t.episodes, "read_as_meant": t.read_as_meant,
        "imported_whole": t.whole, "imported_whole_share": round(share, 4),
        "imported_whole_strict": t.whole_strict,
        "imported_whole_strict_share": round(t.whole_strict / t.envelopes, 4) if t.envelopes else 0.0,
        "episodes_imported": t.episodes_ok, "episodes_imported_strict": t.episodes_ok_strict,
        "target": TARGET, "target_met": share >= TARGET,
        "round_trip": {"checked": t.round_trip_checked, "exact": t.round_trip_exact, "differs_in": dict(t.round_trip_diffs)},
        "failures": dict(t.failures.most_common()), "failures_strict": dict(t.strict_failures.most_common()),
        "warnings": dict(t.warnings.most_common()),
        "by_pattern": {p: {"envelopes": v[0], "whole": v[1], "whole_strict": v[2]} for p, v in t.by_pattern.items()},
        "seconds": round(seconds, 2), "episodes_per_second": round(t.episodes / seconds, 1) if seconds else None,
    }


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def render(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"[bold]Realistic insurance envelopes[/bold] — {r['date']} — {r['machine']}")
    con.print(f"corpus: {r['envelopes']} envelopes, {r['episodes']} episodes (seed {r['corpus']['seed']}), "
              f"{r['seconds']} s, {r['episodes_per_second']} episodes/s")
    summary = Table("measure", "count", "share")
    env, eps = r["envelopes"], r["episodes"]
    summary.add_row("envelopes imported whole (default policy)", str(r["imported_whole"]), _pct(r["imported_whole"], env))
    summary.add_row("envelopes imported whole (--strict)", str(r["imported_whole_strict"]), _pct(r["imported_whole_strict"], env))
    summary.add_row("episodes imported (default policy)", str(r["episodes_imported"]), _pct(r["episodes_imported"], eps))
    summary.add_row("episodes imported (--strict)", str(r["episodes_imported_strict"]), _pct(r["episodes_imported_strict"], eps))
    summary.add_row("episodes read as the generator meant", str(r["read_as_meant"]), _pct(r["read_as_meant"], eps))
    rt = r["round_trip"]
    summary.add_row("FHIR round trip exact", f"{rt['exact']} of {rt['checked']}", _pct(rt["exact"], rt["checked"]))
    con.print(summary)
    verdict = "[green]met[/green]" if r["target_met"] else "[red]not met[/red]"
    con.print(f"target: ≥ {r['target']:.0%} of envelopes imported whole — {verdict}")
    for title, key in (("failures (default policy), by reason", "failures"), ("warnings, by rule", "warnings"),
                       ("failures under --strict, by reason", "failures_strict")):
        rows = r[key]
        table = Table(title=title, title_justify="left")
        table.add_column("reason" if "failures" in key else "rule")
        table.add_column("count", justify="right")
        for reason, count in list(rows.items())[:25]:
            table.add_row(reason, str(count))
        if len(rows) > 25:
            table.add_row(f"… {len(rows) - 25} more (see --json)", "")
        con.print(table if rows else f"{title}: none")
    patterns = Table("pattern", "envelopes", "whole", "whole --strict", title="by pattern", title_justify="left")
    for p, v in r["by_pattern"].items():
        patterns.add_row(p, str(v["envelopes"]), _pct(v["whole"], v["envelopes"]), _pct(v["whole_strict"], v["envelopes"]))
    con.print(patterns)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="envelopes in the corpus (default 300)")
    ap.add_argument("--seed", type=int, default=2024, help="corpus seed (default 2024)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = ap.parse_args(argv)
    result = run(args.n, args.seed)
    render(result)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
