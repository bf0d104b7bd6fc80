"""How current the reports' data is: for a report page's "data as of …"."""

from __future__ import annotations

import dataclasses

from aiohttp import web

from hotline.users.models import ENTERPRISE_ROLES, SUPERVISOR_ROLES
from reports.reading import freshness
from web.api import Routes, json_response
from web.keys import CLOCK, READ_POOL, SETTINGS

routes = Routes()


@routes.route(
    "GET",
    "/api/v1/reports/freshness",
    summary="How current the data reports read is: the replica's lag, or now on the primary",
    tag="reports",
    roles=SUPERVISOR_ROLES | ENTERPRISE_ROLES,
)
async def reports_freshness(request: web.Request) -> web.Response:
    """``replica``: read from a streaming replica; ``as_of``: everything committed before
    it is in the reports (null: unknown, a replica that has replayed nothing since it
    started); ``lag_seconds``: how far that is behind now; ``fallback``: a replica is set
    but could not be reached, and reports read the primary."""
    async with request.app[READ_POOL].acquire() as conn:
        current = await freshness(
            conn,
            request.app[CLOCK](),
            replica_configured=request.app[SETTINGS].read_database_url is not None,
        )
    return json_response(dataclasses.asdict(current))
