"""The embedded store: one SQLite file in WAL mode, shared by every worker process.

Reads run synchronously on the event-loop thread, on their own connection (``_r``): each
is an indexed lookup that takes well under a millisecond, far less than handing it to a
thread would cost, and WAL gives readers the last committed snapshot without ever waiting
for a writer. Reads outside a unit therefore see committed data only.

Writes go through group commit on a second connection (``_w``), see :class:`_GroupWriter`:
callers of :meth:`SqliteStore.atomic` queue their unit and wait; a writer task takes
SQLite's write lock (``BEGIN IMMEDIATE``), runs every queued unit back to back, each in its
own ``SAVEPOINT`` (a unit that raises is rolled back to it, alone, and gets its exception),
COMMITs once, and only then answers each caller. Units arriving meanwhile form the next
group. So N concurrent single writes of one process cost one commit, and SQLite's lock,
which serialises the groups of all processes, makes version checks and conditional
creates exact across processes as within one.

Nothing here blocks the loop while waiting: the write lock held by another process is
waited for with ``busy_timeout=0`` and asynchronous retries (the loop serves reads
meanwhile), and COMMIT runs in a thread (it waits for the disk, and a WAL checkpoint may
run in it). The statements of a unit run on the loop: they are as short as reads.

Durability: ``synchronous=FULL``. A caller is answered after COMMIT returned, which with
FULL is after the WAL was synced to disk: an acknowledged write survives a process crash,
an operating-system crash and a power loss (as far as the disk honours its syncs). That
fsync per commit is what grouping pays for once for many units. (``NORMAL`` would skip
it: acknowledged writes would survive a process crash but not a power loss.)

Schema: ``resources`` holds the current version of each resource (so current reads
never touch history), ``history`` every version with ``next_ts`` (the ``ts`` of the
version that superseded it) so "current at" questions are range queries, and one
``idx_*`` table per kind of index value, keyed by the resource's integer ``pk``.

``pk`` is also the creation sequence of the search order: it is assigned when a
resource is first inserted and its ``resources`` row is never deleted (a deletion is a
row with a NULL body), so updates, deletion and re-creation keep it. A sorted search
reads each matching resource's sort value from its index rows (see :class:`_Order`).

A search is one SELECT over ``resources r``: every index term is ``r.pk IN (SELECT pk
FROM idx_... WHERE param = ? AND ...)``, so the selective index drives the plan (the
sub-select is answered from a covering index and yields pks in order, which then are
rowid lookups in the default order, with no sort step). Only current, non-deleted
resources have index rows (writing a deletion drops them), so a total over one index
term is counted in its covering index alone.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence, TypeVar

from ... import jsonio
from ..base import HistoryQuery, Page, Query, SortKey, Store, StoreBusy, Tx, Version, VersionConflict, Write, check_key
from ..index import (
    ANY,
    KIND_COLUMNS,
    SORT_COLUMN,
    All,
    AnyOf,
    Cond,
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
    TypeIs,
    UnsupportedTerm,
    UriValue,
    ValueMatch,
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

#: value kind (as :class:`ValueMatch` and :class:`SortKey` name it) -> its index table
_KIND_TABLES: dict[str, str] = {kind: f"idx_{kind}" for kind in KIND_COLUMNS}

_COLUMN_TYPES = {"low": "INTEGER", "high": "INTEGER", "value": "REAL"}

# Index columns start with ``param`` (not ``type``): a typed lookup still seeks on every
# column it constrains, and a search across all types can use the same index.
# Each ends with ``pk`` so the sub-selects are answered from the index alone.
# (``resources`` indexes end with the rowid implicitly, which is ``pk``: ``(type)`` walks
# a type in creation order, ``(type, ts)`` in ``_lastUpdated`` then creation order. They
# are partial, over live resources only, which every search asks for: so a total of a
# whole type is counted in the index, without reading a row.)
_INDEX_INDEXES: dict[str, dict[str, tuple[str, ...]]] = {
    "idx_token": {"code": ("param", "code", "type", "system", "pk"), "system": ("param", "system", "type", "pk")},
    "idx_string": {"norm": ("param", "norm", "type", "pk")},
    "idx_date": {"low": ("param", "low", "high", "type", "pk"), "high": ("param", "high", "type", "pk")},
    "idx_reference": {"target": ("param", "target", "type", "pk")},
    "idx_number": {"value": ("param", "value", "type", "pk")},
    "idx_quantity": {"value": ("param", "code", "value", "type", "pk"), "v": ("param", "value", "type", "pk")},
    "idx_uri": {"uri": ("param", "uri", "type", "pk")},
}

#: PRAGMA user_version of the current schema (1: creation-order indexes on ``resources``;
#: 2: sort values read from the index tables, no ``srt`` table)
_SCHEMA_VERSION = 2

#: indexes of older schemas, dropped by :func:`_migrate` (the ``(ts, type, id)`` order is gone)
_OLD_INDEXES = ("resources_ts", "resources_type_ts")

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
CREATE INDEX IF NOT EXISTS resources_type ON resources (type) WHERE body IS NOT NULL;
CREATE INDEX IF NOT EXISTS resources_ts_pk ON resources (ts) WHERE body IS NOT NULL;
CREATE INDEX IF NOT EXISTS resources_type_ts_pk ON resources (type, ts) WHERE body IS NOT NULL;
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
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, key)
);
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


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a file written by an older version up to :data:`_SCHEMA_VERSION` (idempotent)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= _SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for index in _OLD_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").fetchone() is not None:
            conn.executemany("DELETE FROM sqlite_stat1 WHERE idx = ?", [(i,) for i in _OLD_INDEXES])
        conn.execute("DROP TABLE IF EXISTS srt")  # version 1 kept sort values in a table
        conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# Planner statistics of a large database (a million resources), written into a new file.
# Without statistics SQLite assumes ``type = ?`` is selective, and would walk every
# resource of the type in ts order instead of starting from the few rows an identifier
# lookup finds in a token index. Seeding sqlite_stat1 is SQLite's documented way to steer
# the planner; a later ANALYZE replaces these figures with measured ones.
_RESOURCES, _VERSIONS, _INDEX_ROWS = 1_000_000, 5_000_000, 10_000_000
_CORE_STATS = {
    ("resources", "sqlite_autoindex_resources_1"): f"{_RESOURCES} 50000 1",
    ("resources", "resources_type"): f"{_RESOURCES} 50000",
    ("resources", "resources_ts_pk"): f"{_RESOURCES} 2",
    ("resources", "resources_type_ts_pk"): f"{_RESOURCES} 50000 2",
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
    """Seed sqlite_stat1 in a new, empty file (never over measured statistics).

    A file seeded by an older version gets the rows of indexes added since (only those).
    """
    if conn.execute("SELECT 1 FROM resources LIMIT 1").fetchone() is None:
        conn.execute("ANALYZE")  # creates sqlite_stat1; instant on empty tables
        if conn.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'resources'").fetchone() is None:
            conn.executemany(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
                [(table, index, stat) for (table, index), stat in _planner_stats().items()],
            )
            conn.execute("ANALYZE sqlite_schema")  # reload statistics into this connection
            return
    exists = conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").fetchone()
    if exists is None or conn.execute("SELECT 1 FROM sqlite_stat1 WHERE idx = 'resources_id'").fetchone() is None:
        return  # statistics were never seeded or measured here
    known = {(t, i) for t, i in conn.execute("SELECT tbl, idx FROM sqlite_stat1")}
    missing = [(t, i, s) for (t, i), s in _planner_stats().items() if (t, i) not in known]
    if missing:
        conn.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", missing)
        conn.execute("ANALYZE sqlite_schema")


_VERSION_COLS = "type, id, vid, ts, method, body"
_R_VERSION_COLS = "r.type, r.id, r.vid, r.ts, r.method, r.body"


def _version(row: Sequence[Any]) -> Version:
    type_, id_, vid, ts, method, body = row[:6]
    return Version(type_, id_, vid, ts, method, None if body is None else bytes(body))


# ------------------------------------------------------------------------ query terms

_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def prefix_upper(prefix: str) -> str | None:
    """The smallest string above every string starting with ``prefix`` (``None`` if none is).

    Strings compare by code point here (SQLite's BINARY collation of UTF-8, as MongoDB's),
    so ``s`` starts with ``prefix`` exactly when ``prefix <= s < prefix_upper(prefix)``.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop()) + 1
        if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be encoded: skip to the next scalar
            last = 0xE000
        if last <= 0x10FFFF:
            return "".join(chars) + chr(last)
    return None


def _selectivity_rank(term: TokenMatch | ValueMatch) -> int:
    """A guess at how few resources a term matches (lower: fewer), to pick the driver of an AND."""
    if isinstance(term, TokenMatch):
        if term.code is None:
            return 6
        return 1 if term.param.endswith("identifier") else 3
    ops = {c.op for c in term.conds}
    if term.kind == "reference" and ops & {"eq", "in"}:
        return 0
    if term.kind == "token" and "eq" in ops:
        return 2
    if term.kind == "string" and ops & {"eq", "prefix"}:
        return 2
    if ops & {"eq", "in"}:
        return 4
    return 5


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

    # Index terms are sub-selects of pks; AnyOf merges those of its children into one.

    def _subselect(self, term: Term) -> str | None:
        """``SELECT pk FROM idx_...`` for an index term (appending its parameters), else ``None``."""
        if isinstance(term, TokenMatch):
            return self._token_select(term)
        if isinstance(term, ValueMatch):
            return self._value_select(term)
        return None

    def _index_term(self, term: TokenMatch | ValueMatch) -> str:
        return f"r.pk IN ({self._subselect(term)})"

    def _id_in(self, term: IdIn) -> str:
        if not term.ids:
            return "0"
        self.params.extend(term.ids)
        return f"r.id IN ({', '.join('?' * len(term.ids))})"

    def _type_is(self, term: TypeIs) -> str:
        if not term.types:
            return "0"
        self.params.extend(term.types)
        return f"r.type IN ({', '.join('?' * len(term.types))})"

    def _token_select(self, term: TokenMatch) -> str:
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
        return f"SELECT pk FROM idx_token WHERE {' AND '.join(where)}"

    def _value_select(self, term: ValueMatch) -> str:
        table = _KIND_TABLES.get(term.kind)
        if table is None:
            raise UnsupportedTerm(f"no index values of kind {term.kind!r}")
        where = ["param = ?"]
        self.params.append(term.param)
        if self.type is not None:
            where.append("type = ?")
            self.params.append(self.type)
        for cond in term.conds:
            where.append(self._cond(term.kind, cond))
        return f"SELECT pk FROM {table} WHERE {' AND '.join(where)}"

    def _cond(self, kind: str, cond: Cond) -> str:
        column, op, value = cond.column, cond.op, cond.value
        if column not in KIND_COLUMNS[kind]:
            raise UnsupportedTerm(f"{kind} index values have no column {column!r}")
        if op in ("eq", "ne"):
            if value is None:
                return f"{column} IS {'' if op == 'eq' else 'NOT '}NULL"
            self.params.append(value)
            return f"{column} = ?" if op == "eq" else f"{column} IS NOT ?"  # ne: NULL differs too
        if op in _COMPARE:
            self.params.append(value)
            return f"{column} {_COMPARE[op]} ?"
        if op == "prefix":
            if not isinstance(value, str):
                raise TypeError(f"prefix needs text, not {value!r}")
            upper = prefix_upper(value)
            if not value:
                self.params.append(value)
                return f"{column} >= ?"  # any text (numbers sort below text in SQLite)
            if upper is None:
                self.params.extend((value, len(value), value))
                return f"{column} >= ? AND substr({column}, 1, ?) = ?"
            self.params.extend((value, upper))
            return f"{column} >= ? AND {column} < ?"  # a range, so the index is used
        if op == "contains":
            if not isinstance(value, str):
                raise TypeError(f"contains needs text, not {value!r}")
            self.params.append(value)
            return f"instr({column}, ?) > 0"
        if op == "in":
            if not isinstance(value, (tuple, list)):
                raise TypeError(f"in needs a tuple of values, not {value!r}")
            if not value:
                return "0"
            self.params.extend(value)
            return f"{column} IN ({', '.join('?' * len(value))})"
        raise UnsupportedTerm(f"unknown condition operator {op!r}")

    def _last_updated(self, term: LastUpdated) -> str:
        self.params.append(term.value)
        if term.op in ("gt", "ge"):
            # "changed since": usually a few recent resources, which come last in creation
            # order; the hint makes the planner range-scan (type, ts) rather than walk the type.
            return f"likelihood(r.ts {_COMPARE[term.op]} ?, 0.05)"
        return f"r.ts {_COMPARE[term.op]} ?"

    def _all(self, term: All) -> str:
        """One index term drives (``pk IN``); the other index terms are probed per candidate
        (``EXISTS`` on the table's ``pk`` index), so an unselective term such as a common
        code is never materialised in full next to a selective one such as a subject."""
        if not term.terms:
            return "1"
        index_terms = [t for t in term.terms if isinstance(t, (TokenMatch, ValueMatch))]
        has_ids = any(isinstance(t, IdIn) for t in term.terms)
        driver = None if has_ids or not index_terms else min(index_terms, key=_selectivity_rank)
        parts = []
        for t in term.terms:
            if isinstance(t, (TokenMatch, ValueMatch)) and t is not driver:
                parts.append(self._exists(t))
            else:
                parts.append(self.compile(t))
        return "(" + " AND ".join(parts) + ")"

    def _exists(self, term: TokenMatch | ValueMatch) -> str:
        select = self._subselect(term)
        assert select is not None and select.startswith("SELECT pk FROM ")
        table, _, conditions = select[len("SELECT pk FROM ") :].partition(" WHERE ")
        return f"EXISTS (SELECT 1 FROM {table} WHERE pk = r.pk AND {conditions})"

    def _any_of(self, term: AnyOf) -> str:
        if not term.terms:
            return "0"
        selects = [s for s in (self._subselect(t) for t in term.terms if isinstance(t, (TokenMatch, ValueMatch))) if s]
        parts = [f"r.pk IN ({' UNION ALL '.join(selects)})"] if selects else []
        parts += [self.compile(t) for t in term.terms if not isinstance(t, (TokenMatch, ValueMatch))]
        return "(" + " OR ".join(parts) + ")"

    def _not(self, term: Not) -> str:
        return f"NOT ({self.compile(term.term)})"

    _HANDLERS: dict[type, Callable[["_Sql", Any], str]] = {
        IdIn: _id_in,
        TypeIs: _type_is,
        TokenMatch: _index_term,
        ValueMatch: _index_term,
        LastUpdated: _last_updated,
        All: _all,
        AnyOf: _any_of,
        Not: _not,
    }


def _search_where(query: Query) -> tuple[str, list[Any]]:
    """WHERE clause (over ``resources r``) and parameters for a search."""
    sql = _Sql(query.type)
    where = ["r.body IS NOT NULL"]
    if query.type is not None:
        where.append("r.type = ?")
        sql.params.append(query.type)
    if query.where is not None:
        where.append(sql.compile(query.where))
    return " AND ".join(where), sql.params


class _Order:
    """The order of a search: its sort values then ``r.pk``.

    A sort value is looked up per matching resource in its index table (least value
    ascending, greatest descending), through the table's ``pk`` index: writes pay nothing
    for sorting, and only sorted searches pay, per row they order."""

    def __init__(self, sort: tuple[SortKey, ...]) -> None:
        #: (SQL expression, descending, may be NULL), the last one ``r.pk``
        self.columns: list[tuple[str, bool, bool]] = []
        for n, key in enumerate(sort):
            if key.param == "_id":
                self.columns.append(("r.id", key.descending, False))
            elif key.param == "_lastUpdated":
                self.columns.append(("r.ts", key.descending, False))
            else:
                if key.kind not in SORT_COLUMN:
                    raise UnsupportedTerm(f"cannot sort by values of kind {key.kind!r}")
                asc, desc = SORT_COLUMN[key.kind]
                column, fn = (desc, "max") if key.descending else (asc, "min")
                param = key.param.replace("'", "''")  # a literal: the expression recurs in ORDER BY and keyset terms
                self.columns.append((f"(SELECT {fn}(x.{column}) FROM {_KIND_TABLES[key.kind]} x WHERE x.pk = r.pk AND x.param = '{param}')", key.descending, True))
        self.columns.append(("r.pk", False, False))
        self.width = len(sort) + 3  # a key: the sort values, pk, type, id

    def order_by(self, reverse: bool) -> str:
        parts = []
        for expr, desc, nullable in self.columns:
            d = desc != reverse
            nulls = (" NULLS FIRST" if reverse else " NULLS LAST") if nullable else ""
            parts.append(f"{expr} {'DESC' if d else 'ASC'}{nulls}")
        return ", ".join(parts)

    def keyset(self, key: Sequence[Any], after: bool) -> tuple[str, list[Any]]:
        """Rows strictly after (or before) ``key`` in this order; ``pk`` is unique, so it ends the key."""
        values = check_key(key, self.width)[: len(self.columns)]
        branches: list[str] = []
        params: list[Any] = []
        for n, ((expr, desc, nullable), value) in enumerate(zip(self.columns, values)):
            if value is None and not nullable:
                raise ValueError(f"search key {list(key)!r} has no value where one is required")
            if after and value is None:
                continue  # nothing sorts after a missing value (they come last)
            equal: list[str] = []
            for (e, _, _), v in zip(self.columns[:n], values[:n]):
                if v is None:
                    equal.append(f"{e} IS NULL")
                else:
                    equal.append(f"{e} = ?")
                    params.append(v)
            if value is None:  # before a missing value: every present one
                step = f"{expr} IS NOT NULL"
            else:
                params.append(value)
                step = f"{expr} {'>' if after != desc else '<'} ?"
                if after and nullable:
                    step = f"({step} OR {expr} IS NULL)"
            branches.append("(" + " AND ".join(equal + [step]) + ")")
        return ("(" + " OR ".join(branches) + ")" if branches else "0"), params


def _select(query: Query) -> tuple[str, list[Any], _Order]:
    """The SELECT of one page of a search (rows come in forward order, except for ``before``)."""
    order = _Order(query.sort)
    where, params = _search_where(query)
    reverse = query.before is not None
    for key, after in ((query.after, True), (query.before, False)):
        if key is not None:
            cond, cond_params = order.keyset(key, after)
            where += f" AND {cond}"
            params += cond_params
    key_cols = "".join(f", {expr}" for expr, _, _ in order.columns)
    sql = (
        f"SELECT {_R_VERSION_COLS}{key_cols} FROM resources r "
        f"WHERE {where} ORDER BY {order.order_by(reverse)} LIMIT ? OFFSET ?"
    )
    return sql, [*params, query.limit, query.offset], order


def _search(conn: sqlite3.Connection, query: Query) -> Page:
    page = Page()
    sql, params, order = _select(query)
    if query.limit > 0:
        rows = conn.execute(sql, params).fetchall()
        if query.before is not None:
            rows.reverse()
        page.versions = [_version(row) for row in rows]
        page.keys = [(*row[6:-1], row[-1], row[0], row[1]) for row in rows]
    if query.total:
        sql, params = _count_sql(query)
        page.total = conn.execute(sql, params).fetchone()[0]
    return page


def _count_sql(query: Query) -> tuple[str, list[Any]]:
    """The SELECT of a search's total.

    When the whole condition is one index term (or an AnyOf of them) the pks are counted
    in the index alone, never visiting ``resources``: that is exact because only current,
    non-deleted resources have index rows (a deletion's write drops them) and the
    sub-selects carry the query's type.
    """
    term = query.where
    if isinstance(term, AnyOf) and term.terms and all(isinstance(t, (TokenMatch, ValueMatch)) for t in term.terms):
        sql = _Sql(query.type)
        selects = [sql._subselect(t) for t in term.terms]
        return f"SELECT count(DISTINCT pk) FROM ({' UNION ALL '.join(s for s in selects if s)})", sql.params
    if isinstance(term, (TokenMatch, ValueMatch)):
        sql = _Sql(query.type)
        select = sql._subselect(term)
        assert select is not None
        return "SELECT count(DISTINCT pk) FROM " + select.removeprefix("SELECT pk FROM "), sql.params
    where, params = _search_where(query)
    return f"SELECT count(*) FROM resources r WHERE {where}", params


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
    if query.types is not None:
        where.append(f"type IN ({', '.join('?' * len(query.types))})" if query.types else "0")
        params.extend(query.types)
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
    if actual != write.expect_vid or (write.in_place and (actual != v.vid or v.body is None)):
        raise VersionConflict(v.type, v.id, write.expect_vid, actual)
    if write.in_place:
        _rewrite(conn, v, row[0], index)
        return
    with _savepoint(conn, "write"):
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


def _rewrite(conn: sqlite3.Connection, v: Version, pk: int, index: dict[str, list[tuple[Any, ...]]]) -> None:
    """Replace the body and index of the current version ``v.vid``, in the current row and in history."""
    with _savepoint(conn, "rewrite"):
        conn.execute("UPDATE resources SET body = ? WHERE pk = ?", (v.body, pk))
        conn.execute("UPDATE history SET body = ? WHERE type = ? AND id = ? AND vid = ?", (v.body, v.type, v.id, v.vid))
        _drop_index(conn, pk)
        _insert_index(conn, pk, v.type, index)


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


def _bulk_insert(conn: sqlite3.Connection, writes: list[Write]) -> None:
    """Insert new resources with consecutive pks, every table filled by one ``executemany``."""
    seen: set[tuple[str, str]] = set()
    for w in writes:
        v = w.version
        if w.expect_vid is not None or v.body is None:
            raise ValueError(f"bulk_load takes new resources only ({v.type}/{v.id} is not one)")
        if (v.type, v.id) in seen:
            raise VersionConflict(v.type, v.id, None, v.vid)
        seen.add((v.type, v.id))
    base = conn.execute("SELECT coalesce(max(pk), 0) + 1 FROM resources").fetchone()[0]
    resources, history = [], []
    index: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for pk, w in enumerate(writes, base):
        v = w.version
        resources.append((pk, v.type, v.id, v.vid, v.ts, v.method, v.body))
        history.append((v.type, v.id, v.vid, v.ts, v.method, v.body))
        for value in w.index:
            try:
                table, columns = _INDEX_TABLES[type(value)]
            except KeyError:
                raise TypeError(f"not an index value: {value!r}") from None
            index[table].append((pk, v.type, value.param, *[getattr(value, c) for c in columns]))
    conn.execute("SAVEPOINT bulk")
    try:
        conn.executemany("INSERT INTO resources (pk, type, id, vid, ts, method, body) VALUES (?, ?, ?, ?, ?, ?, ?)", resources)
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK TO bulk")  # the rows inserted before the failing one
        for w in writes:  # which one exists already?
            existing = _current(conn, w.version.type, w.version.id)
            if existing is not None:
                raise VersionConflict(w.version.type, w.version.id, None, existing.vid) from None
        raise
    finally:
        conn.execute("RELEASE bulk")
    conn.executemany("INSERT INTO history (type, id, vid, ts, next_ts, method, body) VALUES (?, ?, ?, ?, NULL, ?, ?)", history)
    for table, rows in index.items():
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)


# ------------------------------------------------------------------------------ writer

#: most units one transaction takes; the rest wait for the next (bounds a unit's wait for its commit)
_GROUP_MAX = 64
#: seconds a group waits for the write lock another process holds, before its units fail
_LOCK_TIMEOUT = 30.0
#: first and longest pause between attempts at the write lock another process holds (seconds,
#: doubling); uvloop's timers tick in milliseconds, so a shorter pause would spin the loop
_LOCK_PAUSES = (0.001, 0.002)

#: where a unit is: waiting for its group, its body running, ran (waiting for the commit),
#: or abandoned by its caller (cancelled)
_QUEUED, _RUNNING, _RAN, _ABANDONED = "queued", "running", "ran", "abandoned"


class _Unit:
    """One caller's unit of work: its body (run by the writer task) and the future that
    answers the caller once the group it ran in has committed."""

    __slots__ = ("body", "answer", "state", "result", "error")

    def __init__(self, body: Callable[[sqlite3.Connection], Awaitable[Any]], answer: asyncio.Future[Any]) -> None:
        self.body = body
        self.answer = answer
        self.state = _QUEUED
        self.result: Any = None
        self.error: Exception | None = None



def _settle(future: asyncio.Future[Any], error: BaseException | None = None, result: Any = None) -> None:
    """Answer ``future`` unless its waiter gave up on it (cancelled) already."""
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _busy(exc: sqlite3.OperationalError) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


class _GroupWriter:
    """Group commit on the write connection (see the module docstring).

    Callers queue units and wait. One task per store takes the write lock (``BEGIN
    IMMEDIATE``, waited for without blocking the loop), then runs every unit queued by then,
    back to back, each body undoing itself (savepoint) when it fails; then COMMITs in a
    thread and answers each caller: its result, or its own exception. Units that arrive
    meanwhile form the next group.
    """

    def __init__(self, conn: sqlite3.Connection, pool: ThreadPoolExecutor, lock_timeout: float) -> None:
        self.conn = conn
        self.lock_timeout = lock_timeout
        self.commits = 0  #: transactions committed (for tests and measurements)
        self._pool = pool
        self._queue: deque[_Unit] = deque()
        self._task: asyncio.Task[None] | None = None
        self._running: _Unit | None = None

    async def run(self, body: Callable[[sqlite3.Connection], Awaitable[T]]) -> T:
        """``body``'s result once the transaction it ran in committed; its exception if it raised.

        ``body`` must undo its own changes when it raises (a savepoint): the group goes on.
        """
        loop = asyncio.get_running_loop()
        if self._task is not None and asyncio.current_task() is self._task:
            raise RuntimeError("SqliteStore.atomic is not re-entrant: a unit of work cannot start another")
        unit = _Unit(body, loop.create_future())
        self._queue.append(unit)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain(), name="sqlite-group-writer")
        try:
            return await unit.answer  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            self._abandon(unit)
            raise

    def _abandon(self, unit: _Unit) -> None:
        """The caller gave up: a queued unit is skipped; a running one is cancelled (its
        savepoint is rolled back); one that ran already commits with its group."""
        if unit.state == _QUEUED:
            unit.state = _ABANDONED
        elif unit.state == _RUNNING and self._running is unit and self._task is not None:
            unit.state = _ABANDONED
            self._task.cancel()

    async def idle(self) -> None:
        """Wait until every queued unit is answered (before closing the connection)."""
        task = self._task
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            await asyncio.wait([task])

    async def _drain(self) -> None:
        """Groups, one after another, until no unit waits. Every unit gets an answer, whatever fails."""
        while self._queue:
            waiting = len(self._queue)
            try:
                await self._begin()
            except Exception as exc:  # the lock never came (or the file is unusable)
                for _ in range(min(waiting, len(self._queue))):
                    _settle(self._queue.popleft().answer, exc)
                continue
            group = [self._queue.popleft() for _ in range(min(len(self._queue), _GROUP_MAX))]
            try:
                await self._commit(await self._run_group(group))
            except Exception as exc:  # the connection failed beyond what _commit handles
                self._fail(group, exc)
            except BaseException:  # the writer itself is stopped (the loop shuts down)
                self._fail([*group, *self._queue], RuntimeError("the store's writer stopped before this unit committed"))
                self._queue.clear()
                raise

    async def _begin(self) -> None:
        """``BEGIN IMMEDIATE`` without blocking the loop: ``busy_timeout`` is 0 on this
        connection, so while another process holds the lock the attempt fails at once and is
        retried after a pause, during which the loop serves others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lock_timeout
        pause = _LOCK_PAUSES[0]
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
                if loop.time() + pause > deadline:
                    raise StoreBusy(f"the database stayed locked by another writer for {self.lock_timeout:g} s") from exc
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LOCK_PAUSES[1])

    async def _run_group(self, group: list[_Unit]) -> list[_Unit]:
        """Run each unit's body in turn; the units that ran (their result or error noted)."""
        ran: list[_Unit] = []
        for n, unit in enumerate(group):
            if unit.state == _ABANDONED:
                continue
            if await self._run_unit(unit):
                ran.append(unit)
            if not self.conn.in_transaction:
                # An error (disk full, I/O) made SQLite roll back the whole transaction: the
                # units before this one are lost too; those after it go to the next group.
                lost = sqlite3.OperationalError("the transaction was rolled back by an error in a unit run with it; retry")
                for earlier in ran:
                    if earlier.error is None:
                        earlier.error = lost
                self._queue.extendleft(reversed(group[n + 1 :]))
                break
        return ran

    async def _run_unit(self, unit: _Unit) -> bool:
        """Run one body; false when its caller gave up (cancelled) while it ran."""
        task = asyncio.current_task()
        unit.state, self._running = _RUNNING, unit
        try:
            unit.result = await unit.body(self.conn)
        except asyncio.CancelledError:
            if unit.state != _ABANDONED:
                raise  # the writer itself is being stopped
        except Exception as exc:
            unit.error = exc
        finally:
            self._running = None
        if unit.state == _ABANDONED:
            if task is not None and task.cancelling():
                task.uncancel()  # that cancellation was the caller's, not the writer's
            return False
        unit.state = _RAN
        return True

    async def _commit(self, ran: list[_Unit]) -> None:
        """COMMIT in a thread (with ``synchronous=FULL`` it waits for the disk, and a WAL
        checkpoint may run in it); then answer every caller."""
        failed: Exception | None = None
        try:
            if any(unit.error is None for unit in ran):
                await self._in_thread("COMMIT")
                self.commits += 1
            elif self.conn.in_transaction:
                self.conn.execute("ROLLBACK")  # nothing to keep
        except Exception as exc:
            failed = exc
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        for unit in ran:
            _settle(unit.answer, unit.error or failed, unit.result)

    async def _in_thread(self, sql: str) -> None:
        done = asyncio.get_running_loop().run_in_executor(self._pool, self.conn.execute, sql)
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            await asyncio.wait([done])  # the connection is the thread's until the statement returns
            raise

    def _fail(self, units: list[_Unit], error: BaseException) -> None:
        """Undo the open transaction (if it still can be) and answer ``units`` not yet answered."""
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the connection is broken: the transaction is gone with it
        for unit in units:
            _settle(unit.answer, error)


@contextmanager
def _savepoint(conn: sqlite3.Connection, name: str) -> Iterator[None]:
    """``SAVEPOINT name`` around the block: rolled back to it (alone) when the block raises
    (unless SQLite already rolled the whole transaction back)."""
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


async def _in_savepoint(conn: sqlite3.Connection, work: Callable[[Tx], Awaitable[T]]) -> T:
    """``work`` inside ``SAVEPOINT unit``: rolled back to it (alone) when it raises."""
    with _savepoint(conn, "unit"):
        return await work(_SqliteTx(conn))


def _sync_work(fn: Callable[[sqlite3.Connection], T]) -> Callable[[Tx], Awaitable[T]]:
    """A plain function of the connection as a unit of work (records, bulk loads, clearing)."""

    async def work(tx: Tx) -> T:
        assert isinstance(tx, _SqliteTx)
        return fn(tx.conn)

    return work


# ------------------------------------------------------------------------------- store


class _SqliteTx(Tx):
    """A unit's view: the write connection, inside its savepoint of the open transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def current(self, type_: str, id_: str) -> Version | None:
        return _current(self.conn, type_, id_)

    async def search(self, query: Query) -> Page:
        return _search(self.conn, query)

    async def write(self, write: Write) -> None:
        _write(self.conn, write)


#: page cache per connection (negative: KiB), and memory-mapped reads
_CACHE_KIB = 32 * 1024
_MMAP_BYTES = 64 << 20  # mapped pages count as RSS: kept small so a long import stays under 300 MB


def _connect(path: str) -> sqlite3.Connection:
    # autocommit mode (isolation_level=None): transactions are begun explicitly.
    # check_same_thread=False: the writer's COMMIT runs in a thread; each connection is
    # still used by one thread at a time.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
    conn.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


class SqliteStore(Store):
    """Resources in one SQLite file; see the module docstring for the design.

    ``lock_timeout``: seconds a write waits for another process's write lock before failing.
    """

    kind = "sqlite"

    def __init__(self, path: str, *, lock_timeout: float = _LOCK_TIMEOUT) -> None:
        self.path = path
        self.lock_timeout = lock_timeout
        self._w: sqlite3.Connection | None = None
        self._r: sqlite3.Connection | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._group: _GroupWriter | None = None

    async def open(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._w = _connect(self.path)
        self._w.executescript(_schema())
        _migrate(self._w)
        _seed_planner_stats(self._w)
        self._w.execute("PRAGMA busy_timeout=0")  # from now on the lock is waited for asynchronously
        self._r = _connect(self.path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-commit")
        self._group = _GroupWriter(self._w, self._pool, self.lock_timeout)

    async def close(self) -> None:
        if self._group is not None:
            await self._group.idle()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for conn in (self._r, self._w):
            if conn is not None:
                conn.close()
        self._r = self._w = None
        self._pool = self._group = None

    @property
    def _reader(self) -> sqlite3.Connection:
        if self._r is None:
            raise RuntimeError("SqliteStore is not open")
        return self._r

    @property
    def group(self) -> _GroupWriter:
        """The group-commit writer (its ``commits`` count is read by tests and measurements)."""
        if self._group is None:
            raise RuntimeError("SqliteStore is not open")
        return self._group

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """``work`` in its own savepoint of a group's transaction; answered once that commits.

        Not re-entrant: calling ``atomic`` from inside ``work`` raises ``RuntimeError``.
        """
        return await self.group.run(lambda conn: _in_savepoint(conn, work))

    async def atomic_batch(self, works: Sequence[Callable[[Tx], Awaitable[T]]]) -> list[T | Exception]:
        """Every work in one transaction, each in its own savepoint (see :meth:`Store.atomic_batch`)."""
        if not works:
            return []
        return await self.group.run(lambda conn: _run_batch(conn, works))

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A plain function of the write connection as one unit."""
        return await self.atomic(_sync_work(fn))

    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[None]:
        """Drop the secondary indexes of the index tables and of history, and build them again
        at the end: building an index from the loaded rows once is about twice as fast as
        keeping it up to date row by row. Uniqueness checks (``resources``) stay in force."""
        deferred = await self._run(_drop_deferred_indexes)
        try:
            yield
        finally:
            await self._run(lambda conn: _create_indexes(conn, deferred))

    async def bulk_load(self, writes: Iterable[Write]) -> None:
        """New resources in one unit, each table filled by one ``executemany``.

        Duplicates (in the batch or with stored resources) raise :class:`VersionConflict`
        and nothing is written.
        """
        items = list(writes)
        if items:
            await self._run(lambda conn: _bulk_insert(conn, items))

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

    async def reindex(self, version: Version, index: tuple[IndexValue, ...]) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT pk, vid FROM resources WHERE type = ? AND id = ?", (version.type, version.id)).fetchone()
            if row is None or row[1] != version.vid or version.body is None:
                return False
            with _savepoint(conn, "reindex"):
                _drop_index(conn, row[0])
                _insert_index(conn, row[0], version.type, _group_index(index))
            return True

        return await self._run(work)

    async def clear(self) -> None:
        await self._run(_clear)

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._reader.execute("SELECT body FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return None if row is None else jsonio.loads(row[0])

    async def put_record(self, kind: str, key: str, body: dict[str, Any]) -> None:
        data = jsonio.dumps(body)
        await self._run(lambda conn: conn.execute("INSERT OR REPLACE INTO records (kind, key, body) VALUES (?, ?, ?)", (kind, key, data)))

    async def add_record(self, kind: str, key: str, body: dict[str, Any]) -> bool:
        data = jsonio.dumps(body)
        sql = "INSERT OR IGNORE INTO records (kind, key, body) VALUES (?, ?, ?)"
        return await self._run(lambda conn: conn.execute(sql, (kind, key, data)).rowcount == 1)

    async def take_record(self, kind: str, key: str) -> dict[str, Any] | None:
        sql = "DELETE FROM records WHERE kind = ? AND key = ? RETURNING body"
        row = await self._run(lambda conn: conn.execute(sql, (kind, key)).fetchone())
        return None if row is None else jsonio.loads(row[0])

    async def list_records(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self._reader.execute("SELECT key, body FROM records WHERE kind = ? ORDER BY key", (kind,))
        return [(key, jsonio.loads(body)) for key, body in rows]

    def explain(self, query: Query, *, count: bool = False) -> list[str]:
        """``EXPLAIN QUERY PLAN`` details of a search's page (or, with ``count``, its total)."""
        if count:
            sql, params = _count_sql(query)
        else:
            sql, params, _ = _select(query)
        return [row[3] for row in self._reader.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


async def _run_batch(conn: sqlite3.Connection, works: Sequence[Callable[[Tx], Awaitable[T]]]) -> list[T | Exception]:
    """Each work in its own savepoint, all inside ``SAVEPOINT batch`` (undone whole if the
    batch is cancelled or the transaction is lost)."""
    results: list[T | Exception] = []
    with _savepoint(conn, "batch"):
        for work in works:
            try:
                results.append(await _in_savepoint(conn, work))
            except Exception as exc:  # noqa: BLE001 - the caller gets it in the list
                if not conn.in_transaction:
                    raise  # SQLite rolled the whole transaction back: nothing of the batch stands
                results.append(exc)
    return results


def _drop_deferred_indexes(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Drop the indexes :meth:`SqliteStore.bulk` defers; their (name, DDL)."""
    deferred = [
        (name, sql)
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL "
            "AND (tbl_name LIKE 'idx\\_%' ESCAPE '\\' OR tbl_name = 'history')"
        )
    ]
    for name, _ in deferred:
        conn.execute(f"DROP INDEX {name}")
    return deferred


def _create_indexes(conn: sqlite3.Connection, deferred: list[tuple[str, str]]) -> None:
    for _, sql in deferred:
        conn.execute(sql)
    conn.execute("PRAGMA optimize")


def _clear(conn: sqlite3.Connection) -> None:
    for table in ("resources", "history", *(t for t, _ in _INDEX_TABLES.values())):
        conn.execute(f"DELETE FROM {table}")
