"""Property-based run driven by ``/fhir/openapi.json``: schemathesis generates requests for every
operation the description lists (valid ones and ones that break it), sent to the ASGI app
in-process with a full-scope token; no answer may be a 5xx.

One test, so that the request count (≥ 2,000) is checked in one place, whichever xdist worker
runs it. Every 5xx is collected and listed with a curl line, not only the first.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from server.app import create_app  # noqa: E402
from server.auth.tokens import Principal, issue  # noqa: E402
from server.storage.sqlite.store import SqliteStore  # noqa: E402
from .conftest import FULL_SCOPE, SMALL_LIMITS  # noqa: E402

pytestmark = pytest.mark.slow

#: examples per operation and generation mode: about 400 operations x 2 modes x 3, less what hypothesis sees twice, ≥ 2,000 requests
EXAMPLES = 3
MIN_REQUESTS = 2000


def _token(db: Path) -> str:
    """A full-scope token of the server key kept in ``db`` (the app opens its own store on it later)."""

    async def make() -> str:
        store = SqliteStore(str(db))
        await store.open()
        try:
            token, _ = await issue(store, SMALL_LIMITS, Principal(scope=FULL_SCOPE, client_id="schemathesis"))
            return token
        finally:
            await store.close()

    return asyncio.run(make())


def test_no_server_error_on_generated_requests(tmp_path: Path) -> None:
    db = tmp_path / "store" / "lienthong.db"
    db.parent.mkdir()
    headers = {"Authorization": f"Bearer {_token(db)}"}
    app = create_app(SMALL_LIMITS, SqliteStore(str(db)))
    schema = schemathesis.openapi.from_asgi("/fhir/openapi.json", app)
    sent = 0
    errors: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case) -> None:  # type: ignore[no-untyped-def]
                nonlocal sent
                sent += 1
                try:
                    status = case.call(headers=headers).status_code
                except Exception as err:  # an unhandled exception: the client would get a 500
                    status = f"500 ({type(err).__name__}: {err})"
                if str(status) >= "500":
                    errors.append(f"{status} {case.as_curl_command(headers=headers)}")

            try:
                run()
            except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert sent >= MIN_REQUESTS, sent
    assert errors == [], "\n".join(errors)
