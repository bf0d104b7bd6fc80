"""Who acts on which outbox topic.

A handler runs inside the transaction that marks the row done, so its database
effects and the row's state commit together. A handler that sends something outside
must key it so that a second run does not send it twice. It gets the job's context
(settings, clock, caches) from the job that runs it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from hotline.context import JobContext
from hotline.registry import HandlerRegistry

Handler = Callable[[asyncpg.Connection, dict[str, Any], JobContext], Awaitable[None]]

topics: HandlerRegistry[Handler] = HandlerRegistry()
