"""The ``lienthong`` command refuses stores it cannot use, with a message that says why."""

from __future__ import annotations

import pytest

from server import cli
from server.storage.mongo.store import MongoStore

from .support.mongo_emulator import EmulatorClient


def test_serve_refuses_unknown_store_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--store", "postgres://x/y"]) == 2
    err = capsys.readouterr().err
    assert "postgres://x/y" in err and "sqlite:///" in err


def test_serve_refuses_mongodb_that_is_not_a_replica_set(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "make_store", lambda url: MongoStore(client=EmulatorClient(replica_set=False)))
    assert cli.main(["serve", "--store", "mongodb://standalone:27017"]) == 2
    err = capsys.readouterr().err
    assert "replica set" in err and "rs.initiate()" in err


def test_store_url_from_environment(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LIENTHONG_STORE", "nosuch://store")
    assert cli.main(["serve"]) == 2
    assert "nosuch://store" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.org"])
def test_auth_off_is_refused_off_loopback(host: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    started = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(k))
    assert cli.main(["serve", "--auth", "off", "--host", host, "--store", "sqlite:///unused.db"]) == 2
    assert "loopback" in capsys.readouterr().err and not started


def test_auth_off_on_loopback_says_so(tmp_path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import os

    started = []
    # the workers build their app from the environment the CLI sets for them
    monkeypatch.setattr("uvicorn.run", lambda app, **k: started.append((app, k, os.environ.get("LIENTHONG_AUTH"))))
    monkeypatch.setenv("LIENTHONG_AUTH", "off")
    assert cli.main(["serve", "--host", "127.0.0.1", "--store", f"sqlite:///{tmp_path / 'x.db'}", "--workers", "2"]) == 0
    (app, options, auth), = started
    assert app == "server.app:app_from_env" and options["factory"] and options["workers"] == 2 and auth == "off"
    assert options["timeout_keep_alive"] >= 60  # pooled clients must not find their connection closed under them
    assert "authorization is OFF" in capsys.readouterr().err
