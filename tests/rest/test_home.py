"""The landing page ``/`` and the bare base URL ``/fhir``: public, no patient data, not audited."""

from __future__ import annotations

import pytest

from .conftest import client_for

pytestmark = pytest.mark.anyio

ROOT = "http://testserver/"


async def test_landing_page_for_a_person_and_for_a_program(app) -> None:  # type: ignore[no-untyped-def]
    async with client_for(app, None) as anonymous:
        html = await anonymous.get(ROOT, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        for where in ('href="/fhir"', 'href="/fhir/metadata"', 'href="/fhir/.well-known/smart-configuration"', 'href="/app/"', "README.md", 'href="/fhir/docs"', 'href="/fhir/openapi.json"'):
            assert where in html.text, where
        info = (await anonymous.get(ROOT, headers={"Accept": "application/json"})).json()
        assert info["fhirBase"] == "/fhir" and info["capabilityStatement"] == "/fhir/metadata"
        assert info["workspace"] == "/app/"


async def test_the_bare_base_url_points_there_without_a_token(app) -> None:  # type: ignore[no-untyped-def]
    async with client_for(app, None) as anonymous:
        r = await anonymous.get("http://testserver/fhir", headers={"Accept": "application/fhir+json"})
        assert r.status_code == 303 and r.headers["location"] == "/fhir/metadata"
        r = await anonymous.get("http://testserver/fhir", headers={"Accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"] == "/"
        # anything more than the bare URL is a search across types, which needs a token
        assert (await anonymous.get("http://testserver/fhir", params={"_type": "Patient"})).status_code == 401


async def test_they_are_not_audited(app) -> None:  # type: ignore[no-untyped-def]
    from .test_audit import _events

    async with client_for(app, None) as anonymous:
        await anonymous.get(ROOT)
        await anonymous.get("http://testserver/fhir")
        await anonymous.get("http://testserver/fhir/Patient")  # refused: audited, so the trail is on
    assert len(await _events(app)) == 1
