"""A map from a key (an outbox topic, a deadline kind) to the handlers subscribed to it.

Packages subscribe at wiring time; the jobs look handlers up when they run.
"""

from __future__ import annotations

from typing import Generic, TypeVar

H = TypeVar("H")


class HandlerRegistry(Generic[H]):
    def __init__(self) -> None:
        self._handlers: dict[str, list[H]] = {}

    def subscribe(self, key: str, handler: H) -> None:
        """Add ``handler`` for ``key``; subscribing the same handler twice is one."""
        handlers = self._handlers.setdefault(key, [])
        if handler not in handlers:
            handlers.append(handler)

    def handlers_for(self, key: str) -> list[H]:
        return list(self._handlers.get(key, ()))
