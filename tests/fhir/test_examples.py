"""The committed examples are what the generator writes, valid, and load idempotently."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import jsonio
from server.config import Settings
from server.examples import load_examples, load_examples_into_empty
from server.fhir.intake import resource_issues
from server.fhir.repository import Repository
from server.storage.base import HistoryQuery, Query
from mappings.transfer54 import validate
from mappings.transfer54.generate import write_examples as write_transfer_examples
from server.synthetic import write_examples

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_match_the_generator(tmp_path: Path) -> None:
    names = write_examples(str(tmp_path / "core"))
    for name in names:
        assert (tmp_path / "core" / name).read_bytes() == (EXAMPLES / "core" / name).read_bytes(), f"examples/core/{name} is stale: run python -m server.synthetic examples/core"
    for name in write_transfer_examples(str(tmp_path / "t54")):
        assert (tmp_path / "t54" / name).read_bytes() == (EXAMPLES / "transfer54" / name).read_bytes(), f"examples/transfer54/{name} is stale: run python -m mappings.transfer54.generate examples/transfer54"


def test_example_resources_are_valid() -> None:
    for path in sorted(EXAMPLES.rglob("*.json")):
        bundle = jsonio.loads(path.read_bytes())
        if "MA_LK" in bundle:
            assert validate(bundle) == [], path  # a transfer record
            continue
        for i, entry in enumerate(bundle["entry"]):
            assert resource_issues(entry["resource"], type_=None, id_=None, require_id=False, path=f"{path.name}#{i}", max_depth=64) == []


@pytest.mark.anyio
async def test_examples_load_twice_without_duplicates(store) -> None:
    repo = Repository(store, Settings())
    assert len((await load_examples(repo, EXAMPLES)).loaded) >= 3
    before = (await store.history(HistoryQuery(), total=True)).total
    assert (await store.search(Query("Patient", total=True))).total >= 3 + 3  # shared between episodes when identifiers match
    assert (await store.search(Query("Encounter", total=True))).total == 3 + 10 + 3 + 4 + 2 + 3  # core (the trends record 10), transfer, bhyt 130 + 3176 + 4210
    await load_examples(repo, EXAMPLES)
    assert (await store.history(HistoryQuery(), total=True)).total == before  # no new versions


@pytest.mark.anyio
async def test_examples_report_every_file(store, caplog) -> None:
    """Each file is loaded or named with the reason it was not: a transfer record's
    ``*.bundle.json`` is its FHIR form, not loaded itself (the record is)."""
    repo = Repository(store, Settings())
    with caplog.at_level("INFO", logger="lienthong"):
        report = await load_examples(repo, EXAMPLES)
    files = sorted(p for p in EXAMPLES.rglob("*") if p.is_file())
    assert sorted(report.loaded + [p for p, _ in report.skipped]) == files
    skipped = dict(report.skipped)
    assert "record-1.json" in skipped[EXAMPLES / "transfer54" / "record-1.bundle.json"]
    assert EXAMPLES / "transfer54" / "record-1.json" in report.loaded
    assert all(p.name.endswith(".bundle.json") for p in skipped)
    for path in files:
        assert str(path) in caplog.text
    assert f"loaded {len(report.loaded)} of {len(files)} example file(s)" in caplog.text


@pytest.mark.anyio
async def test_examples_load_once_into_an_empty_store(store, caplog) -> None:
    """A deleted example does not come back on the next start: examples go into an empty store only.
    (The Patient is deleted without its episode: referential integrity is not this test's business.)"""
    repo = Repository(store, Settings(integrity_on_delete=False))
    assert await load_examples_into_empty(repo, EXAMPLES) is not None
    patients = (await store.search(Query("Patient", total=True))).total
    victim = (await store.search(Query("Patient"))).versions[0]
    await repo.atomic(lambda tx: repo.delete(tx, "Patient", victim.id))
    with caplog.at_level("INFO", logger="lienthong"):
        assert await load_examples_into_empty(repo, EXAMPLES) is None
    assert "already holds resources" in caplog.text
    assert (await store.search(Query("Patient", total=True))).total == patients - 1


def test_make_run_takes_port_and_data() -> None:
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("no make")
    root = EXAMPLES.parent
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed", "run", "PORT=9123", "DATA=/tmp/x/lt.db"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert "--port 9123 --store sqlite:////tmp/x/lt.db" in out
    default = subprocess.run(["make", "-n", "-o", ".venv/.installed", "run"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert "--port 8080 --store sqlite:///./data/lienthong.db" in default


def test_every_example_meets_the_mandatory_profiles() -> None:
    """The compose stack loads the examples with profiles mandatory (LIENTHONG_REQUIRE_PROFILES):
    every resource of a mandatory type, from the core examples, the transfer records and the
    insurance envelopes, meets its core profile (and so VN Core's, which ours derive from)."""
    from mappings.bhyt_xml import read_envelope
    from mappings.bhyt_xml.fhir import to_fhir as bhyt_to_fhir
    from server.fhir.profiling import mandatory

    bundles = [jsonio.loads(p.read_bytes()) for p in sorted(EXAMPLES.glob("*/*.bundle.json")) + sorted((EXAMPLES / "core").glob("*.json"))]
    bundles += [jsonio.loads(jsonio.dumps(bhyt_to_fhir(ep))) for p in sorted((EXAMPLES / "bhyt").glob("*.xml")) for ep in read_envelope(p)]
    checked = 0
    for bundle in bundles:
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] in mandatory.MANDATORY_TYPES:
                assert [i.diagnostics for i in mandatory.problems(resource)] == [], resource["resourceType"]
                checked += 1
    assert checked >= 40
