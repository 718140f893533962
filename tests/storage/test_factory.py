"""``make_store`` turns the ``--store`` URL into a store without connecting."""

from __future__ import annotations

import pytest

from server.storage.factory import make_store
from server.storage.mongo.store import MongoStore
from server.storage.sqlite.store import SqliteStore


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///./data/lienthong.db", "./data/lienthong.db"),
        ("sqlite:///lienthong.db", "lienthong.db"),
        ("sqlite:////var/lib/lienthong/db.sqlite", "/var/lib/lienthong/db.sqlite"),
    ],
)
def test_sqlite_urls(url: str, path: str) -> None:
    store = make_store(url)
    assert isinstance(store, SqliteStore) and store.path == path and store.kind == "sqlite"


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("mongodb://localhost:27017", "lienthong"),
        ("mongodb://localhost:27017/", "lienthong"),
        ("mongodb://u:p%40ss@h1:27017,h2:27017/fhir?replicaSet=rs0", "fhir"),
        ("mongodb://localhost/?replicaSet=rs0", "lienthong"),
        ("mongodb+srv://cluster0.example.net/lt%20db?retryWrites=true", "lt db"),
    ],
)
def test_mongodb_urls(url: str, database: str) -> None:
    store = make_store(url)
    assert isinstance(store, MongoStore) and store.url == url and store.database == database
    assert store.kind == "mongodb"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "postgresql://localhost/db",
        "sqlite://relative.db",
        "sqlite:///",
        "sqlite:///data/",
        "sqlite:///:memory:",
        "mongodb://",
        "mongodb:///db",
        "/tmp/lienthong.db",
    ],
)
def test_bad_urls_are_rejected_with_the_accepted_forms(url: str) -> None:
    with pytest.raises(ValueError) as info:
        make_store(url)
    assert "sqlite:///" in str(info.value) and "mongodb://" in str(info.value)
