"""``lienthong bhyt to-fhir | from-fhir``: NDJSON out, envelope back, problems and exit statuses."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mappings.bhyt_xml.envelope import Episode, read_envelope
from server import cli, jsonio
from tests.bhyt_envelopes import envelope, generated, hoso, mixed

ROOT = Path(__file__).resolve().parent.parent


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def _bundles(out: str) -> list[dict]:
    return [jsonio.loads(line) for line in out.splitlines()]


def _encounter(bundle: dict) -> dict:
    return next(e for e in bundle["entry"] if e["request"]["url"].startswith("Encounter"))


@pytest.mark.parametrize("standard", ["130", "4210"])
def test_to_fhir_then_from_fhir_gives_the_envelope_back(tmp_path: Path, capsys, standard: str) -> None:
    eps = generated(40, 3, standard)
    src = tmp_path / "in.xml"
    src.write_bytes(envelope([hoso(e) for e in eps]))
    assert cli.main(["bhyt", "to-fhir", str(src)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    bundles = _bundles(out)
    assert len(bundles) == 3
    assert all(b["resourceType"] == "Bundle" and b["type"] == "transaction" for b in bundles)
    assert all(_encounter(b)["resource"]["resourceType"] == "Encounter" for b in bundles)
    ndjson = tmp_path / "episodes.ndjson"
    ndjson.write_text(out, encoding="utf-8")
    assert cli.main(["bhyt", "from-fhir", str(ndjson)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    reader = read_envelope(io.BytesIO(out.encode("utf-8")))
    back = list(reader)
    assert [(e.ma_lk, e.standard, e.tables) for e in back] == [(e.ma_lk, standard, e.tables) for e in eps]
    assert reader.header.soluonghoso == "3" and reader.header.macskcb == eps[0].tables["XML1"][0]["MA_CSKCB"]
    assert cli.main(["bhyt", "from-fhir", str(ndjson), "--standard", standard]) == 0
    assert [e.tables for e in read_envelope(io.BytesIO(capsys.readouterr().out.encode()))] == [e.tables for e in eps]


def test_to_fhir_prints_the_good_episodes_and_names_the_broken_ones(tmp_path: Path, capsys) -> None:
    m = mixed(41, "130")
    src = tmp_path / "mixed.xml"
    src.write_bytes(m.data)
    assert cli.main(["bhyt", "to-fhir", str(src)]) == 1
    out, err = capsys.readouterr()
    assert len(_bundles(out)) == len(m.good)
    for pos, (_, word, ep) in m.broken.items():
        lines = [line for line in err.splitlines() if line.startswith(f"{src}: HOSO {pos} ")]
        assert lines and any(word in line for line in lines), (pos, err)
        if pos != 7:
            assert all(f"(MA_LK {ep.ma_lk})" in line for line in lines)


def test_stdin_and_stdout_through_the_installed_command(tmp_path: Path) -> None:
    eps = generated(42, 2, "4210")
    data = envelope([hoso(e) for e in eps])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    to = subprocess.run([sys.executable, "-m", "server.cli", "bhyt", "to-fhir", "-"], input=data, capture_output=True, env=env, timeout=120)
    assert to.returncode == 0, to.stderr.decode()
    back = subprocess.run([sys.executable, "-m", "server.cli", "bhyt", "from-fhir", "-"], input=to.stdout, capture_output=True, env=env, timeout=120)
    assert back.returncode == 0, back.stderr.decode()
    assert [e.tables for e in read_envelope(io.BytesIO(back.stdout))] == [e.tables for e in eps]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"not xml", "malformed"),
        (b"<Patient/>", "GIAMDINHHS"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><GIAMDINHHS>&a;</GIAMDINHHS>', "DOCTYPE"),
    ],
)
def test_to_fhir_unreadable_input_exits_1_with_nothing_on_stdout(monkeypatch, capsys, content: bytes, words: str) -> None:
    _stdin(monkeypatch, content)
    assert cli.main(["bhyt", "to-fhir", "-"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("<stdin>: ") and words in err


def test_to_fhir_missing_file(tmp_path: Path, capsys) -> None:
    assert cli.main(["bhyt", "to-fhir", str(tmp_path / "absent.xml")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "cannot read the file" in err


def test_from_fhir_accepts_one_pretty_bundle(tmp_path: Path, capsys) -> None:
    from mappings.bhyt_xml.fhir import to_fhir

    ep = generated(43, 1, "130")[0]
    f = tmp_path / "one.json"
    f.write_bytes(jsonio.dumps(to_fhir(ep), pretty=True))
    assert cli.main(["bhyt", "from-fhir", str(f)]) == 0
    (back,) = read_envelope(io.BytesIO(capsys.readouterr().out.encode()))
    assert isinstance(back, Episode) and back.tables == ep.tables


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ([b"{not json"], "line 1: not valid JSON"),
        ([b'{"resourceType": "Patient"}'], "line 1: not a FHIR Bundle"),
        ([b"GOOD", b"[1, 2]"], "line 2: not a FHIR Bundle"),
        ([b'{"resourceType": "Bundle", "type": "transaction", "entry": []}'], "line 1: the Bundle cannot be read"),
        ([b"", b"   "], "no Bundle"),
    ],
)
def test_from_fhir_bad_input_exits_1_with_nothing_on_stdout(tmp_path: Path, capsys, lines: list[bytes], words: str) -> None:
    from mappings.bhyt_xml.fhir import to_fhir

    good = jsonio.dumps(to_fhir(generated(44, 1, "130")[0]))
    f = tmp_path / "in.ndjson"
    f.write_bytes(b"\n".join(good if line == b"GOOD" else line for line in lines))
    assert cli.main(["bhyt", "from-fhir", str(f)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert words in err, err


def test_from_fhir_bad_standard_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["bhyt", "from-fhir", "-", "--standard", "999"])
    assert exc.value.code == 2
