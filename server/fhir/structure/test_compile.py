"""The compiler, on small hand-made definitions, and the committed table it produced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import compile as compiler

SYSTEM_STRING = "http://hl7.org/fhirpath/System.String"
FHIR_TYPE = compiler.FHIR_TYPE_EXT


def el(path: str, low: int = 0, high: str = "1", *types: Any, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": path, "path": path, "min": low, "max": high, **extra}
    if types:
        out["type"] = [t if isinstance(t, dict) else {"code": t} for t in types]
    return out


def system(fhir_type: str) -> dict[str, Any]:
    return {"code": SYSTEM_STRING, "extension": [{"url": FHIR_TYPE, "valueUrl": fhir_type}]}


def sd(name: str, kind: str, elements: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "StructureDefinition", "id": name, "type": name, "kind": kind,
            "derivation": "specialization", "fhirVersion": "4.0.1",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/DomainResource",
            "snapshot": {"element": [el(name), *elements]}, **extra}


THING = sd("Thing", "resource", [
    el("Thing.id", 0, "1", system("string")),
    el("Thing.status", 1, "1", "code"),
    el("Thing.value[x]", 1, "1", "string", "Quantity"),
    el("Thing.part", 0, "*", "BackboneElement"),
    el("Thing.part.id", 0, "1", system("string"), representation=["xmlAttr"]),
    el("Thing.part.label", 0, "1", "string"),
    el("Thing.part.part", 0, "*", contentReference="#Thing.part"),
    el("Thing.contained", 0, "*", "Resource"),
])
DATE = {
    "resourceType": "StructureDefinition", "id": "date", "type": "date", "kind": "primitive-type",
    "derivation": "specialization", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Element",
    "snapshot": {"element": [
        el("date"), el("date.extension", 0, "*", "Extension"),
        el("date.value", 0, "1", {"code": "http://hl7.org/fhirpath/System.Date", "extension": [
            {"url": compiler.REGEX_EXT, "valueString": "[0-9]{4}"}]}),
    ]},
}
XHTML = {**DATE, "id": "xhtml", "type": "xhtml", "snapshot": {"element": [
    el("xhtml"), el("xhtml.extension", 0, "0", "Extension"), el("xhtml.value", 1, "1", system("string")),
]}}
PROFILE = {**THING, "id": "thing-profile", "derivation": "constraint"}


def test_compiles_elements_backbones_choices_and_references() -> None:
    table = compiler.compile_table([THING, DATE, XHTML, PROFILE])
    thing = table["types"]["Thing"]
    assert thing["kind"] == "resource" and thing["base"] == "DomainResource"
    assert thing["elements"] == [
        ["id", 0, "1", ["id"], "a"],  # rule resource-id; System.String: no companion
        ["status", 1, "1", ["code"]],
        ["value[x]", 1, "1", ["string", "Quantity"]],
        ["part", 0, "*", ["Thing.part"]],
        ["contained", 0, "*", ["Resource"]],
    ]
    assert table["types"]["Thing.part"] == {"kind": "backbone", "elements": [
        ["id", 0, "1", ["string"], "a"],
        ["label", 0, "1", ["string"]],
        ["part", 0, "*", ["Thing.part"]],  # content reference: reuses the backbone
    ]}
    assert table["primitives"]["date"] == {"json": "string", "base": "Element", "regex": "[0-9]{4}"}
    assert table["primitives"]["xhtml"]["extensions"] is False
    assert table["fhirVersion"] == "4.0.1"


def test_reads_bundles_folders_and_single_files(tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "entry": [{"resource": THING}, {"resource": DATE}]}
    (tmp_path / "profiles-resources.json").write_text(json.dumps(bundle))
    package = tmp_path / "package"
    package.mkdir()
    (package / "StructureDefinition-date.json").write_text(json.dumps(DATE))
    (package / "ValueSet-x.json").write_text("{}")
    assert [d["id"] for d in compiler.read_definitions(tmp_path / "profiles-resources.json")] == ["Thing", "date"]
    assert [d["id"] for d in compiler.read_definitions(package)] == ["date"]
    out = tmp_path / "table.json"
    assert compiler.main([str(tmp_path / "profiles-resources.json"), str(package), "--out", str(out)]) == 0
    table = json.loads(out.read_text())
    assert set(table["types"]) == {"Thing", "Thing.part"} and set(table["primitives"]) == {"date"}
    assert compiler.dumps(table) == out.read_text()


# --------------------------------------------------------------------------- the committed table


def committed() -> dict[str, Any]:
    return json.loads(compiler.DEFAULT_OUT.read_text(encoding="utf-8"))


def elements(table: dict[str, Any], key: str) -> dict[str, list[Any]]:
    return {row[0]: row for row in table["types"][key]["elements"]}


def test_committed_table_is_r4_and_small() -> None:
    table = committed()
    assert table["fhirVersion"] == "4.0.1"
    assert compiler.DEFAULT_OUT.stat().st_size < 2_000_000
    assert compiler.dumps(table) == compiler.DEFAULT_OUT.read_text(encoding="utf-8")  # as the compiler wrote it
    resources = [k for k, t in table["types"].items() if t["kind"] == "resource" and not t.get("abstract")]
    assert len(resources) == 146
    assert set(table["primitives"]) == {
        "base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id", "instant", "integer",
        "markdown", "oid", "positiveInt", "string", "time", "unsignedInt", "uri", "url", "uuid", "xhtml"}
    assert all("regex" in p for n, p in table["primitives"].items() if n != "xhtml")


def test_committed_table_spot_checks() -> None:
    table = committed()
    patient = elements(table, "Patient")
    assert patient["id"] == ["id", 0, "1", ["id"], "a"]
    assert patient["deceased[x]"] == ["deceased[x]", 0, "1", ["boolean", "dateTime"]]
    assert patient["contact"][3] == ["Patient.contact"] and patient["name"][2] == "*"
    assert elements(table, "Observation")["status"][1] == 1
    assert elements(table, "Questionnaire.item")["item"][3] == ["Questionnaire.item"]
    assert elements(table, "Bundle.entry")["link"][3] == ["Bundle.link"]
    assert elements(table, "Bundle.entry")["resource"][3] == ["Resource"]
    assert elements(table, "Extension")["url"] == ["url", 1, "1", ["uri"], "a"]
    assert len(elements(table, "Extension")["value[x]"][3]) == 50
    assert elements(table, "Narrative")["div"] == ["div", 1, "1", ["xhtml"]]
    assert table["types"]["Timing.repeat"]["kind"] == "backbone"
    assert table["primitives"]["instant"]["regex"].endswith("14:00))")
