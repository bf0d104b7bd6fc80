"""How far the event stream may be read without skipping an event that commits late.

``seq`` is taken when a row is inserted, but the row becomes visible when its
transaction commits, in another order. Every insert takes a shared advisory lock before
its seq (migration 0008_live), so after reading the sequence's last value ``S`` and
then the transactions holding that lock, every seq up to ``S`` belongs to one of those
transactions or to one that has already ended. A checkpoint (``S``, those transactions)
is safe once none of them holds the lock: every event up to ``S`` is then committed (and
visible to the next statement) or rolled back for good.
"""

from __future__ import annotations

from collections import deque

import asyncpg

from hotline.stream import queries

# A long transaction that writes events keeps later checkpoints waiting; past this many
# the newest is not kept (a later one covers it: waiting longer, never skipping).
MAX_CHECKPOINTS = 10_000


class Horizon:
    """The highest seq below which the stream is final, advanced one look at a time."""

    def __init__(self, safe: int) -> None:
        self.safe = safe
        self._waiting: deque[tuple[int, frozenset[str]]] = deque()

    async def advance(self, conn: asyncpg.Connection) -> int:
        """Look again (two statements, in this order, outside a transaction); returns the
        new safe seq."""
        allocated = await queries.last_allocated_seq(conn)
        writers = await queries.event_writers(conn)
        return self.observe(allocated, writers)

    def observe(self, allocated: int, writers: frozenset[str]) -> int:
        """Take a checkpoint (``allocated`` read before ``writers``). Checkpoints become
        safe in the order they were taken: a writer that blocks an older one and is still
        running was running when the newer one was taken, so it blocks that one too."""
        if self._waiting and self._waiting[-1][1] == writers:
            # The same writers: both become safe together, the newer covers more.
            self._waiting[-1] = (allocated, writers)
        elif len(self._waiting) < MAX_CHECKPOINTS:
            self._waiting.append((allocated, writers))
        while self._waiting and not self._waiting[0][1] & writers:
            self.safe = max(self.safe, self._waiting.popleft()[0])
        return self.safe
