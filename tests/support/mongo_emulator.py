"""An in-process stand-in for a MongoDB replica set, so MongoStore runs without a server.

Built on mongomock (synchronous) behind a thin async adapter that offers exactly the
part of pymongo's async API that :class:`server.storage.mongo.store.MongoStore` uses:
``client[db][coll]``; awaitable ``insert_one``, ``find_one``, ``update_one``,
``replace_one``, ``delete_many``, ``count_documents``, ``create_index``,
``index_information``; ``find()`` returning a cursor with
``sort``/``skip``/``limit``/``to_list`` and ``async for``; ``db.command("hello")``;
``client.start_session()`` (``async with``), ``await session.start_transaction()``
returning an async context manager, ``commit_transaction``/``abort_transaction``.

Transactions are emulated with an UNDO LOG: every write made with ``session=s`` while
``s`` is in a transaction records the before-image of each document it touches; abort
(or an exception inside the transaction context) puts them back in reverse order;
commit forgets them. A write made WITHOUT the session is not undone, as on a real
server, so a store that forgets ``session=`` fails the rollback tests.

What it does NOT emulate: isolation (every reader, inside or outside a transaction,
sees uncommitted writes at once) and write conflicts (two transactions may write the
same document; there is never a ``TransientTransactionError`` unless injected with
:meth:`EmulatorClient.fail_next_commits`), so a unit that aborts after another unit
wrote the same document would put back a stale before-image. The stores' conditional
writes (``vid`` checks) keep the tests clear of that case. Each operation yields to the
event loop once, so concurrent units do interleave between operations.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any, AsyncIterator, Iterable

import mongomock
from pymongo.errors import InvalidOperation, OperationFailure

__all__ = ["EmulatorClient", "MONGOMOCK_VERSION"]

MONGOMOCK_VERSION: str = mongomock.__version__


class EmulatorSession:
    """A session whose transaction is an undo log of before-images."""

    def __init__(self, client: EmulatorClient) -> None:
        self.client = client
        self.in_transaction = False
        self._undo: list[tuple[mongomock.Collection, Any, dict[str, Any] | None]] = []
        self._ended = False
        self._committed = False

    async def __aenter__(self) -> EmulatorSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.end_session()

    async def end_session(self) -> None:
        if self.in_transaction:
            await self.abort_transaction()
        self._ended = True

    async def start_transaction(self, **options: Any) -> _TransactionContext:
        """Like pymongo: a coroutine returning an async context manager (options ignored)."""
        if self._ended:
            raise InvalidOperation("Cannot use ended session")
        if self.in_transaction:
            raise InvalidOperation("Transaction already in progress")
        await asyncio.sleep(0)
        self.in_transaction = True
        self._committed = False
        self._undo = []
        return _TransactionContext(self)

    async def commit_transaction(self) -> None:
        await asyncio.sleep(0)
        injected = self.client._next_commit_failure()
        if self.in_transaction:
            if injected == "TransientTransactionError":
                self._rollback()  # as if the server had aborted it
            else:
                self._apply()
        elif not self._committed:
            raise InvalidOperation("No transaction started")
        if injected is not None:
            raise OperationFailure(f"injected commit failure ({injected})", 112, {"errorLabels": [injected]})

    def _apply(self) -> None:
        self._undo = []
        self.in_transaction = False
        self._committed = True  # a repeated commit (after an unknown result) is a no-op

    async def abort_transaction(self) -> None:
        if not self.in_transaction:
            raise InvalidOperation("No transaction started")
        await asyncio.sleep(0)
        self._rollback()

    def _rollback(self) -> None:
        for collection, _id, before in reversed(self._undo):
            if before is None:
                collection.delete_one({"_id": _id})
            else:
                collection.replace_one({"_id": _id}, before, upsert=True)
        self._undo = []
        self.in_transaction = False

    def record(self, collection: mongomock.Collection, _id: Any, before: dict[str, Any] | None) -> None:
        self._undo.append((collection, _id, copy.deepcopy(before)))


class _TransactionContext:
    """Commits on a clean exit, aborts when the block raised."""

    def __init__(self, session: EmulatorSession) -> None:
        self._session = session

    async def __aenter__(self) -> _TransactionContext:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        """Like pymongo: only a transaction still open is committed or aborted here."""
        if not self._session.in_transaction:
            return
        if exc_type is None:
            await self._session.commit_transaction()
        else:
            await self._session.abort_transaction()


def _logging(session: EmulatorSession | None) -> EmulatorSession | None:
    """The session whose undo log a write goes to, if any."""
    return session if session is not None and session.in_transaction else None


class EmulatorCursor:
    """A lazy cursor: ``sort``/``skip``/``limit`` chain, the query runs on iteration."""

    def __init__(self, collection: mongomock.Collection, args: tuple[Any, ...]) -> None:
        self._collection = collection
        self._args = args
        self._sort: list[tuple[str, int]] | None = None
        self._skip = 0
        self._limit = 0

    def sort(self, keys: list[tuple[str, int]]) -> EmulatorCursor:
        self._sort = list(keys)
        return self

    def skip(self, n: int) -> EmulatorCursor:
        self._skip = n
        return self

    def limit(self, n: int) -> EmulatorCursor:
        self._limit = n
        return self

    def _run(self) -> list[dict[str, Any]]:
        cursor = self._collection.find(*self._args)
        if self._sort:
            cursor = cursor.sort(self._sort)
        return list(cursor.skip(self._skip).limit(self._limit))

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        docs = self._run()
        return docs if length is None else docs[:length]

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for doc in await self.to_list():
            yield doc


class EmulatorCollection:
    """Async facade over a mongomock collection that feeds writes to the session's undo log."""

    def __init__(self, collection: mongomock.Collection) -> None:
        self._c = collection

    # ---------------------------------------------------------------- reads

    async def find_one(self, filter: dict[str, Any], projection: Any = None, *, session: Any = None) -> Any:
        await asyncio.sleep(0)
        return self._c.find_one(filter, projection)

    def find(self, filter: dict[str, Any], projection: Any = None, *, session: Any = None) -> EmulatorCursor:
        return EmulatorCursor(self._c, (filter, projection))

    async def count_documents(self, filter: dict[str, Any], *, session: Any = None) -> int:
        await asyncio.sleep(0)
        return self._c.count_documents(filter)

    # --------------------------------------------------------------- writes

    def _before(self, filter: dict[str, Any], many: bool) -> list[dict[str, Any]]:
        docs = list(self._c.find(filter))
        return docs if many else docs[:1]

    def _log(self, session: EmulatorSession | None, befores: Iterable[dict[str, Any]], inserted: Any = None) -> None:
        if session is None:
            return
        for doc in befores:
            session.record(self._c, doc["_id"], doc)
        if inserted is not None:
            session.record(self._c, inserted, None)

    async def insert_one(self, document: dict[str, Any], *, session: Any = None) -> Any:
        await asyncio.sleep(0)
        result = self._c.insert_one(document)
        self._log(_logging(session), (), result.inserted_id)
        return result

    async def update_one(self, filter: dict[str, Any], update: dict[str, Any], upsert: bool = False, *, session: Any = None) -> Any:
        return await self._modify("update_one", filter, update, upsert, session)

    async def replace_one(self, filter: dict[str, Any], replacement: dict[str, Any], upsert: bool = False, *, session: Any = None) -> Any:
        return await self._modify("replace_one", filter, replacement, upsert, session)

    async def _modify(self, op: str, filter: dict[str, Any], change: dict[str, Any], upsert: bool, session: Any) -> Any:
        """``update_one``/``replace_one``: log the before-image of the one document touched."""
        await asyncio.sleep(0)
        log = _logging(session)
        befores = self._before(filter, many=False) if log else []
        result = getattr(self._c, op)(filter, change, upsert=upsert)
        self._log(log, befores, result.upserted_id)
        return result

    async def find_one_and_delete(self, filter: dict[str, Any], *, session: Any = None) -> Any:
        await asyncio.sleep(0)
        log = _logging(session)
        self._log(log, self._before(filter, many=False) if log else [])
        return self._c.find_one_and_delete(filter)

    async def delete_many(self, filter: dict[str, Any], *, session: Any = None) -> Any:
        await asyncio.sleep(0)
        log = _logging(session)
        self._log(log, self._before(filter, many=True) if log else [])
        return self._c.delete_many(filter)

    # -------------------------------------------------------------- indexes

    async def create_index(self, keys: Any, **kwargs: Any) -> str:
        await asyncio.sleep(0)
        return self._c.create_index(keys, **kwargs)

    async def index_information(self) -> dict[str, Any]:
        await asyncio.sleep(0)
        return self._c.index_information()


class EmulatorDatabase:
    def __init__(self, client: EmulatorClient, db: mongomock.Database) -> None:
        self._client = client
        self._db = db

    def __getitem__(self, name: str) -> EmulatorCollection:
        return EmulatorCollection(self._db[name])

    async def command(self, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        if name != "hello":
            raise NotImplementedError(f"emulator: command {name!r}")
        return self._client._hello()


class EmulatorClient:
    """The client MongoStore is given instead of ``AsyncMongoClient``.

    ``replica_set=False`` makes ``hello`` answer like a standalone server (no ``setName``).
    """

    kind = "mongodb-emulator"

    def __init__(self, *, replica_set: bool = True) -> None:
        self._mock = mongomock.MongoClient()
        self._replica_set = replica_set
        self._commit_failures: list[str] = []

    def __getitem__(self, name: str) -> EmulatorDatabase:
        return EmulatorDatabase(self, self._mock[name])

    def start_session(self, **options: Any) -> EmulatorSession:
        return EmulatorSession(self)

    def fail_next_commits(self, label: str, times: int = 1) -> None:
        """Make the next ``times`` commits fail with an error carrying ``label``.

        ``TransientTransactionError``: the transaction is rolled back (as after a write
        conflict). ``UnknownTransactionCommitResult``: it is applied, but the client is
        not told so (as after a network error while committing).
        """
        self._commit_failures.extend([label] * times)

    def _next_commit_failure(self) -> str | None:
        return self._commit_failures.pop(0) if self._commit_failures else None

    def _hello(self) -> dict[str, Any]:
        reply: dict[str, Any] = {"isWritablePrimary": True, "maxWireVersion": 21, "ok": 1.0}
        if self._replica_set:
            reply |= {"setName": "rs0", "hosts": ["emulator:27017"]}
        return reply
