"""What each package hangs on the extension points of the packages below it: outbox
topics, deadline kinds, inbound SMS answers and extra relay sources. Every process that
runs jobs calls ``subscribe_all``; the web app (``wiring.app``) calls ``subscribe_web``."""

from __future__ import annotations

from callbacks import answers as callback_answers
from callbacks.campaigns import on_order_completed
from callbacks.jobs import callback_source
from hotline.knowledge import service as knowledge
from hotline.orders.lifecycle import ORDER_COMPLETED
from hotline.outbox.handlers import topics
from hotline.relay import CORE_CHORES, CORE_SOURCES, Chore, Source
from hotline.settings import Settings
from hotline.suggest.runs import training_source
from integrations.enterprise_webhooks import handlers as webhook_handlers
from integrations.enterprise_webhooks.delivery import webhook_source
from integrations.exchange.delivery import exchange_source
from integrations.exchange.feed import exchange_chore
from integrations.notifications import service as notifications
from integrations.telephony import intake
from integrations.telephony.jobs import outbound_source
from integrations.tracking import handlers as tracking_handlers
from reports.exports.jobs import expiry_chore, export_source
from reports.periodic.schedule import report_source
from routing import subscribers as routing_subscribers


def subscribe_all() -> None:
    """Subscribe every package's handlers (idempotent)."""
    routing_subscribers.subscribe()
    webhook_handlers.subscribe()
    # SMS to the caller on dispatch and completion, and how each went; the notice before
    # the callback is asked for by the callbacks' scheduling itself.
    notifications.subscribe()
    tracking_handlers.subscribe()
    # Consultations no article answers are the knowledge base's gaps.
    knowledge.subscribe()
    # Live pushes need no subscription: the relay's publisher sends every order event
    # (web/live_publisher.py).
    topics.subscribe(ORDER_COMPLETED, on_order_completed)
    subscribe_web()


def subscribe_web() -> None:
    """What the web process needs too: an SMS answering a survey (integrations cannot
    import callbacks, which imports integrations). Idempotent."""
    intake.sms_answers.subscribe(intake.ANSWER, callback_answers.answer_sms)


def relay_sources() -> tuple[Source, ...]:
    return (
        *CORE_SOURCES,
        webhook_source,
        exchange_source,
        outbound_source,
        callback_source,
        training_source,
        report_source,
        export_source,
    )


def relay_chores(settings: Settings) -> tuple[Chore, ...]:
    """The core's chores and the packages': exports' files removed after their day, the
    exchanged orders' events turned into their platforms' messages."""
    return (*CORE_CHORES, expiry_chore(settings), exchange_chore())
