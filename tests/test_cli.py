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
