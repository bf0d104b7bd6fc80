"""The RQ worker of ``hotline worker``: RQ's ``SimpleWorker``, kept working through
Redis outages.

RQ rides out an outage only while it waits for a job (it retries the dequeue, backing
off). An outage anywhere else (making the worker, registering it, the bookkeeping before
and after a job, the maintenance between jobs) ends RQ's work loop: it logs "found an
unhandled exception, quitting" and returns, or its teardown raises the connection error,
and the process would exit. ``work`` starts the loop again with a new worker after a
backoff (``RETRY_FIRST_SECONDS`` doubling to ``RETRY_LONGEST_SECONDS``), until the
process is asked to stop.

The job an outage interrupts is neither lost nor carried out twice. Our jobs need no
Redis: one that started runs to its end and commits; only RQ's record of it is lost,
or left "started" until RQ files it as abandoned in its failed-job registry. A job
taken from the queue but not started, or still queued in a Redis that lost its data, has
its row still claimed in PostgreSQL: the relay enqueues it again once the lease runs out
(``HOTLINE_LEASE_SECONDS``). Jobs re-read their row and do nothing when it is done, so
the effect happens once.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 1.0
RETRY_LONGEST_SECONDS = 30.0


class Worker(SimpleWorker):
    """A ``SimpleWorker`` that shares its process's stop request with ``work``."""

    def __init__(self, queues: list[Queue], *, connection: Redis, stopping: threading.Event):
        self.stopping = stopping
        super().__init__(queues, connection=connection)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()
        # RQ writes the request into Redis as well; while Redis is away the worker still
        # stops after its current job, as asked.
        with contextlib.suppress(RedisError):
            super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def check_for_suspension(self, burst: bool) -> None:
        # Called first in each turn of RQ's loop: a stop asked for before RQ installed its
        # signal handlers (while the worker was being made) is taken here.
        if self.stopping.is_set():
            raise StopRequested
        super().check_for_suspension(burst)

    def unsubscribe(self) -> None:
        # RQ unsubscribes, then stops the thread that listens for its commands. If that
        # thread reads the unsubscribe reply first, it goes on to wait for a subscription
        # for a whole minute (its poll time) and the stop waits with it: a warm shutdown
        # that outlasts the grace period. Told to stop first, it ends at that reply.
        self.let_go()
        super().unsubscribe()  # type: ignore[no-untyped-call]

    def let_go(self) -> None:
        """Stop the thread that listens for RQ's commands, which RQ's teardown leaves
        running when Redis fails it."""
        if self.pubsub_thread is not None:
            self.pubsub_thread.stop(timeout=0)


def work(make: Callable[[threading.Event], Worker], *, burst: bool, logging_level: str) -> None:
    """Run workers made by ``make`` (given the process's stop request) until SIGTERM or
    SIGINT, or until the queues are empty with ``burst``."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    def between_workers() -> None:
        # RQ installs its own handlers while it works; these are for the time between.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, request_stop)

    between_workers()
    wait = RETRY_FIRST_SECONDS
    while not stopping.is_set():
        started = time.monotonic()
        worker = None
        try:
            worker = make(stopping)
            worker.work(burst=burst, with_scheduler=True, logging_level=logging_level)
            if burst or stopping.is_set():
                return
            problem = "its work loop quit"
        except RedisError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        finally:
            between_workers()
            if worker is not None:
                worker.let_go()
        if stopping.is_set():
            return
        if time.monotonic() - started > RETRY_LONGEST_SECONDS:
            wait = RETRY_FIRST_SECONDS  # it had been working: not the same outage
        log.warning("worker stopped (%s); working again in %.0f s", problem, wait)
        deadline = time.monotonic() + wait
        while not stopping.is_set() and time.monotonic() < deadline:
            time.sleep(0.1)
        wait = min(wait * 2, RETRY_LONGEST_SECONDS)
