"""Choose a store from the ``--store`` URL, without connecting to anything yet."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator
from urllib.parse import unquote

from .base import Store

ACCEPTED = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "mongodb://[user:pass@]host[:port][,host...][/database][?options], mongodb+srv://..."
)


def make_store(url: str) -> Store:
    """``sqlite:///path`` → :class:`SqliteStore`; ``mongodb://`` / ``mongodb+srv://`` → :class:`MongoStore`.

    A MongoDB URL that names a database (``mongodb://host/mydb``) uses it; otherwise
    the database is ``lienthong``. Anything else raises ``ValueError``.
    """
    if url.startswith("sqlite:///"):
        return _sqlite(url)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        return _mongo(url)
    raise ValueError(f"unsupported store URL {url!r}; accepted forms: {ACCEPTED}")


def _sqlite(url: str) -> Store:
    from .sqlite.store import SqliteStore

    path = url[len("sqlite:///") :]
    if not path or path.endswith("/") or path == ":memory:":
        raise ValueError(f"store URL {url!r} names no database file; accepted forms: {ACCEPTED}")
    return SqliteStore(path)


def _mongo(url: str) -> Store:
    from .mongo.store import MongoStore

    hosts_and_path = url.split("://", 1)[1]
    if not hosts_and_path.split("/", 1)[0].split("?", 1)[0]:
        raise ValueError(f"store URL {url!r} names no host; accepted forms: {ACCEPTED}")
    database = _database(hosts_and_path)
    return MongoStore(url, database=database) if database else MongoStore(url)


def _database(hosts_and_path: str) -> str | None:
    """The database named in the URL path (``host/db?opts`` → ``db``), if any."""
    if "/" not in hosts_and_path:
        return None
    return unquote(hosts_and_path.split("/", 1)[1].split("?", 1)[0]) or None


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[Store]:
    """The store at ``url``, open for the block and closed after it (command-line tools, tests)."""
    store = make_store(url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
