"""Hot issues for supervisors (热点难点, docs/reports.md "Hot issues"): what rises, the
heat table of district × item, a key's trend, repeats by address and caller, orders
reopened more than once and the most frequent words. Each list is rows of named
columns; all of them read the read pool (a replica when one is set)."""

from __future__ import annotations

from typing import Literal, TypeVar

from aiohttp import web
from pydantic import Field

from hotline.users.models import SUPERVISOR_ROLES
from reports.hot import service
from reports.hot.service import HotQuery
from reports.periodic.periods import Period
from web.api import Routes, json_response, read_query
from web.auth import require_actor
from web.keys import READ_POOL

routes = Routes()

# What rises is judged per item, district or street; a trend is also drawn for one
# district's item (a cell of the heat table).
Rising = Literal["item", "district", "street"]
Dimension = Literal["item", "district", "street", "area_item"]


class RisingQuery(HotQuery):
    dimension: Rising = "item"


class HeatQuery(HotQuery):
    items: int = Field(default=service.HEAT_ITEMS, ge=1, le=30)


class TrendQuery(HotQuery):
    dimension: Dimension = "item"
    key: str = Field(min_length=1, max_length=80)


class RepeatQuery(HotQuery):
    kind: Literal["address", "caller"] = "address"
    min_orders: int = Field(default=3, ge=2, le=1000)


Q = TypeVar("Q", bound=HotQuery)


def _asked(request: web.Request, model: type[Q]) -> tuple[Q, Period, list[str] | None]:
    """The query, its period and the hotlines it reads: the one asked, within those the
    supervisor sees (403 ``not_your_hotline`` outside them)."""
    query = read_query(request, model)
    period = service.period_of(query.first_day, query.last_day)
    return query, period, service.hotlines_read(require_actor(request), query.hotline)


@routes.route(
    "GET",
    "/api/v1/reports/hot/rising",
    summary="What rises: keys unusually high against their own baseline",
    tag="reports",
    query=RisingQuery,
    roles=SUPERVISOR_ROLES,
)
async def rising(request: web.Request) -> web.Response:
    query, period, hotlines = _asked(request, RisingQuery)
    async with request.app[READ_POOL].acquire() as conn:
        found = await service.rising(conn, period, query.dimension, hotlines, limit=query.limit)
    return json_response(found)


@routes.route(
    "GET",
    "/api/v1/reports/hot/heat",
    summary="The heat table: orders per district and busiest item, with the hot cells",
    tag="reports",
    query=HeatQuery,
    roles=SUPERVISOR_ROLES,
)
async def heat(request: web.Request) -> web.Response:
    query, period, hotlines = _asked(request, HeatQuery)
    async with request.app[READ_POOL].acquire() as conn:
        cells = await service.heat(conn, period, hotlines, items=query.items)
    return json_response({"items": cells})


@routes.route(
    "GET",
    "/api/v1/reports/hot/trend",
    summary="One key's orders per day over the period and its baseline",
    tag="reports",
    query=TrendQuery,
    roles=SUPERVISOR_ROLES,
)
async def trend(request: web.Request) -> web.Response:
    query, period, hotlines = _asked(request, TrendQuery)
    async with request.app[READ_POOL].acquire() as conn:
        found = await service.trend(conn, period, query.dimension, query.key, hotlines)
    return json_response(found)


@routes.route(
    "GET",
    "/api/v1/reports/hot/repeats",
    summary="Addresses or callers with several orders in the period",
    tag="reports",
    query=RepeatQuery,
    roles=SUPERVISOR_ROLES,
)
async def repeats(request: web.Request) -> web.Response:
    query, period, hotlines = _asked(request, RepeatQuery)
    async with request.app[READ_POOL].acquire() as conn:
        rows = await service.repeats(
            conn, period, query.kind, hotlines, min_orders=query.min_orders, limit=query.limit
        )
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "GET",
    "/api/v1/reports/hot/reopened",
    summary="Orders of the period reopened more than once",
    tag="reports",
    query=HotQuery,
    roles=SUPERVISOR_ROLES,
)
async def reopened(request: web.Request) -> web.Response:
    query, period, hotlines = _asked(request, HotQuery)
    async with request.app[READ_POOL].acquire() as conn:
        rows = await service.reopened(conn, period, hotlines, limit=query.limit)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "GET",
    "/api/v1/reports/hot/words",
    summary="The most frequent words of the period's descriptions, with the period before",
    tag="reports",
    query=HotQuery,
    roles=SUPERVISOR_ROLES,
)
async def words(request: web.Request) -> web.Response:
    query, period, hotlines = _asked(request, HotQuery)
    async with request.app[READ_POOL].acquire() as conn:
        rows = await service.words(conn, period, hotlines, limit=query.limit)
    return json_response({"items": [dict(r) for r in rows]})
