"""Methods a path does not serve: 405 with an ``Allow`` naming exactly the ones it does."""

from __future__ import annotations

import pytest

from .helpers import JSON, issues

pytestmark = pytest.mark.anyio

CASES = [
    ("POST", "Patient/1", "GET, HEAD, PUT, PATCH, DELETE"),
    ("PUT", "metadata", "GET, HEAD"),
    ("DELETE", "metadata", "GET, HEAD"),
    ("PATCH", "metadata", "GET, HEAD"),
    ("DELETE", "Patient/1/_history", "GET, HEAD"),
    ("POST", "Patient/1/_history/1", "GET, HEAD"),
    ("DELETE", "_history", "GET, HEAD"),
    ("PUT", "$import-bhyt", "POST"),
    ("PUT", "Patient/1/$validate", "POST"),
    ("DELETE", "Patient/1/$everything", "GET, HEAD"),
    ("POST", "StructureDefinition/vn-core-patient", "GET, HEAD"),
    ("DELETE", "ValueSet", "GET, HEAD"),
    ("DELETE", ".well-known/smart-configuration", "GET, HEAD"),
]


@pytest.mark.parametrize("method,path,allow", CASES)
async def test_405_lists_every_method_of_the_path(client, method: str, path: str, allow: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.request(method, path, content=b"{}" if method != "DELETE" else None, headers=JSON)
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == allow
    assert issues(r.json())[0]["code"] == "not-supported"


async def test_put_metadata_needs_no_token_to_be_refused(app) -> None:  # type: ignore[no-untyped-def]
    from .conftest import client_for

    async with client_for(app, None) as anonymous:
        r = await anonymous.put("metadata", content=b"{}", headers=JSON)
        assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
        assert (await anonymous.head("metadata")).status_code == 200


async def test_smart_configuration_is_served(app) -> None:  # type: ignore[no-untyped-def]
    from .conftest import client_for

    async with client_for(app, None) as anonymous:
        r = await anonymous.get(".well-known/smart-configuration")
        assert r.status_code == 200 and "token_endpoint" in r.json()


async def test_outside_fhir_head_is_not_claimed(app) -> None:  # type: ignore[no-untyped-def]
    from .conftest import client_for

    async with client_for(app, None) as anonymous:
        r = await anonymous.post("http://testserver/auth/jwks", content=b"{}", headers=JSON)
        assert r.status_code == 405 and r.headers["allow"] == "GET"
