"""The area (district and street) suggested from the address a citizen gives, asked by
the order entry while the agent types."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.suggest.areas import suggest_area
from hotline.users.models import CENTRE_ROLES
from web.api import Routes, json_response, read_query
from web.errors import language
from web.keys import POOL

routes = Routes()


class AreaSuggestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    address: str = Field(default="", max_length=300)
    phone: str | None = Field(default=None, min_length=1, max_length=32)


@routes.route(
    "GET",
    "/api/v1/areas/suggest",
    summary="The district and street an address lies in: from the caller's history, the "
    "centre's orders naming its road, the seed road list, or a district it names",
    tag="console",
    query=AreaSuggestQuery,
    roles=CENTRE_ROLES,
)
async def suggest(request: web.Request) -> web.Response:
    criteria = read_query(request, AreaSuggestQuery)
    async with request.app[POOL].acquire() as conn:
        found = await suggest_area(conn, criteria.address, criteria.phone)
    return json_response(found.to_json(language(request)))
