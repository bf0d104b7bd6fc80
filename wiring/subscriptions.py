"""What each package hangs on the core's extension points: outbox topics, deadline
kinds and extra relay sources. Every process that runs jobs calls ``subscribe_all``."""

from __future__ import annotations

from callbacks import answers as callback_answers
from callbacks.campaigns import on_order_completed
from callbacks.jobs import callback_source
from hotline.orders.service import ORDER_COMPLETED
from hotline.outbox.handlers import topics
from hotline.relay import CORE_SOURCES, Source
from integrations.enterprise_webhooks import handlers as webhook_handlers
from integrations.enterprise_webhooks.delivery import webhook_source
from integrations.telephony import intake
from integrations.telephony.jobs import outbound_source
from routing import subscribers as routing_subscribers


def subscribe_all() -> None:
    """Subscribe every package's handlers (idempotent)."""
    routing_subscribers.subscribe()
    webhook_handlers.subscribe()
    # Live pushes need no subscription: the relay's publisher sends every order event
    # (web/live_publisher.py).
    topics.subscribe(ORDER_COMPLETED, on_order_completed)
    connect_hooks()


def connect_hooks() -> None:
    """Hooks the web process needs too: an SMS answering a survey (integrations cannot
    import callbacks, which imports integrations)."""
    intake.connect_survey_answer(callback_answers.answer_sms)


def relay_sources() -> tuple[Source, ...]:
    return (*CORE_SOURCES, webhook_source, outbound_source, callback_source)
