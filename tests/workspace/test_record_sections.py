"""The patient page's record sections: the timeline of episodes, laboratory results with their
trends, vital signs; in Vietnamese and in English. The trends example (examples/core/
patient-bundle-trends.json) is a patient with ten episodes at three facilities."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from mappings.fhir_terms import DIAG_ROLE, ICD10, OBS_CATEGORY
from server.workspace import i18n
from server.workspace.context import Ctx
from server.workspace.layout import Frame
from server.workspace.record import Record
from server.workspace.sections import labs, timeline, vitals

from .conftest import CCCD

pytestmark = pytest.mark.anyio

TRENDS = "example-trends-patient-1"


def section(page: str, name: str) -> str:
    found = re.search(rf'<section class="card {name}".*?</section>', page, re.S)
    assert found, f"no {name} section"
    return found.group(0)


async def test_timeline_lists_episodes_newest_first_with_facility_diagnosis_and_outcome(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get(f"/app/patient/{TRENDS}")
    assert r.status_code == 200
    part = section(r.text, "timeline")
    items = re.findall(r"<li>.*?</li>", part, re.S)
    assert len(items) == 10
    starts = re.findall(r'<time datetime="([^"]+)"', part)
    assert starts == sorted(starts, reverse=True)
    links = re.findall(r'href="(/app/patient/[^"]+)"', part)
    assert links[0] == f"/app/patient/{TRENDS}/episode/example-trends-encounter-10"
    assert len(set(links)) == 10
    # the newest episode: an outpatient visit at the district hospital for diabetes
    newest = items[0]
    assert "Bệnh viện đa khoa huyện Thanh Oai" in newest and "Ngoại trú" in newest
    assert '<code class="icd">E11.9</code> Đái tháo đường týp 2 không biến chứng' in newest
    # the pneumonia stay at Hà Đông: inpatient, its dates, improved and discharged (the code system's Vietnamese words)
    stay = next(i for i in items if "J18.9" in i)
    assert "Bệnh viện Đa khoa Hà Đông" in stay and "Nội trú" in stay
    assert re.search(r"\d\d/\d\d/2024 – \d\d/\d\d/2024", stay)
    assert "Đỡ · Ra viện" in stay
    assert "Cấp cứu" in part and "Chuyển tuyến" in part


async def test_timeline_reads_a_transfer_records_episode(doctor: httpx.AsyncClient) -> None:
    """The transfer record's episode: its main disease is the Encounter.diagnosis with VN Core's CC
    role (not the comorbidities N18.3, I10), its outcome the treatment result and the discharge type."""
    r = await doctor.get("/app/", params={"q": CCCD})
    pid = re.findall(r'href="/app/patient/([^"]+)"', r.text)[0]
    part = section((await doctor.get(f"/app/patient/{pid}")).text, "timeline")
    item = next(i for i in re.findall(r"<li>.*?</li>", part, re.S) if "19/07/2024 – 29/07/2024" in i)
    assert '<code class="icd">E11.9</code> Đái tháo đường týp 2' in item
    assert "N18.3" not in item and "I10" not in item
    assert "Không thay đổi · Chuyển tuyến" in item
    assert "Nội trú · Điều trị nội trú" in item  # the class, and the record's encounter type in Vietnamese


def test_main_diagnosis_by_role_rank_or_part_identifier() -> None:
    def record(enc: dict, *conditions: dict) -> Record:
        patient = {"resourceType": "Patient", "id": "p"}
        return Record.of("p", [patient, enc, *conditions])

    def cond(id_: str, code: str, ident: str = "") -> dict:
        return {"resourceType": "Condition", "id": id_, "code": {"coding": [{"system": ICD10, "code": code}]},
                "encounter": {"reference": "Encounter/e"}, **({"identifier": [{"value": ident}]} if ident else {})}

    def enc(diagnosis: list) -> dict:
        return {"resourceType": "Encounter", "id": "e", "diagnosis": diagnosis}

    def use(code: str) -> dict:
        return {"coding": [{"system": DIAG_ROLE, "code": code}]}

    a, b = cond("a", "I10"), cond("b", "E11.9")
    by_role = enc([{"condition": {"reference": "Condition/a"}, "use": use("CM")}, {"condition": {"reference": "Condition/b"}, "use": use("CC")}])
    assert timeline.main_diagnosis(record(by_role, a, b), by_role) is b
    old = enc([{"condition": {"reference": "Condition/a"}, "use": use("DD")}])  # written before the mappings followed VN Core
    assert timeline.main_diagnosis(record(old, a, b), old) is a
    ranked = enc([{"condition": {"reference": "Condition/a"}, "rank": 2}, {"condition": {"reference": "Condition/b"}, "rank": 1}])
    assert timeline.main_diagnosis(record(ranked, a, b), ranked) is b
    keyed = cond("k", "J18.9", "01005/0100525081700000283/dx/main")
    bare = enc([])
    assert timeline.main_diagnosis(record(bare, a, keyed), bare) is keyed
    assert timeline.main_diagnosis(record(bare, a), bare) is None


async def test_labs_table_per_test_with_values_units_ranges_and_flags(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get(f"/app/patient/{TRENDS}")
    part = section(r.text, "labs")
    tests = re.findall(r'<div class="lab-test">.*?</table></div></div>', part, re.S)
    names = [re.search(r"<h3[^>]*>(.*?) <small", t).group(1) for t in tests]
    assert names == ["Glucose máu", "HbA1c", "Creatinin"]
    glucose = tests[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", glucose.split("<tbody>")[1], re.S)
    assert len(rows) == 10 + 5 + 4  # once an episode, every day of the two stays
    cells = [unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)]
    assert cells[2] == "mmol/L" and cells[3] == "3.9 – 6.4"
    assert re.fullmatch(r"\d+(\.\d)?", cells[1])
    assert cells[5] == "Bệnh viện đa khoa huyện Thanh Oai"
    # flags: the laboratory's (district and province hospitals) or computed (the commune station gives none)
    assert 'title="Theo kết quả cơ sở xét nghiệm gửi">Cao<' in glucose
    assert 'title="Tính từ khoảng tham chiếu (cơ sở không đánh giá)">' in glucose
    assert '<tr class="abnormal">' in glucose


async def test_a_chart_for_each_repeated_test(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get(f"/app/patient/{TRENDS}")
    part = section(r.text, "labs")
    charts = re.findall(r'<svg class="chart" role="img" aria-label="([^"]+)".*?</svg>', part, re.S)
    assert len(charts) == 3
    assert unescape(charts[0]).startswith("Diễn biến: Glucose máu [3.9–6.4]. Glucose máu: 19 × ")
    assert part.count('class="band"') == 3


async def test_a_patient_without_laboratory_results_has_no_labs_section(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get("/app/patient/example-1-patient-0")
    assert r.status_code == 200
    assert '<section class="card labs"' not in r.text  # its observations are vital signs only
    assert '<section class="card vitals"' in r.text


def test_a_test_done_once_has_its_table_and_no_chart() -> None:
    ctx = Ctx(request=None, session=None, frame=Frame("vi", "/"), repo=None)  # type: ignore[arg-type]
    once = {"resourceType": "Observation", "id": "o", "status": "final", "effectiveDateTime": "2025-03-02",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory"}]}],
            "code": {"text": "Kali <máu>"}, "valueQuantity": {"value": 5.9, "unit": "mmol/L"},
            "referenceRange": [{"low": {"value": 3.5}, "high": {"value": 5.1}}]}
    html = labs.render(ctx, Record.of("p", [{"resourceType": "Patient", "id": "p"}, once]))
    assert "<svg" not in html
    assert "Kali &lt;máu&gt;" in html and "<máu>" not in html
    assert "02/03/2025" in html and "3.5 – 5.1" in html
    assert '<tr class="abnormal">' in html and ">Cao*<" in html  # computed: no interpretation in the record


async def test_vital_signs_charts_blood_pressure_as_two_lines(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get(f"/app/patient/{TRENDS}")
    part = section(r.text, "vitals")
    figures = re.findall(r'<figure class="sign">.*?</figure>', part, re.S)
    assert [re.search(r"<h3>(.*?) <small", f).group(1) for f in figures] == ["Cân nặng", "Huyết áp", "Mạch", "Nhiệt độ"]
    bp = figures[1]
    assert bp.count('<path class="line') == 2 and "Tâm thu" in bp and "Tâm trương" in bp
    assert 'class="legend"' in bp
    assert "<details><summary>Các số đo</summary>" in bp and "mmHg" in bp and "mm[Hg]" not in bp  # the UCUM code as people write it
    assert all("<svg" in f for f in figures)


async def test_english_switch(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get(f"/app/patient/{TRENDS}?lang=en")
    assert r.status_code == 200
    for words in ("Episodes of care", "Main diagnosis", "Outpatient", "Inpatient", "Improved · Discharged",
                  "Laboratory results", "Reference range", "As the laboratory reported it", "Vital signs", "Blood pressure", "Systolic"):
        assert words in r.text, words
    assert "Kết quả xét nghiệm" not in r.text


def test_every_word_the_sections_use_exists_in_both_languages() -> None:
    keys = set(timeline.CARE_TYPES.values()) | set(labs.COLUMNS) | {s.key for s in vitals.SIGNS} | {k for s in vitals.SIGNS for k, _ in s.lines}
    from server.workspace import observations
    keys |= set(observations.FLAG_WORDS.values())
    import inspect
    for module in (timeline, labs, vitals):
        keys |= set(re.findall(r'ctx\.(?:t|word)\("([a-z_A-Z]+)"', inspect.getsource(module)))
    assert keys, "no keys found"
    for key in keys:
        vi, en = i18n.WORDS[key]
        assert vi and en, key
