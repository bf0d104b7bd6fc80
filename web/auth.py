"""Who is calling: a session cookie (browsers, with CSRF) or an API key (enterprise systems)."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from hotline.errors import Forbidden, NotAuthenticated
from hotline.users.models import Actor, Role
from hotline.users.service import API_KEY_PREFIX, api_key_actor, session_actor
from web.errors import error_response
from web.keys import CLOCK, POOL, SETTINGS

SESSION_COOKIE = "hotline_session"
CSRF_HEADER = "X-CSRF-Token"
ACTOR: web.RequestKey[Actor | None] = web.RequestKey("actor")
CSRF_TOKEN: web.RequestKey[str] = web.RequestKey("csrf_token")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _api_key(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and header[7:].startswith(API_KEY_PREFIX):
        return header[7:].strip()
    return request.headers.get("X-Api-Key")


def _origin_allowed(request: web.Request) -> bool:
    """Browsers send Origin on unsafe requests; it must be this site."""
    origin = request.headers.get("Origin")
    if not origin:
        return True
    allowed = {urlsplit(request.app[SETTINGS].base_url).netloc, request.host}
    return urlsplit(origin).netloc in allowed


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[ACTOR] = None
    if not request.path.startswith("/api/"):
        return await handler(request)
    now = request.app[CLOCK]()
    key = _api_key(request)
    token = request.cookies.get(SESSION_COOKIE)
    if key:
        async with request.app[POOL].acquire() as conn:
            request[ACTOR] = await api_key_actor(conn, key, now)
        if request[ACTOR] is None:
            return error_response(request, 401, "bad_api_key", "the API key is unknown or revoked")
    elif token:
        async with request.app[POOL].acquire() as conn:
            found = await session_actor(conn, token, now)
        if found is not None:
            request[ACTOR], csrf = found
            request[CSRF_TOKEN] = csrf
            if request.method not in _SAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER, "")
                if not hmac.compare_digest(sent, csrf):
                    return error_response(
                        request,
                        403,
                        "csrf_failed",
                        "send the session's CSRF token in {header}",
                        header=CSRF_HEADER,
                    )
    if request.method not in _SAFE_METHODS and not _origin_allowed(request):
        return error_response(request, 403, "bad_origin", "requests from another site are refused")
    return await handler(request)


def require_actor(request: web.Request, roles: frozenset[Role] | None = None) -> Actor:
    actor = request[ACTOR]
    if actor is None:
        raise NotAuthenticated("log in first")
    if roles is not None and actor.role not in roles:
        raise Forbidden("your role may not do this", code="role_forbidden")
    return actor
