"""The workspace shows what the signed-in token may see, nothing more, and every view is audited.

A page reads through the same guarded repository as ``/fhir``, so a patient-context token finds
and opens only its own patient, and a token without a type's scope sees none of it. Each page
that shows data leaves an AuditEvent naming the person, the page and the patients shown.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from tests.rest.conftest import client_for, token_for

from .conftest import CCCD, browser, session_for

pytestmark = pytest.mark.anyio

OTHER_CCCD = "056957000000"  # examples/core/patient-bundle-1.json: Nguyễn Thu Phương
AUDITOR = "user/AuditEvent.rs"


async def _patient_id(app: FastAPI, cccd: str) -> str:
    async with client_for(app, await token_for(app)) as fhir:
        found = (await fhir.get("Patient", params={"identifier": cccd})).json()
    return found["entry"][0]["resource"]["id"]


async def _audit_events(app: FastAPI, **params: str) -> list[dict]:
    await app.state.audit.flush()
    async with client_for(app, await token_for(app, AUDITOR, client_id="auditor")) as c:
        r = await c.get("AuditEvent", params={**params, "_count": "100"})
        assert r.status_code == 200, r.text
    return [e["resource"] for e in r.json().get("entry", []) if e["search"]["mode"] == "match"]


async def test_a_patient_context_session_reaches_its_own_record_only(examples: FastAPI) -> None:
    mine, theirs = await _patient_id(examples, CCCD), await _patient_id(examples, OTHER_CCCD)
    async with browser(examples) as client:
        await session_for(examples, client, "patient/*.rs", patient=mine, user="bn.an")
        own = await client.get("/app/", params={"q": CCCD})
        assert f"/app/patient/{mine}" in own.text
        other = await client.get("/app/", params={"q": OTHER_CCCD})
        assert other.status_code == 200 and "/app/patient/" not in other.text
        by_name = await client.get("/app/", params={"q": "nguyen thu phuong"})
        assert "/app/patient/" not in by_name.text
        page = await client.get(f"/app/patient/{theirs}")
        assert page.status_code == 404 and "Nguyễn Thu Phương" not in page.text and OTHER_CCCD not in page.text
        own_page = await client.get(f"/app/patient/{mine}")
        assert own_page.status_code == 200 and OTHER_CCCD not in own_page.text


async def test_a_token_without_patient_scope_finds_nobody(examples: FastAPI) -> None:
    async with browser(examples) as client:
        await session_for(examples, client, "user/Observation.rs", user="lab")
        r = await client.get("/app/", params={"q": CCCD})
        assert r.status_code == 403 and "/app/patient/" not in r.text
        assert "text/html" in r.headers["content-type"]  # a page, not an OperationOutcome


async def test_every_view_is_audited_with_the_person_and_the_patient(doctor: httpx.AsyncClient) -> None:
    app = doctor._transport.app  # type: ignore[attr-defined]
    pid = await _patient_id(app, CCCD)
    assert (await doctor.get(f"/app/patient/{pid}")).status_code == 200
    assert (await doctor.get("/app/", params={"q": CCCD})).status_code == 200
    views = [e for e in await _audit_events(app, patient=f"Patient/{pid}") if "/app/" in e["outcomeDesc"]]
    described = sorted(e["outcomeDesc"] for e in views)
    assert described == [f"HTTP 200; GET /app/?q={CCCD}", f"HTTP 200; GET /app/patient/{pid}"], described  # what was searched for, too
    for event in views:
        person = next(a for a in event["agent"] if a["requestor"])
        assert person["who"]["identifier"]["value"] == "bs.lan" and person["role"][0]["text"] == "doctor"
        assert any(a["who"]["identifier"]["value"] == "lienthong-workspace" for a in event["agent"])


async def test_pages_send_strict_headers(doctor: httpx.AsyncClient) -> None:
    r = await doctor.get("/app/")
    csp = r.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    css = await doctor.get(re.search(r'href="(/app/static/app\.css\?v=[0-9a-f]+)"', r.text).group(1))
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_another_patients_episode_paper_and_downloads_stay_hidden(examples: FastAPI) -> None:
    """Every page and download of an episode answers 404 to a token of another patient, and shows
    nothing of it; the patient's own episode opens."""
    from .helpers import encounters, patient_of, transfer_episodes

    mine = await _patient_id(examples, CCCD)
    letters = await transfer_episodes(examples)
    all_encounters = await encounters(examples)
    own_transfer = next(e["id"] for e in all_encounters if e["id"] in letters and patient_of(e) == mine)
    theirs = next(e for e in all_encounters if e["id"] in letters and patient_of(e) != mine)
    other_pid, other_eid = patient_of(theirs), theirs["id"]
    async with client_for(examples, await token_for(examples)) as fhir:
        other = (await fhir.get(f"Patient/{other_pid}")).json()
    secrets = [other["name"][0]["text"], *(i["value"] for i in other["identifier"])]
    async with browser(examples) as client:
        await session_for(examples, client, "patient/*.rs", patient=mine, user="bn.an")
        for path in (f"/app/patient/{other_pid}/episode/{other_eid}", f"/app/patient/{other_pid}/episode/{other_eid}/bhyt.xml",
                     f"/app/patient/{other_pid}/transfer/{other_eid}", f"/app/patient/{other_pid}/transfer/{other_eid}?print=1",
                     f"/app/patient/{other_pid}/transfer/{other_eid}/record.json", f"/app/patient/{other_pid}/transfer/{other_eid}/record.xml",
                     f"/app/patient/{other_pid}/transfer/{other_eid}/bundle.json",
                     # the other patient's episode under one's own patient id: still not there
                     f"/app/patient/{mine}/episode/{other_eid}", f"/app/patient/{mine}/transfer/{other_eid}/record.json"):
            r = await client.get(path)
            assert r.status_code == 404, (path, r.status_code)
            assert not [x for x in secrets if x in r.text] and "HO_TEN" not in r.text, path
        assert (await client.get(f"/app/patient/{mine}/episode/{own_transfer}")).status_code == 200
        # its own paper is 422, not 404: $transfer54 needs the facility, outside a patient's compartment
        paper = await client.get(f"/app/patient/{mine}/transfer/{own_transfer}")
        assert paper.status_code == 422 and "Organization/" in paper.text


async def test_an_import_goes_through_the_guard(examples: FastAPI) -> None:
    """A patient's own write token may not import another person's transfer record: the import is
    refused entry by entry by the same guard as the FHIR API, and nothing is stored."""
    from .conftest import EXAMPLES, form_fields

    mine = await _patient_id(examples, CCCD)
    record = (EXAMPLES / "transfer54" / "record-2.json").read_text(encoding="utf-8")
    async with client_for(examples, await token_for(examples)) as fhir:
        before = (await fhir.get("Patient", params={"_summary": "count"})).json()["total"]
    async with browser(examples) as client:
        await session_for(examples, client, "patient/*.cruds", patient=mine, user="bn.an")
        csrf = form_fields((await client.get("/app/tools")).text)["csrf"]
        checked = await client.post("/app/tools/check", data={"csrf": csrf, "text": record})
        assert checked.status_code == 200
        form = re.search(r'<form method="post" action="/app/tools/import"[^>]*>(.*?)</form>', checked.text, re.S)
        assert form is not None  # the token may create these types, within its patient
        r = await client.post("/app/tools/import", data=form_fields(form.group(1)))
        assert r.status_code == 403 and "outside patient" in r.text  # the guard's own words, for the whole transaction
    async with client_for(examples, await token_for(examples)) as fhir:
        assert (await fhir.get("Patient", params={"_summary": "count"})).json()["total"] == before
