"""What each package hangs on the core's extension points: outbox topics, deadline
kinds and extra relay sources. Every process that runs jobs calls ``subscribe_all``."""

from __future__ import annotations

from hotline.relay import CORE_SOURCES, Source


def subscribe_all() -> None:
    """Subscribe every package's handlers (idempotent)."""


def relay_sources() -> tuple[Source, ...]:
    return CORE_SOURCES
