"""``lienthong serve --workers 2`` on one SQLite file keeps every integrity promise of one worker.

Two real worker processes share the port, so concurrent requests land on both and meet at
SQLite's write lock: version checks (``If-Match``) and conditional creates must still let
exactly one writer win, whether the write is a plain request or inside a transaction Bundle.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.live_server import live_server
from tests.support.worker_connections import connections_per_process

FHIR_JSON = {"Content-Type": "application/fhir+json"}
CONCURRENT = 48


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server with two workers for the module (starting one takes a few seconds)."""
    path: Path = tmp_path_factory.mktemp("workers") / "lienthong.db"
    with live_server(f"sqlite:///{path}", "--workers", "2", "--auth", "off") as url:
        yield f"{url}/fhir"


def _patient(ident: str, note: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": "urn:test:workers", "value": ident}], "name": [{"text": note}]}


async def _all_at_once(root: str, send: Any) -> list[httpx.Response]:
    """``send(client, n)`` for n in 0..47, all in flight together, half of them through
    connections held by each worker."""
    clients = await _clients_on_both_workers(root)
    try:
        return list(await asyncio.gather(*(send(client, n) for n, client in enumerate(clients))))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def _clients_on_both_workers(root: str) -> list[httpx.AsyncClient]:
    """48 one-connection clients, 24 on each worker: the kernel hands a new connection to
    whichever worker is awake first, so connections are opened one by one and a client whose
    connection landed on a worker that has its share already is closed. Where ``/proc``
    cannot tell, 48 clients as they come."""
    port = urlsplit(root).port or 80
    share = CONCURRENT // 2
    kept: dict[int, list[httpx.AsyncClient]] = {}
    for _ in range(20 * CONCURRENT):
        before = connections_per_process(port)
        client = httpx.AsyncClient(base_url=root, limits=httpx.Limits(max_connections=1), timeout=30)
        assert (await client.get("/metadata")).status_code == 200  # opens its connection
        after = connections_per_process(port)
        if before is None or after is None:
            kept.setdefault(0, []).append(client)
            if len(kept[0]) == CONCURRENT:
                return kept[0]
            continue
        worker = next((pid for pid, n in after.items() if n > before.get(pid, 0)), None)
        if worker is None or len(kept.get(worker, [])) >= share:
            await client.aclose()
            continue
        kept.setdefault(worker, []).append(client)
        if len(kept) == 2 and all(len(c) == share for c in kept.values()):
            return [c for pair in zip(*kept.values()) for c in pair]
    raise AssertionError(f"could not reach both workers: connections kept per worker {[len(c) for c in kept.values()]}")


def _matches(root: str, ident: str) -> list[dict[str, Any]]:
    bundle = httpx.get(f"{root}/Patient", params={"identifier": f"urn:test:workers|{ident}"}, timeout=10).json()
    return [e["resource"] for e in bundle.get("entry", [])]


def test_concurrent_if_match_updates_exactly_one_wins(root: str) -> None:
    created = httpx.put(f"{root}/Patient/race", json={**_patient("race", "v1"), "id": "race"}, headers=FHIR_JSON, timeout=10)
    assert created.status_code == 201

    async def update(client: httpx.AsyncClient, n: int) -> httpx.Response:
        body = {**_patient("race", f"writer {n}"), "id": "race"}
        return await client.put("/Patient/race", json=body, headers={**FHIR_JSON, "If-Match": 'W/"1"'})

    statuses = Counter(r.status_code for r in asyncio.run(_all_at_once(root, update)))
    assert statuses == {200: 1, 412: CONCURRENT - 1}
    current = httpx.get(f"{root}/Patient/race", timeout=10)
    assert current.json()["meta"]["versionId"] == "2"


def test_concurrent_conditional_creates_make_one_resource(root: str) -> None:
    async def create(client: httpx.AsyncClient, n: int) -> httpx.Response:
        headers = {**FHIR_JSON, "If-None-Exist": "identifier=urn:test:workers|plain"}
        return await client.post("/Patient", json=_patient("plain", f"creator {n}"), headers=headers)

    responses = asyncio.run(_all_at_once(root, create))
    statuses = Counter(r.status_code for r in responses)
    odd = [(r.status_code, r.text[:300]) for r in responses if r.status_code not in (200, 201)]
    assert statuses == {201: 1, 200: CONCURRENT - 1}, odd
    assert len(_matches(root, "plain")) == 1


def test_concurrent_conditional_creates_in_transactions_make_one_resource(root: str) -> None:
    async def transaction(client: httpx.AsyncClient, n: int) -> httpx.Response:
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [{
            "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            "resource": _patient("in-bundle", f"creator {n}"),
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:test:workers|in-bundle"},
        }]}
        return await client.post("/", json=bundle, headers=FHIR_JSON)

    responses = asyncio.run(_all_at_once(root, transaction))
    assert {r.status_code for r in responses} == {200}
    entries = Counter(r.json()["entry"][0]["response"]["status"].split()[0] for r in responses)
    assert entries == {"201": 1, "200": CONCURRENT - 1}
    assert len(_matches(root, "in-bundle")) == 1


def test_one_client_waits_for_no_delayed_ack(root: str) -> None:
    """Requests one after another on one connection: a response written in two pieces must
    not wait for the client's delayed ACK (Nagle), which costs ~40 ms each time."""
    small = {**_patient("small", "n"), "id": "small"}  # a small response: the case Nagle holds back
    assert httpx.put(f"{root}/Patient/small", json=small, headers=FHIR_JSON, timeout=10).status_code in (200, 201)
    url = urlsplit(root)
    with socket.create_connection((url.hostname, url.port)) as conn:
        took = [_timed_get(conn, f"{url.path}/Patient/small") for _ in range(40)]
    took.sort()
    assert took[len(took) // 2] < 0.010, f"median {took[len(took) // 2] * 1000:.1f} ms"


def _timed_get(conn: socket.socket, path: str) -> float:
    """Seconds from sending a GET to having read its whole response (Content-Length framed)."""
    started = time.perf_counter()
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nAccept: application/fhir+json\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += conn.recv(65536)
    return time.perf_counter() - started


def test_serve_hands_its_settings_to_the_workers_and_restores_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers are spawned processes: they rebuild the settings from the environment the
    command sets for them (checked here the way a worker reads it), and the caller's
    environment is left as it was."""
    from server import cli
    from server.config import Settings

    seen: list[tuple[str, dict[str, Any], Settings]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: seen.append((app, kw, Settings.from_env())))
    monkeypatch.delenv("LIENTHONG_AUTH", raising=False)
    monkeypatch.setenv("LIENTHONG_CORS_ORIGINS", "https://before.example")
    store = f"sqlite:///{tmp_path / 'x.db'}"
    argv = ["serve", "--store", store, "--auth", "off", "--require-profiles", "--cors-origin", "https://a.example", "--workers", "3"]
    assert cli.main(argv) == 0
    app, options, settings = seen[0]
    assert app == "server.app:app_from_env" and options["factory"] is True and options["workers"] == 3
    assert options["loop"] == "uvloop" and options["http"].__name__ == "NoDelayHttpToolsProtocol"
    assert (settings.store_url, settings.auth, settings.require_profiles, settings.cors_origins) == (store, False, True, ("https://a.example",))
    assert "LIENTHONG_AUTH" not in os.environ and os.environ["LIENTHONG_CORS_ORIGINS"] == "https://before.example"
    assert cli.main(["serve", "--store", store, "--auth", "off"]) == 0
    assert seen[1][1]["workers"] == (os.cpu_count() or 1)
    assert cli.main(["serve", "--store", store, "--workers", "0"]) == 2
