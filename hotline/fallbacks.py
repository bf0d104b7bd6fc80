"""Fallbacks: what a process does instead when a dependency it can do without (Redis,
for the rate limits and the live channel) does not answer.

Each time it happens is counted (the web process exports the counts as
``hotline_fallbacks_total``) and logged, but at most once per ``LOG_EVERY_SECONDS``
while it lasts, with how many times it happened meanwhile: an outage under a flood of
requests must not flood the log as well. When the dependency answers again, one line
says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

LOG_EVERY_SECONDS = 60.0
REDIS_TIMEOUT_SECONDS = 1.0


def fail_fast_redis(timeout: float = REDIS_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Options for an asyncio Redis client whose callers carry on without Redis (rate
    limits, the live publisher): wait ``timeout`` at most to connect and for an answer,
    and retry once at once (a pooled connection that died with a restarted Redis is
    replaced). redis-py's defaults (5 s, ten retries with backoff) would hold a webhook
    for many seconds, up to a minute, on a Redis that is down."""
    return {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "retry": Retry(NoBackoff(), 1),
    }


class Fallback:
    """One way of carrying on without a dependency, e.g. rate limits that let requests
    through while Redis is away."""

    def __init__(
        self,
        name: str,
        message: str,
        *,
        log: logging.Logger,
        log_every: float = LOG_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.message = message
        self.count = 0  # times it happened since the process started
        self._log = log
        self._log_every = log_every
        self._clock = clock
        self._active = False
        self._logged_at = 0.0
        self._unlogged = 0
        self._failed_at = 0.0
        self._error: BaseException | None = None

    def happened(self, error: BaseException) -> None:
        """The dependency failed (``error``) and the fallback was taken."""
        self._failed_at, self._error = self._clock(), error
        self._taken(error)

    def failed_within(self, seconds: float) -> bool:
        """Whether the dependency failed less than ``seconds`` ago and has not answered
        since: a caller may then skip it (``skipped``) rather than wait on it once more."""
        return self._active and self._clock() - self._failed_at < seconds

    def skipped(self) -> None:
        """The fallback was taken without asking the dependency (it failed just now)."""
        assert self._error is not None, "skipped only after a failure"
        self._taken(self._error)

    def _taken(self, error: BaseException) -> None:
        self.count += 1
        self._unlogged += 1
        now = self._clock()
        if not self._active or now - self._logged_at >= self._log_every:
            self._log.warning(
                "%s (%s: %s; %d time(s) since the last such line)",
                self.message,
                type(error).__name__,
                error,
                self._unlogged,
            )
            self._active, self._logged_at, self._unlogged = True, now, 0

    def ended(self) -> None:
        """The dependency answered again; cheap to call on every success."""
        if self._active:
            self._active = False
            self._log.warning("%s: no longer (the dependency answers again)", self.name)


class Fallbacks:
    """The fallbacks of one application, by name, for its metrics."""

    def __init__(self) -> None:
        self._by_name: dict[str, Fallback] = {}

    def get(self, name: str, message: str, *, log: logging.Logger) -> Fallback:
        """The fallback called ``name``, made on first use."""
        if name not in self._by_name:
            self._by_name[name] = Fallback(name, message, log=log)
        return self._by_name[name]

    def counts(self) -> dict[str, int]:
        return {name: fallback.count for name, fallback in self._by_name.items()}
