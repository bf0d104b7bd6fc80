"""A request whose database connection went away before it committed is tried once more.

The pool replaces a connection the server dropped (a restart, a fail-over, an
administrator's ``pg_terminate_backend``) the next time it is acquired, but a request
that was using it at that moment fails. If that request never asked for a commit it left
nothing behind, so running it again on a fresh connection is safe and the caller sees an
answer instead of an error. A request that had asked for a commit has an unknown
outcome: it is run again only if its operation is replayable (a webhook whose deliveries
are deduplicated, so a second run finds the first's work); otherwise it answers 503
(``web/errors.py``) and its sender decides.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from hotline import db
from web.keys import POOL, REPLAYABLE

log = logging.getLogger(__name__)


@web.middleware
async def reconnect_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # A streamed multipart body (the public form, attachments) cannot be read twice.
    if request.content_type == "multipart/form-data":
        return await handler(request)
    replayable = request.match_info.route in request.app[REPLAYABLE]
    with db.attempt() as first:
        try:
            return await handler(request)
        except Exception as exc:
            if (first.committing and not replayable) or not db.lost_connection(exc):
                raise
    log.warning("%s %s lost its database connection; trying it again", request.method, request.path)
    # What dropped this connection (a restart, a fail-over) dropped the pool's others too,
    # but an idle one learns of it only when next used: open new ones for the second try.
    await request.app[POOL].expire_connections()
    return await handler(request)
