"""Order-entry suggestions for the agent console (the service item, with the unit routing
would choose for it) and, for supervisors, the classifier's versions and training runs."""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.db import transaction
from hotline.orders.models import Channel
from hotline.reference.cache import reference
from hotline.suggest import queries, urgency
from hotline.suggest.items import PromotedModel, suggest
from hotline.suggest.keywords import Suggester
from hotline.suggest.runs import do_request_training, training
from hotline.users.models import CENTRE_ROLES, SUPERVISOR_ROLES
from routing.rules import first_unit
from web.api import Routes, json_response, path_int, read_query
from web.auth import require_actor
from web.errors import language
from web.keys import CLOCK, POOL, SETTINGS

routes = Routes()

# The web process's keyword suggester (before a first model version) and its promoted
# model version (hot-reloaded).
KEYWORDS = web.AppKey("suggest_keywords", Suggester)
PROMOTED = web.AppKey("suggest_promoted", PromotedModel)
# Versions and runs a supervisor sees.
LISTED = 20


class SuggestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=4000)
    # The dialled hotline and the channel lean the suggestion (96111 → water, billing).
    hotline: str | None = Field(default=None, max_length=16)
    channel: Channel | None = None
    # The area chosen so far: the unit routing would choose depends on it.
    area: str | None = Field(default=None, max_length=16)
    limit: int = Field(default=3, ge=1, le=10)


def setup(app: web.Application) -> None:
    app[KEYWORDS] = Suggester()
    app[PROMOTED] = PromotedModel()


@routes.route(
    "GET",
    "/api/v1/service-items/suggest",
    summary="Service items a description most likely asks for, with probabilities, the "
    "words that weighed and the unit routing would choose",
    tag="console",
    query=SuggestQuery,
    roles=CENTRE_ROLES,
)
async def suggest_item(request: web.Request) -> web.Response:
    criteria = read_query(request, SuggestQuery)
    lang = language(request)
    async with request.app[POOL].acquire() as conn:
        items = await reference.service_items(conn)
        loaded = await request.app[PROMOTED].get(conn)
        answer = await asyncio.to_thread(
            suggest,
            loaded,
            request.app[KEYWORDS],
            criteria.text,
            criteria.hotline,
            criteria.channel,
            items,
            limit=criteria.limit,
            sure_at=request.app[SETTINGS].suggest_sure_at,
        )
        for item in answer["items"]:
            unit = await first_unit(conn, item["code"], criteria.area)
            item["unit"] = unit.as_json(lang) if unit is not None else None
    # 紧急 suggested from the same words: the agent decides, the reason says why.
    answer["urgency"] = urgency.suggest_urgency(criteria.text, lang, urgency.RULES)
    return json_response(answer)


@routes.route(
    "GET",
    "/api/v1/suggest/models",
    summary="The classifier's versions (newest first, with their figures) and training runs",
    tag="console",
    roles=SUPERVISOR_ROLES,
)
async def models(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        versions = await queries.list_models(conn, LISTED)
        runs = await queries.list_trainings(conn, LISTED)
    return json_response(
        {"models": [dict(m) for m in versions], "trainings": [dict(r) for r in runs]}
    )


@routes.route(
    "POST",
    "/api/v1/suggest/trainings",
    summary="Train a new version now (joins a run already waiting)",
    tag="console",
    roles=SUPERVISOR_ROLES,
    statuses={202: "Accepted: the run is queued"},
)
async def request_training(request: web.Request) -> web.Response:
    actor = require_actor(request)
    async with transaction(request.app[POOL]) as conn:
        run = await do_request_training(conn, actor.user_id, request.app[CLOCK]())
    return json_response(dict(run), status=202)


@routes.route(
    "GET",
    "/api/v1/suggest/trainings/{training_id}",
    summary="One training run: waiting, done (with its model version) or failed",
    tag="console",
    roles=SUPERVISOR_ROLES,
)
async def get_training(request: web.Request) -> web.Response:
    training_id = path_int(request, "training_id")
    async with request.app[POOL].acquire() as conn:
        run = await training(conn, training_id)
    return json_response(dict(run))
