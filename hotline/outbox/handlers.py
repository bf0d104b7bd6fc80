"""Who acts on which outbox topic. Packages register their handlers at wiring time.

A handler runs inside the transaction that marks the row done, so its database
effects and the row's state commit together. A handler that sends something outside
must key it so that a second run does not send it twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

Handler = Callable[[asyncpg.Connection, dict[str, Any]], Awaitable[None]]

_handlers: dict[str, list[Handler]] = {}


def subscribe(topic: str, handler: Handler) -> None:
    if handler not in _handlers.setdefault(topic, []):
        _handlers[topic].append(handler)


def handlers_for(topic: str) -> list[Handler]:
    return list(_handlers.get(topic, ()))
