"""FHIR search over REST, on both stores: every parameter type, modifiers, chains, results."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server.app import create_app
from server.fhir.search import includes

from .conftest import SMALL_LIMITS, client_for, token_for
from .helpers import JSON, issues, patient

pytestmark = pytest.mark.anyio

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


async def ids(client, url: str, **params: str) -> list[str]:  # type: ignore[no-untyped-def]
    r = await client.get(url, params=params)
    assert r.status_code == 200, r.text
    return [e["resource"]["id"] for e in r.json().get("entry", []) if e["search"]["mode"] == "match"]


async def put(client, resource: dict) -> None:  # type: ignore[no-untyped-def]
    r = await client.put(f"{resource['resourceType']}/{resource['id']}", json=resource, headers=JSON)
    assert r.status_code in (200, 201), r.text


def obs(id_: str, subject: str, code: str, value: float | None = None, unit: str = "kg", **extra: object) -> dict:
    o: dict = {"resourceType": "Observation", "id": id_, "status": "final", "code": {"coding": [{"system": LOINC, "code": code}], "text": "Cân nặng"}, "subject": {"reference": subject}, **extra}
    if value is not None:
        o["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    return o


@pytest.fixture
async def people(client):  # type: ignore[no-untyped-def]
    await put(client, patient("001085000001", "Nguyễn", "Văn Đức") | {"id": "duc", "birthDate": "1985-07-14", "gender": "male"})
    await put(client, patient("001090000002", "Trần", "Thị Ánh") | {"id": "anh", "birthDate": "1990-01-02", "gender": "female"})
    await put(client, patient("001070000003", "Nguyen", "Duc Anh") | {"id": "ascii", "birthDate": "1970", "gender": "male"})
    await put(client, obs("w1", "Patient/duc", "29463-7", 62.5))
    await put(client, obs("w2", "Patient/anh", "29463-7", 48))
    await put(client, obs("hr", "Patient/duc", "8867-4", 72, "/min"))
    await put(client, {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "IMP"}, "subject": {"reference": "Patient/duc"}, "period": {"start": "2025-03-01T08:00:00+07:00", "end": "2025-03-05T10:00:00+07:00"}})
    return client


async def test_string_accent_and_case_insensitive(people) -> None:
    assert sorted(await ids(people, "Patient", name="nguyen")) == ["ascii", "duc"]
    assert sorted(await ids(people, "Patient", name="duc")) == ["ascii", "duc"]
    assert await ids(people, "Patient", family="TRAN") == ["anh"]
    assert await ids(people, "Patient", **{"family:exact": "Nguyễn"}) == ["duc"]
    assert await ids(people, "Patient", **{"family:exact": "nguyễn"}) == []
    assert sorted(await ids(people, "Patient", **{"name:contains": "anh"})) == ["anh", "ascii"]


async def test_token_forms_and_modifiers(people) -> None:
    assert sorted(await ids(people, "Patient", gender="male")) == ["ascii", "duc"]
    assert await ids(people, "Patient", **{"gender:not": "male"}) == ["anh"]
    assert sorted(await ids(people, "Observation", code=f"{LOINC}|29463-7")) == ["w1", "w2"]
    assert await ids(people, "Observation", code="|29463-7") == []
    assert sorted(await ids(people, "Observation", **{"code:text": "can nang"})) == ["hr", "w1", "w2"]


async def test_date_prefixes_and_periods(people) -> None:
    assert await ids(people, "Patient", birthdate="1985-07-14") == ["duc"]
    assert sorted(await ids(people, "Patient", birthdate="ge1985")) == ["anh", "duc"]
    assert await ids(people, "Patient", birthdate="lt1980") == ["ascii"]
    assert await ids(people, "Encounter", date="2025-03-03") == []  # eq: the period must lie within the day
    assert await ids(people, "Encounter", date="2025-03") == ["e1"]
    assert await ids(people, "Encounter", date="ge2025-03-03") == ["e1"]
    assert (await people.get("Patient", params={"birthdate": "1985-99"})).status_code == 400


async def test_reference_forms(people) -> None:
    assert sorted(await ids(people, "Observation", subject="Patient/duc")) == ["hr", "w1"]
    assert sorted(await ids(people, "Observation", subject="duc")) == ["hr", "w1"]
    assert sorted(await ids(people, "Observation", **{"subject:Patient": "duc"})) == ["hr", "w1"]
    assert sorted(await ids(people, "Observation", patient="duc")) == ["hr", "w1"]


async def test_quantity_and_composite(people) -> None:
    assert sorted(await ids(people, "Observation", **{"value-quantity": "gt60"})) == ["hr", "w1"]
    assert await ids(people, "Observation", **{"value-quantity": f"62.5|{UCUM}|kg"}) == ["w1"]
    assert await ids(people, "Observation", **{"value-quantity": "lt50||kg"}) == ["w2"]
    assert await ids(people, "Observation", **{"code-value-quantity": f"{LOINC}|29463-7$gt60"}) == ["w1"]


async def test_missing_or_and(people) -> None:
    p = patient("001000000010", "Lê", "Không Ngày") | {"id": "nodate"}
    del p["birthDate"]
    await put(people, p)
    assert "nodate" in await ids(people, "Patient", **{"birthdate:missing": "true"})
    assert "nodate" not in await ids(people, "Patient", **{"birthdate:missing": "false"})
    assert sorted(await ids(people, "Patient", _id="duc,anh")) == ["anh", "duc"]
    assert await ids(people, "Patient", _id="duc,anh", gender="female") == ["anh"]
    r = await people.get("Patient?family=nguyen&family=duc")  # repeated = AND, on the same or another name part
    assert r.status_code == 200


async def test_chaining_and_has(people) -> None:
    assert sorted(await ids(people, "Observation", **{"subject:Patient.identifier": "001085000001"})) == ["hr", "w1"]
    assert sorted(await ids(people, "Observation", **{"patient.name": "tran"})) == ["w2"]
    assert await ids(people, "Patient", **{"_has:Observation:patient:code": "8867-4"}) == ["duc"]
    assert sorted(await ids(people, "Patient", **{"_has:Observation:subject:code": "29463-7"})) == ["anh", "duc"]


async def test_includes_cut_at_the_cap_say_so(people, monkeypatch) -> None:
    """Beyond MAX_INCLUDED the Bundle carries an outcome entry naming the cap; below it, none."""
    monkeypatch.setattr(includes, "MAX_INCLUDED", 2)
    r = (await people.get("Patient", params={"_id": "duc", "_revinclude": "*"})).json()  # w1, hr, e1 refer to duc
    assert len([e for e in r["entry"] if e["search"]["mode"] == "include"]) == 2
    outcome = [e["resource"] for e in r["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcome) == 1
    issue = outcome[0]["issue"][0]
    assert issue["code"] == "too-costly" and issue["expression"] == ["_revinclude"] and "cut at 2" in issue["diagnostics"]
    r = (await people.get("Observation", params={"_id": "w1", "_include": "Observation:subject"})).json()
    assert not [e for e in r["entry"] if e["search"]["mode"] == "outcome"]
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"method": "GET", "url": "Patient?_id=duc&_revinclude=*"}}]}
    inner = (await people.post("", json=batch, headers=JSON)).json()["entry"][0]["resource"]
    assert [e for e in inner["entry"] if e["search"]["mode"] == "outcome"]


async def test_chains_of_more_than_one_level_filter(people) -> None:
    """``subject:Patient.organization.name`` follows two references; it never widens the search."""
    await put(people, {"resourceType": "Organization", "id": "bv", "name": "Bệnh viện Bạch Mai"})
    await put(people, patient("001085000001", "Nguyễn", "Văn Đức") | {"id": "duc", "managingOrganization": {"reference": "Organization/bv"}})
    await put(people, {"resourceType": "Encounter", "id": "e2", "status": "finished", "class": {"code": "AMB"}, "subject": {"reference": "Patient/anh"}})
    assert await ids(people, "Encounter", **{"subject:Patient.organization.name": "benh vien"}) == ["e1"]
    assert await ids(people, "Encounter", **{"subject:Patient.organization.name": "x"}) == []
    assert sorted(await ids(people, "Observation", **{"patient.organization.name": "benh"})) == ["hr", "w1"]
    assert await ids(people, "Observation", **{"encounter.subject:Patient.organization.name": "benh"}) == []
    assert await ids(people, "Patient", **{"_has:Encounter:subject:subject:Patient.organization.name": "benh"}) == ["duc"]
    for lenient in ({}, {"Prefer": "handling=lenient"}):  # a chain that cannot be followed is an error in both modes
        r = await people.get("Encounter", params={"subject:Patient.organization.": "x"}, headers=lenient)
        assert r.status_code == 400 and issues(r.json())[0]["expression"] == ["subject:Patient.organization."]
        r = await people.get("Encounter", params={"subject:Patient.a.b.c.d.e": "x"}, headers=lenient)
        assert r.status_code == 400 and "chains more than" in issues(r.json())[0]["diagnostics"]
    r = await people.get("Encounter", params={"subject:Patient.organization.shoe-size": "x"})
    assert r.status_code == 400 and issues(r.json())[0]["expression"] == ["subject:Patient.organization.shoe-size"]


async def test_sort_count_total_summary_elements(people) -> None:
    assert await ids(people, "Patient", _sort="birthdate") == ["ascii", "duc", "anh"]
    assert await ids(people, "Patient", _sort="-birthdate") == ["anh", "duc", "ascii"]
    assert await ids(people, "Patient", _sort="gender,-birthdate") == ["anh", "duc", "ascii"]
    none = (await people.get("Patient", params={"_total": "none"})).json()
    assert "total" not in none
    count = (await people.get("Patient", params={"_summary": "count"})).json()
    assert count["total"] == 3 and "entry" not in count
    summary = (await people.get("Patient", params={"_summary": "true", "_id": "duc"})).json()["entry"][0]["resource"]
    assert "name" in summary and "text" not in summary and summary["meta"]["tag"][0]["code"] == "SUBSETTED"
    elements = (await people.get("Patient", params={"_elements": "gender", "_id": "duc"})).json()["entry"][0]["resource"]
    assert set(elements) == {"resourceType", "id", "meta", "gender"}


async def test_include_and_revinclude(people) -> None:
    r = (await people.get("Observation", params={"_id": "w1", "_include": "Observation:subject"})).json()
    modes = {(e["resource"]["id"], e["search"]["mode"]) for e in r["entry"]}
    assert modes == {("w1", "match"), ("duc", "include")}
    r = (await people.get("Patient", params={"_id": "duc", "_revinclude": "Observation:subject"})).json()
    assert {e["resource"]["id"] for e in r["entry"] if e["search"]["mode"] == "include"} == {"w1", "hr"}
    r = (await people.get("Encounter", params={"_id": "e1", "_include": "Encounter:subject", "_revinclude:iterate": "Observation:subject"})).json()
    assert {e["resource"]["id"] for e in r["entry"]} == {"e1", "duc", "w1", "hr"}
    r = (await people.get("Observation", params={"_id": "w1", "_include": "*"})).json()
    assert {e["resource"]["id"] for e in r["entry"]} == {"w1", "duc"}
    r = (await people.get("Patient", params={"_id": "duc", "_revinclude": "*"})).json()
    assert {e["resource"]["id"] for e in r["entry"] if e["search"]["mode"] == "include"} == {"w1", "hr", "e1"}


async def test_paging_links_stay_correct_while_others_write(client) -> None:
    for n in range(10):
        await put(client, patient(f"00108501{n:04d}") | {"id": f"p{n:02d}"})
    page = (await client.get("Patient", params={"_count": "4"})).json()
    seen = [e["resource"]["id"] for e in page["entry"]]
    first_page_url = next(link["url"] for link in page["link"] if link["relation"] == "self")
    await put(client, patient("001085010000", family="Đổi") | {"id": "p01"})  # update one already seen
    await put(client, patient("001085010006", family="Đổi") | {"id": "p06"})  # update one not yet seen
    await client.post("Patient", json=patient("001085019999"), headers=JSON)  # a new one
    await client.delete("Patient/p09")
    pages = [page]
    while (nxt := next((link["url"] for link in page["link"] if link["relation"] == "next"), None)) is not None:
        page = (await client.get(nxt)).json()
        pages.append(page)
        seen += [e["resource"]["id"] for e in page["entry"] if e["search"]["mode"] == "match"]
    originals = [i for i in seen if i.startswith("p")]
    assert originals == [f"p{n:02d}" for n in range(9)]  # in order, none repeated, none skipped
    back = pages[-1]
    backwards: list[str] = []
    while (prev := next((link["url"] for link in back["link"] if link["relation"] == "previous"), None)) is not None:
        back = (await client.get(prev)).json()
        backwards = [e["resource"]["id"] for e in back["entry"] if e["search"]["mode"] == "match"] + backwards
    assert backwards + [e["resource"]["id"] for e in pages[-1]["entry"] if e["search"]["mode"] == "match"] == seen
    assert (await client.get(first_page_url)).status_code == 200


async def test_sorted_paging_walks_every_result_once(client) -> None:
    for n in range(9):
        await put(client, patient(f"00108502{n:04d}", family=["Vũ", "An", "Bùi"][n % 3]) | {"id": f"s{n}", "birthDate": f"19{50 + n}-01-01"})
    page = (await client.get("Patient", params={"_count": "2", "_sort": "family,-birthdate"})).json()
    seen = [e["resource"]["id"] for e in page["entry"]]
    while (nxt := next((link["url"] for link in page["link"] if link["relation"] == "next"), None)) is not None:
        page = (await client.get(nxt)).json()
        seen += [e["resource"]["id"] for e in page["entry"]]
    assert seen == ["s7", "s4", "s1", "s8", "s5", "s2", "s6", "s3", "s0"]


async def test_cursor_tampering_is_400(client) -> None:
    assert (await client.get("Patient", params={"_cursor": "abc"})).status_code == 400


async def test_unknown_parameters_lenient_or_strict(people) -> None:
    lenient = (await people.get("Patient", params={"shoe-size": "42", "name": "duc"}, headers={"Prefer": "handling=lenient"})).json()
    assert [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
    strict = await people.get("Patient", params={"shoe-size": "42"}, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400 and "shoe-size" in issues(strict.json())[0]["diagnostics"]


@pytest.mark.parametrize(("name", "why"), [
    ("name:fuzzy", "Modifier ':fuzzy' is not supported"),
    ("_has:Foo:bar:baz", "'Foo', which this server does not store"),
    ("shoe-size", "not defined for Patient"),
])
async def test_unknown_parameters_are_refused_by_default(people, name: str, why: str) -> None:
    """Strict is the default: a filter the server cannot apply never widens the search to everyone."""
    r = await people.get("Patient", params={name: "x"})
    assert r.status_code == 400
    issue = issues(r.json())[0]
    assert issue["expression"] == [name] and why in issue["diagnostics"]
    ok = await people.get("Patient", params={"name": "duc", "_format": "json", "_pretty": "true", "_count": "5", "_total": "accurate"})
    assert ok.status_code == 200 and "duc" in [e["resource"]["id"] for e in ok.json()["entry"]]


async def test_a_batch_search_entry_with_an_unknown_parameter_fails_alone(people) -> None:
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Patient?name:fuzzy=x"}},
        {"request": {"method": "GET", "url": "Patient?name=duc"}},
    ]}
    r = await people.post("", json=bundle, headers={"Content-Type": "application/fhir+json"})
    bad, good = r.json()["entry"]
    assert bad["response"]["status"].startswith("400") and "name:fuzzy" in str(bad["response"]["outcome"])
    assert good["response"]["status"].startswith("200") and "duc" in [e["resource"]["id"] for e in good["resource"]["entry"]]


async def test_lenient_search_handling_as_a_server_setting(store) -> None:
    app = create_app(replace(SMALL_LIMITS, search_handling="lenient"), store)
    try:
        async with client_for(app, await token_for(app)) as c:
            r = await c.get("Patient", params={"shoe-size": "42"})
            assert r.status_code == 200 and r.json()["entry"][-1]["search"]["mode"] == "outcome"
            r = await c.get("Patient", params={"shoe-size": "42"}, headers={"Prefer": "handling=strict"})
            assert r.status_code == 400
    finally:
        await app.state.audit.stop()


async def test_search_across_types_and_post_search(people) -> None:
    r = (await people.get("", params={"_type": "Patient,Encounter", "_id": "duc,e1"})).json()
    assert {e["resource"]["id"] for e in r["entry"]} == {"duc", "e1"}
    r = await people.post("Patient/_search", content="name=tran", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert [e["resource"]["id"] for e in r.json()["entry"]] == ["anh"]


async def test_conditional_operations_accept_any_search(people) -> None:
    r = await people.put("Patient?family=tran&birthdate=1990-01-02", json=patient("001090000002", "Trần", "Thị Ánh Mới"), headers=JSON)
    assert r.status_code == 200 and r.json()["id"] == "anh"


async def test_everything(people) -> None:
    await put(people, {"resourceType": "Organization", "id": "bv", "name": "Bệnh viện"})
    await put(people, obs("w3", "Patient/duc", "29463-7", 63, performer=[{"reference": "Organization/bv"}]))
    r = await people.get("Patient/duc/$everything", params={"_count": "20"})  # one page: matches and includes share it
    assert r.status_code == 200
    entries = r.json()["entry"]
    match = {e["resource"]["id"] for e in entries if e["search"]["mode"] == "match"}
    assert match == {"duc", "w1", "hr", "w3", "e1"}
    assert {e["resource"]["id"] for e in entries if e["search"]["mode"] == "include"} == {"bv"}
    only = await people.get("Patient/duc/$everything", params={"_type": "Observation"})
    assert {e["resource"]["id"] for e in only.json()["entry"]} == {"w1", "hr", "w3"}
    paged = (await people.get("Patient/duc/$everything", params={"_count": "2"})).json()
    seen = [e["resource"]["id"] for e in paged["entry"] if e["search"]["mode"] == "match"]
    while (nxt := next((link["url"] for link in paged["link"] if link["relation"] == "next"), None)) is not None:
        paged = (await people.get(nxt)).json()
        seen += [e["resource"]["id"] for e in paged["entry"] if e["search"]["mode"] == "match"]
    assert sorted(seen) == sorted(match) and len(seen) == len(set(seen))
    assert (await people.get("Patient/nobody/$everything")).status_code == 404


async def test_meta_parameters_narrative_and_of_type(client) -> None:
    tagged = patient("001085000501") | {
        "id": "meta1",
        "meta": {"tag": [{"system": "urn:tags", "code": "referral"}], "profile": ["https://lienthong.dev/fhir/StructureDefinition/vn-patient"], "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]},
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Bệnh nhân <b>chuyển tuyến</b> từ Huế</div>'},
    }
    tagged["identifier"].append({"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}, "system": "urn:bv", "value": "BN-7"})
    await put(client, tagged)
    await put(client, patient("001085000502") | {"id": "plain"})
    assert await ids(client, "Patient", _tag="urn:tags|referral") == ["meta1"]
    assert await ids(client, "Patient", _profile="https://lienthong.dev/fhir/StructureDefinition/vn-patient") == ["meta1"]
    assert await ids(client, "Patient", _security="R") == ["meta1"]
    assert await ids(client, "Patient", _text="chuyen tuyen") == ["meta1"]
    assert await ids(client, "Patient", **{"identifier:of-type": "http://terminology.hl7.org/CodeSystem/v2-0203|MR|BN-7"}) == ["meta1"]
    assert await ids(client, "Patient", **{"_tag:missing": "true"}) == ["plain"]


def test_search_handling_setting_from_env_and_command_line(monkeypatch) -> None:
    from server.cli import build_parser
    from server.config import Settings

    assert Settings().search_handling == "strict"
    monkeypatch.setenv("LIENTHONG_SEARCH_HANDLING", "lenient")
    assert Settings.from_env().search_handling == "lenient"
    monkeypatch.setenv("LIENTHONG_SEARCH_HANDLING", "loose")
    with pytest.raises(ValueError, match="strict or lenient"):
        Settings.from_env()
    assert build_parser().parse_args(["serve", "--search-handling", "lenient"]).search_handling == "lenient"
    assert build_parser().parse_args(["serve"]).search_handling is None
