"""Storing AuditEvents: with the writes they describe, or batched in the background for reads.

A write's event goes into the same unit of work (:meth:`AuditTrail.write_in`), so it exists
exactly when the write does. A read's event must not cost the reader a commit: it is queued
(:meth:`record`, or :meth:`record_later` to build it off the request path too) and a
background task stores the queue in one unit of work per batch, at most ``delay`` seconds
after the first event waits. On a store failure the batch is kept and tried again. What is
queued when the process dies (at most ``delay`` seconds of reads) is lost; a clean shutdown
flushes (:meth:`stop`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from ..fhir.ids import new_id
from ..storage.base import Store, Tx, Write

log = logging.getLogger("lienthong.audit")

Prepare = Callable[..., tuple[Write, dict[str, Any]]]
Pending = dict[str, Any] | Callable[[], dict[str, Any]]


class AuditTrail:
    """``repo_prepare`` is :meth:`Repository.prepare`: events are stamped and indexed like any
    resource. ``store`` is the raw store (no client's rules apply to the server's own writes).
    ``batch``: most events per unit of work; ``delay``: longest wait for a batch to gather;
    ``backlog``: queued events beyond which :meth:`record` waits for the writer. ``enabled``
    False (only to measure the trail's cost) makes every method a no-op."""

    #: failed attempts at storing a batch after which :meth:`stop` gives up (logged), so a
    #: dead store cannot keep the process from ending; while running, retries never stop
    STOP_ATTEMPTS = 10
    #: pause after a failed batch, times the number of failures in a row (at most 5 s)
    RETRY_PAUSE = 0.5

    def __init__(self, store: Store, repo_prepare: Prepare, *, enabled: bool = True, batch: int = 500, delay: float = 0.05, backlog: int = 20_000) -> None:
        self.store = store
        self.prepare = repo_prepare
        self.enabled = enabled
        self.batch = batch
        self.delay = delay
        #: queued events beyond which readers wait for the writer (memory stays bounded, nothing is dropped)
        self.backlog = backlog
        self._drained: asyncio.Event | None = None
        self._queue: list[Pending] = []
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._failures = 0

    def start(self) -> None:
        """Start the background writer now (the first :meth:`record` starts it too, so an app
        whose lifespan never ran still stores its events). Outside an event loop: nothing."""
        if not self.enabled:
            return
        try:
            self._ensure_task(asyncio.get_running_loop())
        except RuntimeError:
            pass

    def _ensure_task(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._wake, self._idle, self._drained = asyncio.Event(), asyncio.Event(), asyncio.Event()
            self._task = loop.create_task(self._run(), name="audit-trail")

    def event_write(self, event: dict[str, Any]) -> Write:
        """The write that stores ``event`` as a new AuditEvent (for a caller's unit of work)."""
        return self.prepare("AuditEvent", new_id(), event)[0]

    async def write_in(self, tx: Tx, event: dict[str, Any]) -> None:
        """Store ``event`` now, inside the caller's unit of work (raw: no client rules apply)."""
        if self.enabled:
            await tx.write(self.event_write(event))

    async def record(self, event: dict[str, Any]) -> None:
        """Queue ``event``; it is stored within about ``delay`` seconds. Never raises."""
        await self._enqueue(event)

    async def record_later(self, build: Callable[[], dict[str, Any]]) -> None:
        """Queue an event that ``build`` makes in the background (keeps its cost off the request)."""
        await self._enqueue(build)

    async def _enqueue(self, item: Pending) -> None:
        if not self.enabled:
            return
        try:
            self._queue.append(item)
            self._ensure_task(asyncio.get_running_loop())
            assert self._wake is not None and self._idle is not None and self._drained is not None
            self._idle.clear()
            self._wake.set()
            drained = self._drained
        except Exception:  # the audit trail never turns a served request into an error
            log.exception("an audit event could not be queued")
            return
        if len(self._queue) > self.backlog:  # the writer is behind: wait for it rather than grow
            drained.clear()
            await drained.wait()

    async def _run(self) -> None:
        assert self._wake is not None and self._idle is not None
        while True:
            if not self._queue:
                self._idle.set()
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if not self._stopping and len(self._queue) < self.batch:
                await asyncio.sleep(self.delay)  # let a batch gather (not when one is waiting already)
            items, self._queue = self._queue[: self.batch], self._queue[self.batch:]
            if len(self._queue) <= self.backlog // 2 and self._drained is not None:
                self._drained.set()
            try:
                await self._store(items)
                self._failures = 0
            except Exception:
                self._failures += 1
                if self._stopping and self._failures >= self.STOP_ATTEMPTS:
                    log.exception("could not store %d audit events at shutdown after %d attempts; they are lost",
                                  len(items) + len(self._queue), self._failures)
                    self._queue.clear()
                    if self._drained is not None:
                        self._drained.set()
                    continue
                log.exception("could not store %d audit events; retrying", len(items))
                self._queue[:0] = items
                await asyncio.sleep(min(self.RETRY_PAUSE * self._failures, 5.0))

    async def _store(self, items: list[Pending]) -> None:
        writes = []
        for item in items:
            try:
                writes.append(self.event_write(item() if callable(item) else item))
            except Exception:  # an event that cannot be built must not block the others
                log.exception("an audit event could not be built and is dropped")

        if writes:  # every event is a new resource: the store's bulk path (one unit, few statements)
            await self.store.bulk_load(writes)

    async def flush(self) -> None:
        """Wait until everything queued so far is stored."""
        if not self.enabled:
            return
        if self._queue:
            self._ensure_task(asyncio.get_running_loop())
        if self._task is not None and not self._task.done() and self._idle is not None:
            await self._idle.wait()

    async def stop(self) -> None:
        """Store what is queued, then end the background task."""
        if self.enabled and self._queue:
            self._ensure_task(asyncio.get_running_loop())
        if self._task is None or self._task.done():
            return
        self._stopping = True
        assert self._wake is not None
        self._wake.set()
        try:
            await self._task
        finally:
            self._stopping = False
