"""The embedded store: one SQLite file in WAL mode.

Calls are made synchronously on the event-loop thread. That is deliberate: every
statement here is an indexed lookup or a short indexed write that takes well under a
millisecond, far less than handing it to a worker thread would cost, and it means no
two calls can ever interleave inside one statement.

Two connections: ``_w`` is used only inside :meth:`SqliteStore.atomic`, where an
``asyncio.Lock`` serialises the atomic units (``BEGIN IMMEDIATE`` ... ``COMMIT``, or
``ROLLBACK`` on any exception); ``_r`` serves every read made outside a unit, so such
reads only ever see committed data (WAL gives readers the last committed snapshot).

Schema: ``resources`` holds the current version of each resource (so current reads
never touch history), ``history`` every version with ``next_ts`` (the ``ts`` of the
version that superseded it) so "current at" questions are range queries, and one
``idx_*`` table per kind of index value, keyed by the resource's integer ``pk``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Iterator, TypeVar

from ..base import HistoryQuery, Page, Query, Store, Tx, Version, VersionConflict, Write
from ..index import (
    ANY,
    All,
    AnyOf,
    DateValue,
    IdIn,
    IndexValue,
    LastUpdated,
    Not,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    StringValue,
    Term,
    TokenMatch,
    TokenValue,
    UnsupportedTerm,
    UriValue,
)

T = TypeVar("T")

#: index value class -> (table, its value columns == the dataclass attributes stored)
_INDEX_TABLES: dict[type, tuple[str, tuple[str, ...]]] = {
    TokenValue: ("idx_token", ("system", "code", "text")),
    StringValue: ("idx_string", ("norm", "exact")),
    DateValue: ("idx_date", ("low", "high")),
    ReferenceValue: ("idx_reference", ("target",)),
    NumberValue: ("idx_number", ("value",)),
    QuantityValue: ("idx_quantity", ("value", "system", "code")),
    UriValue: ("idx_uri", ("uri",)),
}

_COLUMN_TYPES = {"low": "INTEGER", "high": "INTEGER", "value": "REAL"}

# Index columns start with ``param`` (not ``type``): a typed lookup still seeks on every
# column it constrains, and a search across all types can use the same index.
# Each ends with ``pk`` so the sub-selects are answered from the index alone.
_INDEX_INDEXES: dict[str, dict[str, tuple[str, ...]]] = {
    "idx_token": {"code": ("param", "code", "type", "system", "pk"), "system": ("param", "system", "type", "pk")},
    "idx_string": {"norm": ("param", "norm", "type", "pk")},
    "idx_date": {"low": ("param", "low", "high", "type", "pk"), "high": ("param", "high", "type", "pk")},
    "idx_reference": {"target": ("param", "target", "type", "pk")},
    "idx_number": {"value": ("param", "value", "type", "pk")},
    "idx_quantity": {"value": ("param", "code", "value", "type", "pk")},
    "idx_uri": {"uri": ("param", "uri", "type", "pk")},
}

_CORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    pk INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    vid INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    method TEXT NOT NULL,
    body BLOB,
    UNIQUE (type, id)
);
CREATE INDEX IF NOT EXISTS resources_ts ON resources (ts, type, id);
CREATE INDEX IF NOT EXISTS resources_type_ts ON resources (type, ts, id);
CREATE INDEX IF NOT EXISTS resources_id ON resources (id);
CREATE TABLE IF NOT EXISTS history (
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    vid INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    next_ts INTEGER,
    method TEXT NOT NULL,
    body BLOB,
    PRIMARY KEY (type, id, vid)
);
CREATE INDEX IF NOT EXISTS history_ts ON history (ts);
CREATE INDEX IF NOT EXISTS history_type_ts ON history (type, ts);
"""


def _schema() -> str:
    """The whole DDL: core tables plus one table (and its indexes) per index value kind."""
    parts = [_CORE_SCHEMA]
    for table, columns in _INDEX_TABLES.values():
        cols = ", ".join(f"{c} {_COLUMN_TYPES.get(c, 'TEXT')}" for c in columns)
        parts.append(
            f"CREATE TABLE IF NOT EXISTS {table} (pk INTEGER NOT NULL, type TEXT NOT NULL, "
            f"param TEXT NOT NULL, {cols});\n"
            f"CREATE INDEX IF NOT EXISTS {table}_pk ON {table} (pk);"
        )
        for name, key in _INDEX_INDEXES[table].items():
            parts.append(f"CREATE INDEX IF NOT EXISTS {table}_{name} ON {table} ({', '.join(key)});")
    return "\n".join(parts)


# Planner statistics of a large database (a million resources), written into a new file.
# Without statistics SQLite assumes ``type = ?`` is selective, and would walk every
# resource of the type in ts order instead of starting from the few rows an identifier
# lookup finds in a token index. Seeding sqlite_stat1 is SQLite's documented way to steer
# the planner; a later ANALYZE replaces these figures with measured ones.
_RESOURCES, _VERSIONS, _INDEX_ROWS = 1_000_000, 5_000_000, 10_000_000
_CORE_STATS = {
    ("resources", "sqlite_autoindex_resources_1"): f"{_RESOURCES} 50000 1",
    ("resources", "resources_ts"): f"{_RESOURCES} 2 1 1",
    ("resources", "resources_type_ts"): f"{_RESOURCES} 50000 2 1",
    ("resources", "resources_id"): f"{_RESOURCES} 2",
    ("history", "sqlite_autoindex_history_1"): f"{_VERSIONS} 250000 5 1",
    ("history", "history_ts"): f"{_VERSIONS} 2",
    ("history", "history_type_ts"): f"{_VERSIONS} 250000 2",
}


def _index_stat(columns: tuple[str, ...]) -> str:
    """Rows per key prefix: ~20 params, ~50 000 values each, type/system halve, pk is unique."""
    rows, out = _INDEX_ROWS, [_INDEX_ROWS]
    for column in columns:
        if column == "pk":
            rows = 1
        elif column == "param":
            rows //= 20
        elif column in ("type", "system"):
            rows = max(1, rows // 2)
        else:
            rows = max(1, rows // 50_000)
        out.append(rows)
    return " ".join(map(str, out))


def _planner_stats() -> dict[tuple[str, str], str]:
    stats = dict(_CORE_STATS)
    for table, _ in _INDEX_TABLES.values():
        stats[(table, f"{table}_pk")] = f"{_INDEX_ROWS} 10"
        for name, key in _INDEX_INDEXES[table].items():
            stats[(table, f"{table}_{name}")] = _index_stat(key)
    return stats


def _seed_planner_stats(conn: sqlite3.Connection) -> None:
    """Seed sqlite_stat1 in a new, empty file (never over measured statistics)."""
    if conn.execute("SELECT 1 FROM resources LIMIT 1").fetchone() is not None:
        return
    conn.execute("ANALYZE")  # creates sqlite_stat1; instant on empty tables
    if conn.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'resources'").fetchone() is not None:
        return
    conn.executemany(
        "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
        [(table, index, stat) for (table, index), stat in _planner_stats().items()],
    )
    conn.execute("ANALYZE sqlite_schema")  # reload statistics into this connection


_VERSION_COLS = "type, id, vid, ts, method, body"


def _version(row: tuple[Any, ...]) -> Version:
    type_, id_, vid, ts, method, body = row
    return Version(type_, id_, vid, ts, method, None if body is None else bytes(body))


# ------------------------------------------------------------------------ query terms


class _Sql:
    """Compiles a :class:`Term` to a WHERE fragment over ``resources r`` plus its parameters."""

    def __init__(self, type_: str | None) -> None:
        self.type = type_
        self.params: list[Any] = []

    def compile(self, term: Term) -> str:
        handler = self._HANDLERS.get(type(term))
        if handler is None:
            raise UnsupportedTerm(f"SQLite store cannot answer {type(term).__name__}")
        return handler(self, term)

    def _id_in(self, term: IdIn) -> str:
        if not term.ids:
            return "0"
        self.params.extend(term.ids)
        return f"r.id IN ({', '.join('?' * len(term.ids))})"

    def _token(self, term: TokenMatch) -> str:
        where = ["param = ?"]
        self.params.append(term.param)
        if term.code is not None:
            where.append("code = ?")
            self.params.append(term.code)
        if self.type is not None:
            where.append("type = ?")
            self.params.append(self.type)
        if term.system is None:
            where.append("system IS NULL")
        elif term.system is not ANY:
            where.append("system = ?")
            self.params.append(term.system)
        return f"r.pk IN (SELECT pk FROM idx_token WHERE {' AND '.join(where)})"

    def _last_updated(self, term: LastUpdated) -> str:
        op = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}[term.op]
        self.params.append(term.value)
        return f"r.ts {op} ?"

    def _all(self, term: All) -> str:
        if not term.terms:
            return "1"
        return "(" + " AND ".join(self.compile(t) for t in term.terms) + ")"

    def _any_of(self, term: AnyOf) -> str:
        if not term.terms:
            return "0"
        return "(" + " OR ".join(self.compile(t) for t in term.terms) + ")"

    def _not(self, term: Not) -> str:
        return f"NOT ({self.compile(term.term)})"

    _HANDLERS: dict[type, Callable[["_Sql", Any], str]] = {
        IdIn: _id_in,
        TokenMatch: _token,
        LastUpdated: _last_updated,
        All: _all,
        AnyOf: _any_of,
        Not: _not,
    }


def _search_sql(query: Query) -> tuple[str, list[Any]]:
    """WHERE clause (over ``resources r``) and parameters for a search."""
    sql = _Sql(query.type)
    where = ["r.body IS NOT NULL"]
    if query.type is not None:
        where.append("r.type = ?")
        sql.params.append(query.type)
    if query.where is not None:
        where.append(sql.compile(query.where))
    return " AND ".join(where), sql.params


def _search(conn: sqlite3.Connection, query: Query) -> Page:
    where, params = _search_sql(query)
    page = Page()
    if query.limit > 0:
        rows = conn.execute(
            f"SELECT {_VERSION_COLS} FROM resources r WHERE {where} "
            "ORDER BY r.ts, r.type, r.id LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        page.versions = [_version(row) for row in rows]
    if query.total:
        page.total = conn.execute(f"SELECT count(*) FROM resources r WHERE {where}", params).fetchone()[0]
    return page


def _history_where(query: HistoryQuery) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column, value, op in (
        ("type", query.type, "="),
        ("id", query.id, "="),
        ("ts", query.since, ">="),
        ("ts", query.till, "<="),
    ):
        if value is not None:
            where.append(f"{column} {op} ?")
            params.append(value)
    if query.at is not None:
        low, high = query.at
        where.append("ts <= ? AND (next_ts IS NULL OR next_ts > ?)")
        params.extend((high, low))
    return (" AND ".join(where) or "1"), params


def _current(conn: sqlite3.Connection, type_: str, id_: str) -> Version | None:
    row = conn.execute(
        f"SELECT {_VERSION_COLS} FROM resources WHERE type = ? AND id = ?", (type_, id_)
    ).fetchone()
    return None if row is None else _version(row)


# ------------------------------------------------------------------------------ writes


def _group_index(values: Iterable[IndexValue]) -> dict[str, list[tuple[Any, ...]]]:
    """Index values grouped by table, each as a tuple of its value columns."""
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for value in values:
        try:
            table, columns = _INDEX_TABLES[type(value)]
        except KeyError:
            raise TypeError(f"not an index value: {value!r}") from None
        grouped[table].append((value.param, *(getattr(value, c) for c in columns)))
    return grouped


def _write(conn: sqlite3.Connection, write: Write) -> None:
    """Check ``expect_vid``, then replace the current row and its index rows and extend history.

    Nothing is changed unless all of it is (a savepoint), even if the unit goes on after an error.
    """
    v = write.version
    index = _group_index(write.index) if v.body is not None else {}
    row = conn.execute("SELECT pk, vid FROM resources WHERE type = ? AND id = ?", (v.type, v.id)).fetchone()
    actual = None if row is None else row[1]
    if actual != write.expect_vid:
        raise VersionConflict(v.type, v.id, write.expect_vid, actual)
    conn.execute("SAVEPOINT write")
    try:
        pk = _put_current(conn, v, None if row is None else row[0])
        if actual is not None:
            conn.execute(
                "UPDATE history SET next_ts = ? WHERE type = ? AND id = ? AND vid = ?",
                (v.ts, v.type, v.id, actual),
            )
        conn.execute(
            "INSERT INTO history (type, id, vid, ts, next_ts, method, body) VALUES (?, ?, ?, ?, NULL, ?, ?)",
            (v.type, v.id, v.vid, v.ts, v.method, v.body),
        )
        _insert_index(conn, pk, v.type, index)
    except BaseException:
        conn.execute("ROLLBACK TO write")
        raise
    finally:
        conn.execute("RELEASE write")


def _put_current(conn: sqlite3.Connection, v: Version, pk: int | None) -> int:
    """Insert or overwrite the ``resources`` row (dropping the old index rows); its pk."""
    if pk is None:
        cursor = conn.execute(
            "INSERT INTO resources (type, id, vid, ts, method, body) VALUES (?, ?, ?, ?, ?, ?)",
            (v.type, v.id, v.vid, v.ts, v.method, v.body),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid
    conn.execute(
        "UPDATE resources SET vid = ?, ts = ?, method = ?, body = ? WHERE pk = ?",
        (v.vid, v.ts, v.method, v.body, pk),
    )
    _drop_index(conn, pk)
    return pk


def _drop_index(conn: sqlite3.Connection, pk: int) -> None:
    for table, _ in _INDEX_TABLES.values():
        conn.execute(f"DELETE FROM {table} WHERE pk = ?", (pk,))


def _insert_index(conn: sqlite3.Connection, pk: int, type_: str, index: dict[str, list[tuple[Any, ...]]]) -> None:
    for table, rows in index.items():
        width = len(rows[0]) + 2
        conn.executemany(
            f"INSERT INTO {table} VALUES ({', '.join('?' * width)})",
            [(pk, type_, *r) for r in rows],
        )


# ------------------------------------------------------------------------------- store


class _SqliteTx(Tx):
    """A unit's view: the write connection, inside its open transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def current(self, type_: str, id_: str) -> Version | None:
        return _current(self._conn, type_, id_)

    async def search(self, query: Query) -> Page:
        return _search(self._conn, query)

    async def write(self, write: Write) -> None:
        _write(self._conn, write)


def _connect(path: str) -> sqlite3.Connection:
    # autocommit mode (isolation_level=None): transactions are begun explicitly.
    # check_same_thread=False only because the loop thread may differ from the one that
    # built the store; all use still happens on the loop thread.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class SqliteStore(Store):
    """Resources in one SQLite file; see the module docstring for the design."""

    kind = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._w: sqlite3.Connection | None = None
        self._r: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._w = _connect(self.path)
        self._w.executescript(_schema())
        _seed_planner_stats(self._w)
        self._r = _connect(self.path)

    async def close(self) -> None:
        for conn in (self._r, self._w):
            if conn is not None:
                conn.close()
        self._r = self._w = None

    @property
    def _reader(self) -> sqlite3.Connection:
        if self._r is None:
            raise RuntimeError("SqliteStore is not open")
        return self._r

    @property
    def _writer(self) -> sqlite3.Connection:
        if self._w is None:
            raise RuntimeError("SqliteStore is not open")
        return self._w

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Not re-entrant: calling ``atomic`` from inside ``work`` would wait forever."""
        async with self._write_tx() as conn:
            return await work(_SqliteTx(conn))

    @asynccontextmanager
    async def _write_tx(self) -> AsyncIterator[sqlite3.Connection]:
        """Serialised ``BEGIN IMMEDIATE`` ... ``COMMIT``; ``ROLLBACK`` on any exception.

        IMMEDIATE takes the write lock up front, so a unit never fails half-way for
        lack of it (matters only if another process opens the same file).
        """
        async with self._lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction, so a page and its total come from the same snapshot."""
        conn = self._reader
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    async def current(self, type_: str, id_: str) -> Version | None:
        return _current(self._reader, type_, id_)

    async def version(self, type_: str, id_: str, vid: int) -> Version | None:
        row = self._reader.execute(
            f"SELECT {_VERSION_COLS} FROM history WHERE type = ? AND id = ? AND vid = ?",
            (type_, id_, vid),
        ).fetchone()
        return None if row is None else _version(row)

    async def search(self, query: Query) -> Page:
        with self._snapshot() as conn:
            return _search(conn, query)

    async def history(self, query: HistoryQuery, *, total: bool = False) -> Page:
        where, params = _history_where(query)
        page = Page()
        with self._snapshot() as conn:
            if query.limit > 0:
                rows = conn.execute(
                    f"SELECT {_VERSION_COLS} FROM history WHERE {where} "
                    "ORDER BY ts DESC, type, id, vid DESC LIMIT ? OFFSET ?",
                    [*params, query.limit, query.offset],
                )
                page.versions = [_version(row) for row in rows]
            if total:
                page.total = conn.execute(f"SELECT count(*) FROM history WHERE {where}", params).fetchone()[0]
        return page

    async def clear(self) -> None:
        async with self._write_tx() as conn:
            for table in ("resources", "history", *(t for t, _ in _INDEX_TABLES.values())):
                conn.execute(f"DELETE FROM {table}")

    def explain(self, query: Query) -> list[str]:
        """``EXPLAIN QUERY PLAN`` details of a search (diagnostics and index tests)."""
        where, params = _search_sql(query)
        rows = self._reader.execute(
            f"EXPLAIN QUERY PLAN SELECT {_VERSION_COLS} FROM resources r WHERE {where} "
            "ORDER BY r.ts, r.type, r.id LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        return [row[3] for row in rows]
