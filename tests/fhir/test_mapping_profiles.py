"""Everything the two mappings produce conforms: base R4 (structure, bindings, invariants) and, for the
core types, the Vietnamese core profile that the mandatory-profile setting would apply."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from mappings.bhyt_xml import read_envelope
from mappings.bhyt_xml import strategies as bhyt_strategies
from mappings.bhyt_xml.fhir import to_fhir as bhyt_to_fhir
from mappings.transfer54 import strategies as t54_strategies
from mappings.transfer54.fhir import to_fhir as t54_to_fhir
from server import jsonio
from server.fhir.profiling import mandatory
from server.fhir.profiling.validator import validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _errors(bundle: dict) -> list[str]:
    found = []
    for entry in jsonio.loads(jsonio.dumps(bundle))["entry"]:
        res = entry["resource"]
        issues = mandatory.problems(res) if res["resourceType"] in mandatory.MANDATORY_TYPES else validate(res)
        found += [f"{res['resourceType']}: {i.diagnostics}" for i in issues if i.severity in ("error", "fatal")]
    return found


def test_transfer54_examples_conform() -> None:
    files = sorted(p for p in (EXAMPLES / "transfer54").glob("*.json") if not p.name.endswith(".bundle.json"))
    assert files
    for path in files:
        assert _errors(t54_to_fhir(json.loads(path.read_text(encoding="utf-8")))) == [], path.name


def test_insurance_table_examples_conform() -> None:
    files = sorted((EXAMPLES / "bhyt").glob("*.xml"))
    assert [f.name for f in files] == ["giamdinhhs-130.xml", "giamdinhhs-3176.xml", "giamdinhhs-4210.xml"]
    for path in files:
        for episode in read_envelope(path):
            assert _errors(bhyt_to_fhir(episode)) == [], (path.name, episode.ma_lk)


@SETTINGS
@given(t54_strategies.valid_records())
def test_any_transfer54_record_conforms(record: dict) -> None:
    assert _errors(t54_to_fhir(record)) == []


@SETTINGS
@given(bhyt_strategies.episodes("130"))
def test_any_130_episode_conforms(episode) -> None:
    assert _errors(bhyt_to_fhir(episode)) == []


@SETTINGS
@given(bhyt_strategies.episodes("4210"))
def test_any_4210_episode_conforms(episode) -> None:
    assert _errors(bhyt_to_fhir(episode)) == []


@SETTINGS
@given(bhyt_strategies.episodes("3176"))
def test_any_3176_episode_conforms(episode) -> None:
    assert _errors(bhyt_to_fhir(episode)) == []
