"""Failed sign-ins slow down guessing: 5 failures in 5 minutes lock (client IP, account) out.

Counted per (client IP, account or client id), so one attacker cannot lock a user out from
everywhere and one busy network address does not lock out every account. While locked,
even the right password is refused (429 with ``Retry-After``): otherwise the lock would
tell a guesser when a guess was right.

In memory, per process: each worker counts on its own (with N workers a guesser gets at
most N × 5 tries per window) and a restart forgets. Enough against online guessing at
argon2's pace; a shared counter would need the store on every failure.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable, Hashable

#: failures allowed within the window; the next attempt is refused
LIMIT = 5
#: seconds a failure is remembered
WINDOW = 300.0
#: keys remembered at most (stale ones are dropped first; then the oldest)
MAX_KEYS = 100_000


class FailureLimiter:
    """Sliding window of failure times per key."""

    def __init__(self, limit: int = LIMIT, window: float = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, key: Hashable) -> int | None:
        """Seconds until ``key`` may try again, or ``None`` when it may try now."""
        now = self.clock()
        times = self._recent(key, now)
        if times is None or len(times) < self.limit:
            return None
        # locked until the failure that made it ``limit`` leaves the window
        return max(1, math.ceil(times[-self.limit] + self.window - now))

    def failed(self, key: Hashable) -> None:
        now = self.clock()
        times = self._recent(key, now)
        if times is None:
            if len(self._failures) >= MAX_KEYS:
                self._prune(now)
            times = self._failures[key] = deque(maxlen=self.limit)
        times.append(now)

    def succeeded(self, key: Hashable) -> None:
        """A success (outside a lock) forgets the earlier failures."""
        self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        while len(self._failures) >= MAX_KEYS:
            self._failures.pop(next(iter(self._failures)))
