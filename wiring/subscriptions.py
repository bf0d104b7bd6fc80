"""What each package hangs on the core's extension points: outbox topics, deadline
kinds and extra relay sources. Every process that runs jobs calls ``subscribe_all``."""

from __future__ import annotations

from agents_ui import live
from hotline.outbox.handlers import topics
from hotline.relay import CORE_SOURCES, Source
from integrations.enterprise_webhooks import handlers as webhook_handlers
from integrations.enterprise_webhooks.delivery import webhook_source
from integrations.telephony.jobs import outbound_source
from routing import subscribers as routing_subscribers


def subscribe_all() -> None:
    """Subscribe every package's handlers (idempotent)."""
    routing_subscribers.subscribe()
    webhook_handlers.subscribe()
    topics.subscribe("dispatch.created", live.push_dispatch)
    topics.subscribe("notice.created", live.push_notice)
    topics.subscribe("order.drafted", live.push_draft)


def relay_sources() -> tuple[Source, ...]:
    return (*CORE_SOURCES, webhook_source, outbound_source)
