"""The relay: moves due outbox rows and deadlines from PostgreSQL into RQ, and folds
the board's count changes (its chores, done in the database itself).

Each pass claims due rows with ``FOR UPDATE SKIP LOCKED`` (so two relays never take
the same row), gives them a lease, and enqueues one job per claimed row. If Redis
refuses, the rows are handed back at once; if the relay dies after claiming, the
lease runs out and another pass takes them again. Jobs are idempotent by row state,
so a row enqueued twice is still carried out once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from rq import Queue

from hotline import leased
from hotline.context import Clock, utcnow
from hotline.deadlines.jobs import run_deadline
from hotline.orders import queries as order_queries
from hotline.orders.searching import fill_missing_words
from hotline.outbox.jobs import run_outbox_row

log = logging.getLogger(__name__)

# What RQ refuses in a job id (it takes letters, digits, _ and -).
_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

# The longest wait between failed passes (Redis or the database away).
RETRY_LONGEST_SECONDS = 5.0


@dataclass(frozen=True)
class Source:
    """One table the relay drains: how its rows are leased, which job runs one."""

    name: str
    lease: leased.Lease
    job: Callable[[int], Any]
    # Timers go to a queue of their own that workers always serve first, so a flood of
    # other work (a surge, a callback campaign) cannot make a deadline late.
    timer: bool = False
    # Slow jobs (a classifier's training: a minute of CPU) go to a queue that only a
    # worker of their own serves (``hotline worker --slow``), so that no order waits
    # behind one for its dispatch.
    slow: bool = False
    # How long one job may run before RQ stops it (None: RQ's default, 180 s); a job
    # that outlives its lease is claimed again meanwhile and must recognise that.
    timeout: int | None = None


CORE_SOURCES = (
    Source("outbox", leased.Lease("outbox", claimed_state="enqueued"), run_outbox_row),
    Source(
        "deadline",
        leased.Lease("deadlines", claimed_state="enqueued", relay_clock=True),
        run_deadline,
        timer=True,
    ),
)


@dataclass(frozen=True)
class Chore:
    """Work the relay does itself on each pass, in the database: ``run(conn, batch)``
    returns how much it did, so that a full batch makes the next pass come at once."""

    name: str
    run: Callable[[asyncpg.Connection, int], Awaitable[int]]
    batch: int


# The board's count changes: a few per order written, folded many at a time. The words
# of the orders written before orders had any (migration 0035), a batch per pass until
# none is left; cut by jieba in a thread, a few milliseconds an order.
CORE_CHORES = (
    Chore("board_counts", order_queries.fold_board_counts, batch=5000),
    Chore("order_words", fill_missing_words, batch=200),
)


class Relay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        queue: Queue,
        *,
        batch: int = 200,
        lease_seconds: int = 60,
        clock: Clock = utcnow,
        sources: tuple[Source, ...] = CORE_SOURCES,
        chores: tuple[Chore, ...] = CORE_CHORES,
        timer_queue: Queue | None = None,
        slow_queue: Queue | None = None,
    ) -> None:
        self.pool = pool
        self.sources = sources
        self.chores = chores
        self.timer_queue = timer_queue or queue
        self.slow_queue = slow_queue or queue
        self.queue = queue
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.clock = clock

    async def run_once(self) -> dict[str, int]:
        """One pass over every source and chore; returns how many rows each enqueued or
        did."""
        counts = {source.name: await self._relay(source) for source in self.sources}
        for chore in self.chores:
            async with self.pool.acquire() as conn:
                counts[chore.name] = await chore.run(conn, chore.batch)
        return counts

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        log.info("relay started (every %.2fs, batches of %d)", interval, self.batch)
        failures = 0
        while not stop.is_set():
            wait = interval
            try:
                counts = await self.run_once()
                failures = 0
                if any(counts[s.name] >= self.batch for s in self.sources) or any(
                    counts[c.name] >= c.batch for c in self.chores
                ):
                    wait = 0  # a full batch means more is waiting: go again at once
            except Exception:
                # Database or Redis away: rows stay in PostgreSQL; try again, less often
                # the longer it lasts (the process never exits for it).
                failures += 1
                wait = min(interval * 2 ** min(failures, 16), RETRY_LONGEST_SECONDS)
                log.exception("relay pass failed (%d in a row); retrying in %.2fs", failures, wait)
            if wait:
                await wait_or_stop(stop, wait)
        log.info("relay stopped")

    async def _relay(self, source: Source) -> int:
        async with self.pool.acquire() as conn:
            claimed = await leased.claim_due(
                conn,
                source.lease,
                now=self.clock(),
                limit=self.batch,
                lease_seconds=self.lease_seconds,
            )
        if not claimed:
            return 0
        try:
            await asyncio.to_thread(self._enqueue, source, claimed)
        except Exception:
            async with self.pool.acquire() as conn:
                await leased.release(conn, source.lease, [row_id for row_id, _ in claimed])
            raise
        return len(claimed)

    def _enqueue(self, source: Source, claimed: list[tuple[int, int]]) -> None:
        queue = self.timer_queue if source.timer else self.slow_queue if source.slow else self.queue
        jobs = [
            Queue.prepare_data(
                source.job,
                args=(row_id,),
                job_id=job_id(source.name, row_id, attempt, self.queue),
                timeout=source.timeout,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
            for row_id, attempt in claimed
        ]
        with queue.connection.pipeline() as pipe:
            queue.enqueue_many(jobs, pipeline=pipe)
            pipe.execute()


def job_id(source: str, row_id: int, attempt: int, queue: Queue) -> str:
    """The RQ job of one claim of a row, e.g. ``outbox-42-1-hotline``. The attempt makes
    each claim its own job: a re-claim after a lost lease must not be mistaken by RQ for
    the job it already has. The (work) queue's name keeps apart the jobs of deployments,
    or test runs, that share one Redis: job records are global to a Redis, and row ids
    repeat across databases."""
    return f"{source}-{row_id}-{attempt}-{_JOB_ID_UNSAFE.sub('_', queue.name)}"


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, or less if ``stop`` is set; returns whether it is."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()
