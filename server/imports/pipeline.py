"""Episodes from the reader to the store, several at a time, stored in the order they were read.

Why a pipeline: preparing an episode (the value review, the mapping to FHIR and the validation of
its resources) is pure CPU work that can run in worker processes, and storing is a database
transaction that the store can group with its neighbours (SQLite: several concurrent units share
one commit, a savepoint each, so one failing episode still rolls back alone). Keeping a window of
episodes in flight lets both happen; each episode still enters the store after the one read
before it, so the stored versions and the report are the same as one episode at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Generic, Iterable, Mapping, TypeVar

from mappings.bhyt_xml.envelope import BrokenEpisode, Episode, RawHoso, finish_hoso

from ..fhir.bundles import CheckedEntry, check_entries
from .episodes import EpisodeFailed, insurance_bundle, store_bundle
from .targets import Stored, Target

K = TypeVar("K")


@dataclass
class Prepared:
    """An episode ready to store (``bundle``), or why it cannot be (``failure``)."""
    bundle: dict[str, Any] | None = None
    failure: EpisodeFailed | None = None
    warnings: list[str] = field(default_factory=list)
    #: the resource issues of the bundle's entries, computed ahead (None: the store computes them)
    checked: Mapping[int, CheckedEntry] | None = None
    #: the episode's MA_LK once its tables are decoded (a RawHoso does not know it before)
    ma_lk: str | None = None


def prepare_insurance(result: Episode | BrokenEpisode | RawHoso, strict: bool, depth: int | None) -> Prepared:
    """Decode (a RawHoso), review, map and validate one episode (pure: runs in a worker process)."""
    if isinstance(result, RawHoso):
        result = finish_hoso(result)
    warnings: list[str] = []
    try:
        bundle = insurance_bundle(result, strict=strict, warnings=warnings)
    except EpisodeFailed as exc:
        return Prepared(failure=exc, ma_lk=result.ma_lk)
    checked = check_entries(bundle, depth) if depth is not None else None
    return Prepared(bundle, None, warnings, checked, result.ma_lk)


@dataclass
class Outcome(Generic[K]):
    """One episode's end: stored, or failed at a stage."""
    key: K
    prepared: Prepared
    stored: Stored | None = None
    failure: EpisodeFailed | None = None


class StoreInOrder(Generic[K]):
    """Stores prepared episodes with up to ``window`` in flight, each entering the store after
    the one before it, and gives their outcomes back in that order."""

    def __init__(self, target: Target, *, window: int = 8, pool: Executor | None = None,
                 strict: bool = False) -> None:
        self.target = target
        self.window = max(1, window)
        self.pool = pool
        self.strict = strict
        self._flight: deque[asyncio.Task[Outcome[K]]] = deque()
        self._turn: asyncio.Future[None] | None = None  # set when the previous episode entered the store

    async def add(self, key: K, result: Episode | BrokenEpisode | RawHoso) -> list[Outcome[K]]:
        """Start one episode; the outcomes that are settled (oldest first) once the window allows."""
        loop = asyncio.get_running_loop()
        depth = self.target.check_depth
        if self.pool is not None:
            preparing: Any = loop.run_in_executor(self.pool, prepare_insurance, result, self.strict, depth)
        else:
            preparing = prepare_insurance(result, self.strict, depth)
        before, turn = self._turn, loop.create_future()
        self._turn = turn
        self._flight.append(asyncio.create_task(self._one(key, preparing, before, turn)))
        done: list[Outcome[K]] = []
        while len(self._flight) > self.window:
            done.append(await self._flight.popleft())
        return done

    async def drain(self) -> list[Outcome[K]]:
        """Every outcome still in flight, in order."""
        done: list[Outcome[K]] = []
        while self._flight:
            done.append(await self._flight.popleft())
        return done

    async def _one(self, key: K, preparing: Any, before: asyncio.Future[None] | None,
                   turn: asyncio.Future[None]) -> Outcome[K]:
        try:
            prepared = await preparing if asyncio.isfuture(preparing) else preparing
        except Exception as exc:  # a worker that died must fail this episode, not the run
            prepared = Prepared(failure=EpisodeFailed("map", [f"cannot be prepared: {type(exc).__name__}: {exc}"]))
        if before is not None:
            await before
        try:
            if prepared.failure is not None:
                return Outcome(key, prepared, failure=prepared.failure)
            storing = asyncio.ensure_future(store_bundle(self.target, prepared.bundle, prepared.checked))
            await asyncio.sleep(0)  # let it reach the store (it queues there) before the next one starts
            turn.set_result(None)
            try:
                return Outcome(key, prepared, stored=await storing)
            except EpisodeFailed as exc:
                return Outcome(key, prepared, failure=exc)
        finally:
            if not turn.done():
                turn.set_result(None)


async def store_all(target: Target, results: Iterable[tuple[K, Episode | BrokenEpisode]], *, window: int = 8,
                    strict: bool = False) -> AsyncIterator[Outcome[K]]:
    """Every result's outcome, in order (no worker processes: the in-server path)."""
    pipe: StoreInOrder[K] = StoreInOrder(target, window=window, strict=strict)
    for key, result in results:
        for outcome in await pipe.add(key, result):
            yield outcome
    for outcome in await pipe.drain():
        yield outcome
