"""Log in, log out, who am I; the record of login attempts, and unlocking an account."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.board.presence import do_sign_off
from hotline.db import transaction
from hotline.users.models import SUPERVISOR_ROLES, Actor, Role
from hotline.users.service import (
    do_unlock_account,
    list_login_attempts,
    open_session,
)
from hotline.users.throttle import LoginPolicy
from web.api import Routes, json_response, read_body, read_query
from web.auth import ACTOR, CSRF_TOKEN, SESSION_COOKIE, require_actor
from web.keys import CLOCK, POOL, SETTINGS
from web.live import announce_agent_status, announce_logout

routes = Routes()


class LogIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def actor_json(actor: Actor) -> dict[str, object]:
    return {
        "id": actor.user_id,
        "name": actor.name,
        "role": actor.role.value,
        "enterprise_id": actor.enterprise_id,
        "hotline_code": actor.hotline_code,
        # The old name, for API clients that read it: until the next release.
        "hotline": actor.hotline_code,
        # The hotlines whose orders the user sees and registers; null: every hotline.
        "hotline_codes": sorted(actor.hotlines) if actor.hotlines is not None else None,
    }


@routes.route(
    "POST",
    "/api/v1/auth/login",
    summary="Log in; sets the session cookie",
    tag="auth",
    body=LogIn,
    public=True,
    statuses={
        200: "logged in; the body carries the CSRF token",
        401: "wrong username or password",
        403: "the account is locked after too many failed logins (`account_locked`)",
        429: "too many failed logins from this account or address: `Retry-After` says when",
    },
)
async def log_in(request: web.Request) -> web.Response:
    body = await read_body(request, LogIn)
    settings = request.app[SETTINGS]
    session = await open_session(
        request.app[POOL],
        username=body.username,
        password=body.password,
        # The client behind trusted proxies (web/proxy.py has already put it here).
        address=request.remote or "",
        now=request.app[CLOCK](),
        lifetime=dt.timedelta(hours=settings.session_hours),
        policy=LoginPolicy.of(settings),
        user_agent=request.headers.get("User-Agent", ""),
    )
    response = json_response({"user": actor_json(session.actor), "csrf_token": session.csrf_token})
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="Lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


@routes.route(
    "POST",
    "/api/v1/auth/logout",
    summary="Log out; ends the session and sets the agent offline",
    tag="auth",
    statuses={204: "logged out"},
)
async def log_out(request: web.Request) -> web.Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with transaction(request.app[POOL]) as conn:
            offline = await do_sign_off(conn, token, request.app[CLOCK]())
        # After commit: the live connections opened with this session are dropped, and
        # the board hears that the agent is offline.
        await announce_logout(request.app)
        if offline is not None:
            await announce_agent_status(request.app, [offline])
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.route(
    "GET",
    "/api/v1/auth/me",
    summary="The logged-in user, or null without a session",
    tag="auth",
    # The login page asks before anyone has logged in: no session is an answer, not an
    # error (a 401 would show in every fresh browser's console). A bad API key is still
    # refused by the auth middleware.
    public=True,
    statuses={200: "`user` and `csrf_token`, both null when no session is live"},
)
async def me(request: web.Request) -> web.Response:
    actor = request[ACTOR]
    if actor is None:
        return json_response({"user": None, "csrf_token": None})
    return json_response({"user": actor_json(actor), "csrf_token": request.get(CSRF_TOKEN)})


class AttemptsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str | None = Field(default=None, max_length=64, description="one name, any case")
    address: str | None = Field(default=None, max_length=64, description="one client address")
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=40, description="`next_cursor` of a page")


@routes.route(
    "GET",
    "/api/v1/auth/attempts",
    summary="Login attempts, newest first, by cursor: who was tried, from where, what came of it",
    tag="auth",
    query=AttemptsQuery,
    roles=SUPERVISOR_ROLES,
)
async def attempts(request: web.Request) -> web.Response:
    criteria = read_query(request, AttemptsQuery)
    async with request.app[POOL].acquire() as conn:
        rows, next_cursor = await list_login_attempts(
            conn,
            username=criteria.username,
            address=criteria.address,
            cursor=criteria.cursor,
            limit=criteria.limit,
        )
    return json_response({"items": [dict(r) for r in rows], "next_cursor": next_cursor})


class Unlock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)


@routes.route(
    "POST",
    "/api/v1/auth/unlock",
    summary="Lift an account's lock after failed logins and forget its failures",
    tag="auth",
    body=Unlock,
    roles=frozenset({Role.ADMIN}),
    statuses={200: "`unlocked`: whether the account had a lock or failures to forget"},
)
async def unlock(request: web.Request) -> web.Response:
    body = await read_body(request, Unlock)
    async with transaction(request.app[POOL]) as conn:
        unlocked = await do_unlock_account(conn, body.username, by=require_actor(request).user_id)
    return json_response({"username": body.username, "unlocked": unlocked})
