"""A request whose database connection went away before it committed is tried once more.

The pool replaces a connection the server dropped (a restart, a fail-over, an
administrator's ``pg_terminate_backend``) the next time it is acquired, but a request
that was using it at that moment fails. If that request never asked for a commit it left
nothing behind, so running it again on a fresh connection is safe and the caller sees an
answer instead of an error. A request that had asked for a commit is not run again (its
outcome is unknown); it answers 503 (``web/errors.py``), which webhook senders retry and
which the intake's deduplication makes safe.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from hotline import db

log = logging.getLogger(__name__)


@web.middleware
async def reconnect_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # A streamed multipart body (the public form, attachments) cannot be read twice.
    if request.content_type == "multipart/form-data":
        return await handler(request)
    with db.attempt() as first:
        try:
            return await handler(request)
        except Exception as exc:
            if first.committing or not db.lost_connection(exc):
                raise
    log.warning("%s %s lost its database connection; trying it again", request.method, request.path)
    return await handler(request)
