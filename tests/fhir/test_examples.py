"""The committed examples are what the generator writes, valid, and load idempotently."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import jsonio
from server.config import Settings
from server.examples import load_examples
from server.fhir.intake import resource_issues
from server.fhir.repository import Repository
from server.storage.base import HistoryQuery, Query
from server.synthetic import write_examples

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_match_the_generator(tmp_path: Path) -> None:
    names = write_examples(str(tmp_path))
    for name in names:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / "core" / name).read_bytes(), f"examples/core/{name} is stale: run python -m server.synthetic examples/core"


def test_example_resources_are_valid() -> None:
    for path in sorted(EXAMPLES.rglob("*.json")):
        bundle = jsonio.loads(path.read_bytes())
        for i, entry in enumerate(bundle["entry"]):
            assert resource_issues(entry["resource"], type_=None, id_=None, require_id=False, path=f"{path.name}#{i}", max_depth=64) == []


@pytest.mark.anyio
async def test_examples_load_twice_without_duplicates(store) -> None:
    repo = Repository(store, Settings())
    assert await load_examples(repo, EXAMPLES) >= 3
    before = (await store.history(HistoryQuery(), total=True)).total
    assert before == 3 * 6  # three patients, each with an encounter, three observations, a document
    await load_examples(repo, EXAMPLES)
    assert (await store.history(HistoryQuery(), total=True)).total == before  # no new versions
    assert (await store.search(Query("Patient", total=True))).total == 3
