"""``lienthong import``: folders of mixed files, quarantine with reasons, repair and re-import,
idempotence, the JSON report, and ``--server`` against a live server."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import httpx
import pytest

from mappings.bhyt_xml.envelope import BrokenEpisode, Episode, read_envelope
from mappings.bhyt_xml.store import from_store
from mappings.transfer54.generate import records
from mappings.transfer54.xml_form import write_xml
from server import cli, jsonio
from server.config import Settings
from server.fhir.repository import Repository
from server.imports.quarantine import NOTES_JSON, NOTES_TEXT
from server.imports.recognition import recognise_bytes
from server.storage.base import HistoryQuery, Query
from server.storage.factory import make_store
from tests.bhyt_envelopes import HEADER, envelope, generated, hoso, mixed, with_field
from tests.support.live_server import cli as run_cli
from tests.support.live_server import free_port, live_server

ROOT = Path(__file__).resolve().parent.parent
T54 = records(77, 2)


async def _stored_ma_lks(url: str) -> list[str]:
    """MA_LK of every insurance episode in the store (rebuilt from the store, as $bhyt-xml does)."""
    store = make_store(url)
    await store.open()
    try:
        repo = Repository(store, Settings())
        found = await repo.search("Encounter", repo.parse_search("Encounter", [("_count", "1000")], strict=True), {})
        out = []
        for v in found.matches:
            try:
                out.append((await from_store(repo, v.id)).ma_lk)
            except ValueError:  # not an insurance episode (a transfer record's Encounter)
                out.append(f"t54:{v.id}")
        return sorted(out)
    finally:
        await store.close()


def stored(url: str) -> list[str]:
    return asyncio.run(_stored_ma_lks(url))


def import_(*args: str) -> int:
    return cli.main(["import", *args])


@pytest.fixture
def tree(tmp_path: Path):
    """A folder of every kind of file: two envelopes (one mixed), transfer records, and noise."""
    src = tmp_path / "in"
    (src / "sub" / "deeper").mkdir(parents=True)
    m = mixed(5, "130")
    (src / "mixed.xml").write_bytes(m.data)
    legacy = generated(9, 3, "4210")
    (src / "sub" / "legacy-4210.txt").write_bytes(envelope([hoso(e) for e in legacy]))  # extension lies
    (src / "sub" / "deeper" / "t54.json").write_bytes(jsonio.dumps(T54[0]))
    (src / "sub" / "t54.data").write_bytes(write_xml(T54[1]))
    bad = dict(T54[0], MA_LK=T54[0]["MA_LK"] + "X", GIOI_TINH="7")
    (src / "bad54.json").write_bytes(jsonio.dumps(bad))
    (src / "notes.md").write_text("# not data\n", encoding="utf-8")
    (src / "other.xml").write_text("<?xml version='1.0'?><!-- hi --><Patient/>", encoding="utf-8")
    (src / "bundle.json").write_bytes(jsonio.dumps({"resourceType": "Bundle", "type": "collection"}))
    (src / ".hidden.xml").write_bytes(m.data)  # hidden files are not walked
    return src, m, legacy, bad


def test_mixed_folder_stores_the_good_and_quarantines_each_broken_episode_with_its_reason(tmp_path: Path, tree, capsys) -> None:
    src, m, legacy, bad = tree
    url = f"sqlite:///{tmp_path / 'db' / 'store.db'}"
    q = tmp_path / "q"
    report_file = tmp_path / "out" / "report.json"
    assert import_(str(src), "--store", url, "--quarantine", str(q), "--report", str(report_file)) == 1
    out = capsys.readouterr().out

    # the store holds exactly the good episodes (both standards) and the two good transfer records
    ma_lks = stored(url)
    assert [x for x in ma_lks if not x.startswith("t54:")] == sorted([e.ma_lk for e in m.good] + [e.ma_lk for e in legacy])
    assert sum(x.startswith("t54:") for x in ma_lks) == 2

    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["episodes"] == {"read": 8 + 3 + 3, "stored": 4 + 3 + 2, "created": 9, "updated": 0, "unchanged": 0, "failed": 5}
    assert report["files"]["seen"] == 8 and report["files"]["skipped"] == 3 and report["files"]["unreadable"] == 0
    assert report["files"]["by_kind"] == {"envelope": 2, "transfer54-json": 2, "transfer54-xml": 1}
    assert report["ok"] is False and report["quarantine"] == str(q)
    assert {Path(s["file"]).name for s in report["skipped"]} == {"notes.md", "other.xml", "bundle.json"}
    assert all(s["reason"] for s in report["skipped"])

    failed = {(Path(f["file"]).name, f["position"]): f for f in report["failed"]}
    assert set(failed) == {("mixed.xml", 2), ("mixed.xml", 4), ("mixed.xml", 6), ("mixed.xml", 7), ("bad54.json", None)}
    for pos, (_, word, ep) in m.broken.items():
        f = failed[("mixed.xml", pos)]
        assert any(word in r for r in f["reasons"]), (pos, f["reasons"])
        assert f["quarantined"] == "in/mixed.xml"
        if pos != 7:
            assert f["ma_lk"] == ep.ma_lk
    assert failed[("mixed.xml", 2)]["stage"] == "read" and failed[("mixed.xml", 6)]["stage"] == "check"
    assert any(r.startswith("GIOI_TINH") for r in failed[("bad54.json", None)]["reasons"])
    assert failed[("bad54.json", None)]["ma_lk"] == bad["MA_LK"]

    # the human report names the counts and every failed episode
    assert "14 read: 9 stored (9 new, 0 updated), 0 unchanged, 5 failed" in out
    assert "mixed.xml" in out and "bad54.json" in out and "NGAY_VAO" in out

    # the quarantine: a valid envelope of only the failed HOSO, byte for byte, and the record file itself
    qenv = q / "in" / "mixed.xml"
    data = qenv.read_bytes()
    for element, _, _ in m.broken.values():
        assert element in data
    reader = read_envelope(io.BytesIO(data))
    results = list(reader)
    assert [r.position for r in results] == [1, 2, 3, 4]
    assert [type(r) for r in results] == [BrokenEpisode, BrokenEpisode, Episode, BrokenEpisode]
    assert (reader.header.macskcb, reader.header.ngaylap, reader.header.soluonghoso) == (HEADER.macskcb, HEADER.ngaylap, "4")
    assert (q / "in" / "bad54.json").read_bytes() == (src / "bad54.json").read_bytes()
    notes = json.loads((q / NOTES_JSON).read_text(encoding="utf-8"))
    by_file = {c["file"]: c for c in notes["copies"]}
    assert [e["source_position"] for e in by_file["in/mixed.xml"]["episodes"]] == [2, 4, 6, 7]
    assert by_file["in/bad54.json"]["kind"] == "transfer54-json"
    assert "NGAY_VAO" in (q / NOTES_TEXT).read_text(encoding="utf-8")


def test_second_import_changes_nothing_and_repaired_quarantine_imports(tmp_path: Path, tree, capsys) -> None:
    src, m, legacy, bad = tree
    url = f"sqlite:///{tmp_path / 'store.db'}"
    q1, q2 = tmp_path / "q1", tmp_path / "q2"
    assert import_(str(src), "--store", url, "--quarantine", str(q1)) == 1
    before = stored(url)
    report = tmp_path / "again.json"
    assert import_(str(src), "--store", url, "--quarantine", str(q2), "--report", str(report)) == 1
    again = json.loads(report.read_text(encoding="utf-8"))["episodes"]
    assert again == {"read": 14, "stored": 0, "created": 0, "updated": 0, "unchanged": 9, "failed": 5}
    assert stored(url) == before

    # repair by hand: each broken HOSO replaced in place by its corrected form, the record fixed
    qenv = q1 / "in" / "mixed.xml"
    data = qenv.read_bytes()
    for element, _, ep in m.broken.values():
        data = data.replace(element, hoso(ep))
    qenv.write_bytes(data)
    (q1 / "in" / "bad54.json").write_bytes(jsonio.dumps(dict(bad, GIOI_TINH="1")))
    capsys.readouterr()
    report = tmp_path / "repaired.json"
    assert import_(str(q1), "--store", url, "--quarantine", str(tmp_path / "q3"), "--report", str(report)) == 0
    facts = json.loads(report.read_text(encoding="utf-8"))
    assert facts["episodes"] == {"read": 5, "stored": 5, "created": 5, "updated": 0, "unchanged": 0, "failed": 0}
    assert {Path(s["file"]).name for s in facts["skipped"]} == {NOTES_JSON, NOTES_TEXT}
    assert not (tmp_path / "q3").exists()  # nothing failed, nothing quarantined
    assert [x for x in stored(url) if not x.startswith("t54:")] == sorted(e.ma_lk for e in [*m.positions.values(), *(b[2] for b in m.broken.values()), *legacy])
    assert "All episodes stored." in capsys.readouterr().out
    assert [e["outcome"] for e in import_events(url)] == ["4", "4", "0"]  # each run is audited in the store


def import_events(url: str) -> list[dict]:
    """The Import AuditEvents in the store, oldest first."""
    from server.fhir.resource import body_of
    from server.storage.base import Query
    from server.storage.factory import opened

    async def read() -> list[dict]:
        async with opened(url) as store:
            events = [body_of(v) for v in (await store.search(Query("AuditEvent", limit=100))).versions]
        return [e for e in events if e["type"]["code"] == "110107"]

    return asyncio.run(read())


def test_a_corrected_episode_is_updated_in_place(tmp_path: Path) -> None:
    eps = generated(21, 2, "130")
    f = tmp_path / "e.xml"
    f.write_bytes(envelope([hoso(e) for e in eps]))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert import_(str(f), "--store", url, "--quarantine", str(tmp_path / "q")) == 0
    changed = eps[1]
    changed.tables["XML1"][0]["CHAN_DOAN_RV"] += " (đã sửa)"
    f.write_bytes(envelope([hoso(e) for e in eps]))
    report = tmp_path / "r.json"
    assert import_(str(f), "--store", url, "--report", str(report), "--quarantine", str(tmp_path / "q")) == 0
    facts = json.loads(report.read_text(encoding="utf-8"))["episodes"]
    assert (facts["unchanged"], facts["updated"], facts["created"]) == (1, 1, 0)
    assert stored(url) == sorted(e.ma_lk for e in eps)


@pytest.mark.parametrize("standard", ["130", "4210"])
def test_an_invalid_code_fails_its_episode_only(tmp_path: Path, standard: str) -> None:
    good, bad = generated(61, 2, standard)
    wrong = with_field(bad, "XML1", "GIOI_TINH", "7")
    f = tmp_path / "codes.xml"
    f.write_bytes(envelope([hoso(good), hoso(wrong)]))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    report = tmp_path / "r.json"
    assert import_(str(f), "--store", url, "--report", str(report), "--quarantine", str(tmp_path / "q")) == 1
    (failure,) = json.loads(report.read_text(encoding="utf-8"))["failed"]
    assert (failure["position"], failure["ma_lk"], failure["stage"]) == (2, bad.ma_lk, "check")
    assert any("GIOI_TINH" in r and "7" in r for r in failure["reasons"])
    assert stored(url) == [good.ma_lk]
    assert hoso(wrong) in (tmp_path / "q" / "codes.xml").read_bytes()


def test_an_envelope_that_breaks_off_is_quarantined_whole_and_the_rest_goes_on(tmp_path: Path) -> None:
    eps = generated(31, 3, "130")
    whole = envelope([hoso(e) for e in eps])
    cut = whole[: whole.index(b"<HOSO>", whole.index(b"</HOSO>")) + 40]  # HOSO 2 torn mid-element
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a-torn.xml").write_bytes(cut)
    (tmp_path / "in" / "b-fine.xml").write_bytes(envelope([hoso(eps[2])]))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    q = tmp_path / "q"
    report = tmp_path / "r.json"
    assert import_(str(tmp_path / "in"), "--store", url, "--quarantine", str(q), "--report", str(report)) == 1
    facts = json.loads(report.read_text(encoding="utf-8"))
    assert facts["episodes"]["created"] == 2  # HOSO 1 of the torn file, and the other file
    assert [Path(u["file"]).name for u in facts["unreadable"]] == ["a-torn.xml"]
    assert "malformed" in facts["unreadable"][0]["reason"]
    assert (q / "in" / "a-torn.xml").read_bytes() == cut
    assert stored(url) == sorted([eps[0].ma_lk, eps[2].ma_lk])


def test_an_unsafe_envelope_is_refused_and_reported(tmp_path: Path) -> None:
    f = tmp_path / "evil.xml"
    f.write_bytes(b'<?xml version="1.0"?><!DOCTYPE GIAMDINHHS [<!ENTITY a "aaaa">]><GIAMDINHHS>&a;</GIAMDINHHS>')
    report = tmp_path / "r.json"
    q = tmp_path / "q"
    assert import_(str(f), "--store", f"sqlite:///{tmp_path / 's.db'}", "--report", str(report), "--quarantine", str(q)) == 1
    facts = json.loads(report.read_text(encoding="utf-8"))
    assert facts["episodes"]["read"] == 0 and facts["files"]["by_kind"] == {"envelope": 1}
    assert "DOCTYPE" in facts["unreadable"][0]["reason"]
    assert (q / "evil.xml").read_bytes() == f.read_bytes()


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xef\xbb\xbf  <?xml version='1.0'?>\r\n<!-- x --><GIAMDINHHS>", "envelope"),
        (b"<ns:GIAMDINHHS xmlns:ns='urn:x'>", "envelope"),
        (b"<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK>1</MA_LK>", "transfer54-xml"),
        (b'{"MA_LK": "1"}', "transfer54-json"),
        (b'{"resourceType": "Patient", "MA_LK": "1"}', "skip"),
        (b"[1]", "skip"),
        (b"", "skip"),
        (b"\x00\x01\x02", "skip"),
        (b"<html><body>", "skip"),
    ],
)
def test_recognition_is_by_content(head: bytes, kind: str) -> None:
    found = recognise_bytes(head)
    assert found.name == kind
    assert found.skipped == bool(found.reason)


def test_usage_errors_exit_2(tmp_path: Path, capsys) -> None:
    assert import_(str(tmp_path / "nothing-here")) == 2
    assert "no such file or folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        import_(str(tmp_path), "--store", "sqlite:///x.db", "--server", "http://127.0.0.1:9/fhir")
    assert exc.value.code == 2
    assert import_(str(tmp_path), "--store", "postgres://nope") == 2
    assert "cannot use store" in capsys.readouterr().err
    assert import_(str(tmp_path), "--server", f"http://127.0.0.1:{free_port()}/fhir") == 2
    assert "cannot reach" in capsys.readouterr().err


# ----------------------------------------------------------------------------- --server

AUTH: dict[str, str] = {}  # the live server's bearer header, set by the fixture


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A running server on its own store, and a vendor's token for it (in $LIENTHONG_TOKEN and AUTH)."""
    url = f"sqlite:///{tmp_path / 'server.db'}"
    with live_server(url) as root:
        token = run_cli("token", "--scope", "system/*.cruds", "--store", url).stdout.strip()
        monkeypatch.setenv("LIENTHONG_TOKEN", token)  # lienthong import --server reads it
        AUTH["Authorization"] = f"Bearer {token}"
        yield f"{root}/fhir", url


def test_server_import_stores_through_http_and_is_idempotent(tmp_path: Path, tree, live) -> None:
    base, _ = live
    src, m, legacy, bad = tree
    report = tmp_path / "r.json"
    assert import_(str(src), "--server", base, "--quarantine", str(tmp_path / "q"), "--report", str(report)) == 1
    facts = json.loads(report.read_text(encoding="utf-8"))
    assert facts["target"] == f"server {base}"
    assert facts["episodes"] == {"read": 14, "stored": 9, "created": 9, "updated": 0, "unchanged": 0, "failed": 5}
    r = httpx.get(f"{base}/Encounter", params={"_summary": "count"}, headers=AUTH)
    assert r.json()["total"] == 9
    encounters = httpx.get(f"{base}/Encounter", params={"_count": "50"}, headers=AUTH).json()["entry"]
    exported = set()
    for e in encounters:
        x = httpx.get(f"{base}/Encounter/{e['resource']['id']}/$bhyt-xml", headers=AUTH)
        if x.status_code == 200:
            exported.update(ep.ma_lk for ep in read_envelope(io.BytesIO(x.content)))
    assert exported == {e.ma_lk for e in [*m.good, *legacy]}
    assert import_(str(src), "--server", base, "--quarantine", str(tmp_path / "q2"), "--report", str(report)) == 1
    assert json.loads(report.read_text(encoding="utf-8"))["episodes"]["unchanged"] == 9
    assert httpx.get(f"{base}/Encounter", params={"_summary": "count"}, headers=AUTH).json()["total"] == 9


def test_an_episode_the_server_refuses_is_failed_and_quarantined(tmp_path: Path, live) -> None:
    from mappings.bhyt_xml.fhir import to_fhir

    base, _ = live
    eps = generated(51, 2, "130")
    patient = next(e for e in to_fhir(eps[0])["entry"] if e["request"]["url"].startswith("Patient"))
    criteria = patient["request"].get("ifNoneExist") or patient["request"]["url"].partition("?")[2]
    system, _, value = criteria.partition("=")[2].partition("|")
    for _ in range(2):  # the episode's patient identifier now matches two Patients: the server refuses it
        httpx.post(f"{base}/Patient", json={"resourceType": "Patient", "identifier": [{"system": system, "value": value}]}, headers=AUTH).raise_for_status()
    elements = [hoso(e) for e in eps]
    f = tmp_path / "two.xml"
    f.write_bytes(envelope(elements))
    report, q = tmp_path / "r.json", tmp_path / "q"
    assert import_(str(f), "--server", base, "--report", str(report), "--quarantine", str(q)) == 1
    facts = json.loads(report.read_text(encoding="utf-8"))
    assert facts["episodes"]["created"] == 1
    (failure,) = facts["failed"]
    assert (failure["position"], failure["ma_lk"], failure["stage"], failure["status"]) == (1, eps[0].ma_lk, "store", 412)
    assert any("Patient" in r for r in failure["reasons"])
    copy = (q / "two.xml").read_bytes()
    assert elements[0] in copy and elements[1] not in copy


def test_the_progress_bar_tells_files_episodes_and_bytes_on_a_terminal(tmp_path: Path) -> None:
    from rich.console import Console

    from server.imports.discovery import discover
    from server.imports.progress import BarProgress
    from server.imports.quarantine import Quarantine
    from server.imports.run import ImportRun
    from server.imports.targets import StoreTarget

    m = mixed(71, "4210")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "m.xml").write_bytes(m.data)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    target = StoreTarget(f"sqlite:///{tmp_path / 'store.db'}")

    async def go():  # noqa: ANN202
        await target.open()
        try:
            return await ImportRun(target, Quarantine(tmp_path / "q"), BarProgress(console)).run(list(discover([tmp_path / "in"])))
        finally:
            await target.close()

    report = asyncio.run(go())
    assert (report.read, report.created, report.failed) == (8, 4, 4)
    drawn = screen.getvalue()
    assert "1/1 files · 8 episodes · 4 failed" in drawn
    assert f"{len(m.data) / 1048576:.1f}/{len(m.data) / 1048576:.1f} MiB" in drawn


def test_worker_processes_change_nothing_but_the_speed(tmp_path: Path, tree) -> None:
    """With --workers the next episodes are validated in other processes: same episodes stored, same
    failures with the same reasons, same quarantine, as without."""
    src, m, legacy, bad = tree
    outcomes = []
    for workers in ("0", "1"):
        url = f"sqlite:///{tmp_path / workers / 'store.db'}"
        report_file = tmp_path / workers / "report.json"
        assert import_(str(src), "--store", url, "--quarantine", str(tmp_path / workers / "q"),
                       "--report", str(report_file), "--workers", workers) == 1
        report = json.loads(report_file.read_text(encoding="utf-8"))
        failed = sorted((Path(f["file"]).name, f["position"] or 0, f["stage"], tuple(f["reasons"])) for f in report["failed"])
        quarantined = (tmp_path / workers / "q" / "in" / "mixed.xml").read_bytes()
        episodes = [x if not x.startswith("t54:") else "t54" for x in stored(url)]  # server ids differ
        outcomes.append((episodes, report["episodes"], failed, quarantined))
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][1]["stored"] == 9


def damaged_prepare(result, strict, depth):
    """The worker's preparation, with the second episode's Patient given a gender outside its
    required binding (module level: the worker processes import it by name)."""
    from mappings.bhyt_xml.envelope import finish_hoso
    from server.fhir.bundles import check_entries
    from server.imports.episodes import insurance_bundle
    from server.imports.pipeline import Prepared

    result = finish_hoso(result)  # the import hands the workers undecoded HOSO
    bundle = insurance_bundle(result)
    if result.position == 2:
        next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")["resource"]["gender"] = "nam"
    return Prepared(bundle, None, [], check_entries(bundle, depth) if depth is not None else None, result.ma_lk)


@pytest.mark.parametrize("workers", ["0", "1"])
def test_a_resource_invalid_after_mapping_fails_its_episode(tmp_path: Path, monkeypatch, workers: str) -> None:
    """The workers' validation is the store's: an invalid resource is refused with its path (422), in order."""
    eps = generated(3, 3)
    src = tmp_path / "in"
    src.mkdir()
    (src / "e.xml").write_bytes(envelope([hoso(e) for e in eps]))
    monkeypatch.setattr("server.imports.pipeline.prepare_insurance", damaged_prepare)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    report_file = tmp_path / "report.json"
    assert import_(str(src), "--store", url, "--quarantine", str(tmp_path / "q"), "--report", str(report_file), "--workers", workers) == 1
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["episodes"]["stored"] == 2 and report["episodes"]["failed"] == 1
    (failure,) = report["failed"]
    assert failure["position"] == 2 and failure["stage"] == "store" and failure["status"] in (400, 422)
    assert any("gender" in r for r in failure["reasons"])


# ----------------------------------------------------------------------------- import policy


def _field_report(tmp_path: Path) -> tuple[Path, list[Episode]]:
    """Episodes as hospitals send them: a practitioner's licence number in MA_TTDV (15 > 10) and a
    comma decimal, a 10-digit SO_CCCD; and one with a real error (an impossible date)."""
    eps = generated(61, 3, "130")
    first = with_field(with_field(eps[0], "XML1", "MA_TTDV", "004078/CT-CCHN"), "XML2", "DON_GIA", "23500,50")
    field_like = [first, with_field(eps[1], "XML1", "SO_CCCD", "0790851234"),
                  with_field(eps[2], "XML1", "NGAY_VAO", "202502301200")]
    f = tmp_path / "field.xml"
    f.write_bytes(envelope([hoso(e) for e in field_like]))
    return f, field_like


def test_departures_real_files_carry_are_stored_with_warnings_and_kept_exactly(tmp_path: Path, capsys) -> None:
    f, field_like = _field_report(tmp_path)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    report_file = tmp_path / "r.json"
    assert import_(str(f), "--store", url, "--report", str(report_file), "--quarantine", str(tmp_path / "q")) == 1
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["episodes"]["created"] == 2 and report["episodes"]["failed"] == 1  # the impossible date still fails
    warned = {w["position"]: w["warnings"] for w in report["warnings"]}
    assert set(warned) == {1, 2}
    assert "MA_TTDV" in warned[1][0] and "published maximum of 10" in warned[1][0]
    assert "DON_GIA" in warned[1][1] and "decimal separator" in warned[1][1]
    assert "SO_CCCD" in warned[2][0]
    assert "stored with warnings" in capsys.readouterr().out

    async def exported() -> dict[str, Episode]:
        from server.storage.base import Query
        from server.storage.factory import opened

        async with opened(url) as store:
            repo = Repository(store, Settings())
            encounters = (await store.search(Query("Encounter", limit=10))).versions
            return {e.ma_lk: e for e in [await from_store(repo, v.id) for v in encounters]}

    back = asyncio.run(exported())
    for sent, table, name in ((field_like[0], "XML1", "MA_TTDV"), (field_like[0], "XML2", "DON_GIA"), (field_like[1], "XML1", "SO_CCCD")):
        assert back[sent.ma_lk].tables[table][0][name] == sent.tables[table][0][name]  # nothing changed or lost


def test_strict_refuses_what_the_policy_accepts(tmp_path: Path) -> None:
    f, _ = _field_report(tmp_path)
    report_file = tmp_path / "r.json"
    assert import_(str(f), "--store", f"sqlite:///{tmp_path / 's.db'}", "--strict", "--report", str(report_file), "--quarantine", str(tmp_path / "q")) == 1
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["episodes"]["stored"] == 0 and report["episodes"]["failed"] == 3 and report["warnings"] == []


async def _store_contents(url: str) -> tuple[dict[str, int], int, list[tuple[str, str, dict]]]:
    """Per type the current resources, the number of versions, and every insurance episode as the
    store gives it back (ids differ between stores; what they hold must not)."""
    store = make_store(url)
    await store.open()
    try:
        repo = Repository(store, Settings())
        counts = {}
        for type_ in ("Patient", "Encounter", "Coverage", "Condition", "Observation", "MedicationRequest",
                      "Procedure", "DocumentReference", "Organization", "Practitioner", "ClinicalImpression"):
            page = await store.search(Query(type_, total=True))
            counts[type_] = page.total
        versions = (await store.history(HistoryQuery(), total=True)).total
        found = await repo.search("Encounter", repo.parse_search("Encounter", [("_count", "1000")], strict=True), {})
        episodes = []
        for v in found.matches:
            try:
                ep = await from_store(repo, v.id)
            except ValueError:
                continue
            episodes.append((ep.ma_lk, ep.standard, ep.tables))
        return counts, versions, sorted(episodes, key=lambda e: e[0])
    finally:
        await store.close()


def test_the_batched_path_stores_what_one_episode_at_a_time_stores(tmp_path: Path, tree) -> None:
    """Several episodes in flight (sharing commits) and worker processes give the same report and
    the same stored resources, versions included, as one episode at a time without workers."""
    from server.imports.discovery import discover
    from server.imports.quarantine import Quarantine
    from server.imports.run import ImportRun, Progress
    from server.imports.targets import StoreTarget

    src = tree[0]
    (src / "again.xml").write_bytes((src / "mixed.xml").read_bytes())  # the same episodes again: unchanged

    async def one(name: str, **how) -> tuple:
        url = f"sqlite:///{tmp_path / name / 'store.db'}"
        target = StoreTarget(url)
        await target.open()
        try:
            run = ImportRun(target, Quarantine(tmp_path / name / "q"), Progress(), **how)
            report = await run.run(list(discover([src])))
        finally:
            await target.close()
        summary = {k: v for k, v in report.to_json().items() if k not in ("started", "finished", "seconds", "quarantine", "target", "episodes_per_second")}
        return summary, await _store_contents(url)

    sequential = asyncio.run(one("one", workers=0, window=1))
    assert asyncio.run(one("batched", workers=0, window=16)) == sequential
    assert asyncio.run(one("workers", workers=2)) == sequential
    assert sequential[0]["episodes"]["unchanged"] > 0 and sequential[1][1] > 0


@pytest.mark.parametrize("workers", ["0", "1"])
def test_a_table_held_as_inline_xml_is_stored_with_a_warning_per_table(tmp_path: Path, capsys, workers: str) -> None:
    """An envelope whose NOIDUNGFILE holds the table as XML elements, not base64: stored, with a
    warning per table in the report, and it reads back from the store as the base64 original."""
    data = ROOT / "mappings" / "bhyt_xml" / "testdata"
    (expected,) = read_envelope(data / "realistic" / "plain.xml")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    report_file = tmp_path / "r.json"
    assert import_(str(data / "inline-xml.xml"), "--store", url, "--report", str(report_file), "--quarantine", str(tmp_path / "q"), "--workers", workers) == 0
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["episodes"]["stored"] == 1 and report["episodes"]["failed"] == 0
    (warned,) = report["warnings"]
    assert warned["warnings"] == [f"{t}: NOIDUNGFILE held the table as inline XML, not base64 (read as it is)" for t in expected.tables]
    assert "not base64" in capsys.readouterr().out
    assert stored(url) == [expected.ma_lk]


def test_junk_inside_giamdinhhs_is_a_warning_and_a_skipped_file_is_not_success(tmp_path: Path, capsys) -> None:
    """Unknown elements directly inside <GIAMDINHHS> are named once with their count; a skipped
    file makes the summary say so and the exit status 1 (0 is kept for every file imported whole)."""
    eps = generated(21, 1, "130")
    data = envelope([hoso(e) for e in eps])
    junk = data.replace(b"<THONGTINDONVI>", b"<JUNK><A><B>x</B></A></JUNK>" * 1000 + b"<THONGTINDONVI>", 1)
    assert junk != data
    src = tmp_path / "in"
    src.mkdir()
    (src / "junk.xml").write_bytes(junk)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    report_file = tmp_path / "r.json"
    assert import_(str(src), "--store", url, "--report", str(report_file), "--quarantine", str(tmp_path / "q")) == 0
    report = json.loads(report_file.read_text(encoding="utf-8"))
    (warning,) = report["file_warnings"]
    assert warning["file"].endswith("junk.xml") and "<JUNK> (1000 times)" in warning["warning"]
    assert report["episodes"]["stored"] == 1
    out = capsys.readouterr().out
    assert "<JUNK> (1000 times)" in out and "All episodes stored" in out

    (src / "notes.md").write_text("# not data\n", encoding="utf-8")
    assert import_(str(src), "--store", url, "--report", str(report_file), "--quarantine", str(tmp_path / "q")) == 1
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["ok"] is False and [Path(s["file"]).name for s in report["skipped"]] == ["notes.md"]
    out = capsys.readouterr().out
    assert "All episodes stored" not in out and "1 file(s) skipped" in out
