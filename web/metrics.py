"""Prometheus metrics of one web process at ``GET /metrics``.

HTTP requests are counted and timed by route template (``/api/v1/orders/{id}``, never
the raw path, so the number of series stays bounded), method and status. The state of
the system (RQ queue depths, pending and late deadlines and outbox rows, open and
overdue orders, callbacks due) is read when Prometheus scrapes, each figure from an
index, within a time limit; when the database does not answer in time those gauges are
left out and ``hotline_state_up`` is 0. Every web process reports the same state
figures: aggregate them with ``max``, not ``sum``.

With ``HOTLINE_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Iterable

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from rq import Queue

from hotline.fallbacks import Fallbacks
from web import metrics_queries
from web.errors import error_response
from web.keys import FALLBACKS, POOL, REDIS, SETTINGS

log = logging.getLogger(__name__)

STATE_TIMEOUT = 2.0
# A deadline or outbox row still waiting this long after it fell due counts as late:
# the relay takes due rows every quarter second, so minutes mean something is stuck.
LATE_AFTER_SECONDS = 60.0
UNMATCHED = "unmatched"


class StateCollector(Collector):
    """Gauges computed at scrape time: the view sets them, then renders at once."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        return list(self.families)

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to read when the registry is built


class FallbackCollector(Collector):
    """How often the application carried on without a dependency, by fallback
    (``hotline.fallbacks``; e.g. ``ratelimit_open``: rate limits let through while Redis
    was away)."""

    def __init__(self, fallbacks: Fallbacks) -> None:
        self.fallbacks = fallbacks

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "hotline_fallbacks",
            "Times a dependency failed and the process carried on without it, by fallback",
            labels=["fallback"],
        )
        for name, count in sorted(self.fallbacks.counts().items()):
            family.add_metric([name], count)
        return [family]

    def describe(self) -> Iterable[Metric]:
        return []


class Metrics:
    """One process's registry (not the library's global one: tests build many apps)."""

    def __init__(self, fallbacks: Fallbacks) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hotline_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hotline_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            ["route", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.state = StateCollector()
        self.registry.register(self.state)
        self.registry.register(FallbackCollector(fallbacks))


METRICS = web.AppKey("metrics", Metrics)


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts and times every request; the outermost middleware, so an error answered
    by the error middleware is counted with its real status."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away before the answer
        raise
    finally:
        metrics = request.app[METRICS]
        route = route_template(request)
        metrics.requests.labels(route, request.method, str(status)).inc()
        metrics.latency.labels(route, request.method).observe(time.perf_counter() - started)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


async def _database_families(pool: asyncpg.Pool) -> list[Metric]:
    async with pool.acquire(timeout=STATE_TIMEOUT) as conn:
        counts = await metrics_queries.backlog_counts(
            conn, late_seconds=LATE_AFTER_SECONDS, statement_seconds=STATE_TIMEOUT
        )
        due = (
            await metrics_queries.callbacks_due(conn, statement_seconds=STATE_TIMEOUT)
            if counts["has_callbacks"]
            else None
        )
    late = f"due more than {LATE_AFTER_SECONDS:.0f} s ago"
    families: list[Metric] = [
        _gauge("hotline_deadlines_pending", "Deadlines not yet fired", counts["deadlines_pending"]),
        _gauge("hotline_deadlines_late", f"Deadlines {late}, not fired", counts["deadlines_late"]),
        _gauge("hotline_outbox_pending", "Outbox rows not yet done", counts["outbox_pending"]),
        _gauge("hotline_outbox_late", f"Outbox rows {late}, not done", counts["outbox_late"]),
        _gauge("hotline_orders_open", "Orders someone still works on", counts["orders_open"]),
        _gauge(
            "hotline_orders_overdue",
            "Open orders past their resolution due time",
            counts["orders_overdue"],
        ),
        _gauge(
            "hotline_board_changes_pending",
            "Board count changes the relay has not folded yet",
            counts["board_changes_pending"],
        ),
    ]
    if due is not None:
        families.append(_gauge("hotline_callbacks_due", "Callback attempts due, not placed", due))
    return families


async def _queue_family(redis: aioredis.Redis, names: list[str]) -> Metric:
    family = GaugeMetricFamily(
        "hotline_rq_queue_jobs", "Jobs waiting in an RQ queue", labels=["queue"]
    )
    for name in names:
        depth = await redis.llen(Queue.redis_queue_namespace_prefix + name)
        family.add_metric([name], depth)
    return family


async def metrics_view(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if settings.metrics_token is not None:
        token = settings.metrics_token.get_secret_value()
        sent = request.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            return error_response(request, 401, "not_authenticated", "send the metrics token")
    families: list[Metric] = []
    up = 1
    try:
        families += await asyncio.wait_for(_database_families(request.app[POOL]), STATE_TIMEOUT)
    except Exception as exc:
        log.warning("metrics: the database state could not be read (%s)", type(exc).__name__)
        up = 0
    try:
        queues = [settings.timer_queue_name, settings.queue_name, settings.slow_queue_name]
        families.append(
            await asyncio.wait_for(_queue_family(request.app[REDIS], queues), STATE_TIMEOUT)
        )
    except Exception as exc:
        log.warning("metrics: the queue depths could not be read (%s)", type(exc).__name__)
        up = 0
    families.append(_gauge("hotline_state_up", "1 if every state gauge could be read", up))
    metrics = request.app[METRICS]
    # No await between setting the figures and rendering them: scrapes cannot mix.
    metrics.state.families = families
    body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def setup_metrics(app: web.Application) -> None:
    """The registry and ``GET /metrics``; ``metrics_middleware`` goes first in the app's
    middlewares."""
    app[METRICS] = Metrics(app[FALLBACKS])
    app.router.add_get("/metrics", metrics_view)
