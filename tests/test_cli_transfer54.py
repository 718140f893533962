"""``lienthong transfer54 validate | to-fhir | from-fhir``: output, problems and exit statuses."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mappings.transfer54.generate import records
from mappings.transfer54.xml_form import parse_xml, write_xml
from server import cli, jsonio

ROOT = Path(__file__).resolve().parent.parent
RECORDS = records(54, 6)


def _write_json(path: Path, value: object) -> Path:
    path.write_bytes(jsonio.dumps(value))
    return path


def _invalid(record: dict[str, str]) -> dict[str, str]:
    bad = dict(record)
    bad["GIOI_TINH"] = "7"  # not in the closed gender table
    del bad["HO_TEN"]  # required
    return bad


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# ----------------------------------------------------------------------------- validate

def test_validate_valid_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [_write_json(tmp_path / f"r{i}.json", r) for i, r in enumerate(RECORDS[:3])]
    assert cli.main(["transfer54", "validate", *map(str, files)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"{f}: valid" for f in files]
    assert err == ""


def test_validate_reports_every_problem_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write_json(tmp_path / "good.json", RECORDS[0])
    bad = _write_json(tmp_path / "bad.json", _invalid(RECORDS[1]))
    assert cli.main(["transfer54", "validate", str(good), str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"{good}: valid"]
    lines = err.splitlines()
    assert len(lines) == 2
    assert any(line.startswith(f"{bad}: GIOI_TINH: ") for line in lines)
    assert any(line.startswith(f"{bad}: HO_TEN: ") and "required" in line for line in lines)


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", b"[1, 2]", b"42"])
def test_validate_unusable_json_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    assert cli.main(["transfer54", "validate", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{path}: ") and err.count("\n") >= 1


def test_validate_missing_file_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write_json(tmp_path / "good.json", RECORDS[0])
    missing = tmp_path / "nope.json"
    assert cli.main(["transfer54", "validate", str(missing), str(good)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"{good}: valid"]  # the other files are still checked
    assert err.startswith(f"{missing}: ") and "cannot read" in err


def test_validate_xml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.xml"
    good.write_bytes(write_xml(RECORDS[2]))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(write_xml(_invalid(RECORDS[3])))
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><CHI_TIEU_GIAYCHUYENTUYEN/>')
    assert cli.main(["transfer54", "validate", "--xml", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: valid\n"
    assert cli.main(["transfer54", "validate", "--xml", str(bad), str(broken)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{bad}: GIOI_TINH: " in err and f"{bad}: HO_TEN: " in err
    assert f"{broken}: " in err


def test_validate_json_given_as_xml_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_json(tmp_path / "r.json", RECORDS[0])
    assert cli.main(["transfer54", "validate", "--xml", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"{path}: ")


def test_validate_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, jsonio.dumps(RECORDS[0]))
    assert cli.main(["transfer54", "validate", "-"]) == 0
    assert capsys.readouterr().out == "<stdin>: valid\n"


# ----------------------------------------------------------------------------- to-fhir / from-fhir

def test_to_fhir_prints_a_transaction_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_json(tmp_path / "r.json", RECORDS[0])
    assert cli.main(["transfer54", "to-fhir", str(path)]) == 0
    out, err = capsys.readouterr()
    bundle = jsonio.loads(out)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    assert out.startswith("{\n  ")  # pretty
    assert err == ""


def test_to_fhir_invalid_prints_nothing_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_json(tmp_path / "bad.json", _invalid(RECORDS[0]))
    assert cli.main(["transfer54", "to-fhir", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{path}: GIOI_TINH: " in err and f"{path}: HO_TEN: " in err


@pytest.mark.parametrize("data", [b"", b"{", b'{"MA_LK": 1}'])
def test_to_fhir_bad_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data: bytes) -> None:
    _stdin(monkeypatch, data)
    assert cli.main(["transfer54", "to-fhir", "-"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("<stdin>: ")


@pytest.mark.parametrize("record", RECORDS, ids=[r["MA_LK"] for r in RECORDS])
def test_round_trip_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], record: dict[str, str]) -> None:
    _stdin(monkeypatch, jsonio.dumps(record))
    assert cli.main(["transfer54", "to-fhir", "-"]) == 0
    bundle_file = tmp_path / "bundle.json"
    bundle_file.write_text(capsys.readouterr().out, encoding="utf-8")
    assert cli.main(["transfer54", "from-fhir", str(bundle_file)]) == 0
    out, err = capsys.readouterr()
    assert jsonio.loads(out) == record
    assert err == ""


def test_round_trip_xml_in_and_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    record = dict(RECORDS[4])
    record["DAU_HIEU_LS"] = "Sốt cao\r\nkhó thở <nặng> & \"ho\"\t"  # CR, markup characters, tab survive
    xml_file = tmp_path / "r.xml"
    xml_file.write_bytes(write_xml(record))
    assert cli.main(["transfer54", "to-fhir", "--xml", str(xml_file)]) == 0
    bundle = capsys.readouterr().out
    _stdin(monkeypatch, bundle.encode("utf-8"))
    assert cli.main(["transfer54", "from-fhir", "--xml", "-"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("<?xml")
    assert parse_xml(out.encode("utf-8")) == record
    assert err == ""


def test_from_fhir_refuses_what_is_not_a_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_json(tmp_path / "record.json", RECORDS[0])
    assert cli.main(["transfer54", "from-fhir", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"{path}: ") and "Bundle" in err


@pytest.mark.parametrize("bundle", [
    {"resourceType": "Bundle", "type": "transaction", "entry": []},
    {"resourceType": "Bundle", "entry": [{"resource": {}}]},
    {"resourceType": "Bundle", "entry": "nonsense"},
], ids=["empty", "resource-without-type", "entry-not-a-list"])
def test_from_fhir_unusable_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str], bundle: dict) -> None:
    path = _write_json(tmp_path / "b.json", bundle)
    assert cli.main(["transfer54", "from-fhir", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"{path}: ")


def test_from_fhir_rebuilt_record_must_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import mappings.transfer54.fhir as fhir_module

    good = _write_json(tmp_path / "good.json", fhir_module.to_fhir(RECORDS[0]))
    # from_fhir returns a record that does not validate: the command refuses to print it.
    monkeypatch.setattr(fhir_module, "from_fhir", lambda bundle: _invalid(RECORDS[0]))
    assert cli.main(["transfer54", "from-fhir", "--xml", str(good)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and f"{good}: GIOI_TINH: " in err and f"{good}: HO_TEN: " in err


def test_from_fhir_exception_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import mappings.transfer54.fhir as fhir_module

    good = _write_json(tmp_path / "good.json", fhir_module.to_fhir(RECORDS[0]))

    def broken(bundle: dict) -> dict:
        raise KeyError("valueCoding")

    monkeypatch.setattr(fhir_module, "from_fhir", broken)
    assert cli.main(["transfer54", "from-fhir", str(good)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"{good}: (record): ") and "valueCoding" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["transfer54"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["transfer54", "validate"])
    assert exc.value.code == 2


# ----------------------------------------------------------------------------- the console script

def test_console_script(tmp_path: Path) -> None:
    good = _write_json(tmp_path / "good.json", RECORDS[0])
    bad = _write_json(tmp_path / "bad.json", _invalid(RECORDS[1]))
    script = Path(sys.executable).with_name("lienthong")
    if not script.exists():
        found = shutil.which("lienthong")
        script = Path(found) if found else None  # type: ignore[assignment]
    cmd = [str(script)] if script else [sys.executable, "-m", "server.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([*cmd, "transfer54", "validate", str(good), str(bad)],
                          capture_output=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 1, proc.stderr.decode()
    assert proc.stdout.decode().splitlines() == [f"{good}: valid"]
    assert f"{bad}: GIOI_TINH: " in proc.stderr.decode("utf-8")
