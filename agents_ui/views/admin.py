"""The administrators' API (issue 19): users, enterprises' API keys, callers with a
profile, and the record of administrators' changes. Admins only; every change is
recorded in ``admin_changes`` by the functions it calls (``hotline.users.admin``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.audit import list_changes
from hotline.callers.queries import search_citizens
from hotline.db import transaction
from hotline.users import admin, queries
from hotline.users.models import Role
from hotline.users.service import (
    do_create_api_key,
    do_create_user,
    do_unlock_account,
    generate_password,
    hash_token,
)
from web.api import Routes, json_response, path_int, read_body, read_query
from web.auth import SESSION_COOKIE, require_actor
from web.keys import CLOCK, POOL
from web.live import announce_logout

routes = Routes()

ADMIN = frozenset({Role.ADMIN})
USER_PATH = r"/api/v1/admin/users/{user_id:\d+}"
KEYS_PATH = r"/api/v1/admin/enterprises/{enterprise_id:\d+}/api-keys"


def _by(request: web.Request) -> int | None:
    return require_actor(request, ADMIN).user_id


class UserSearch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    q: str | None = Field(default=None, max_length=64, description="part of a name")
    role: Role | None = None
    hotline: str | None = Field(default=None, max_length=20, description="works for it")
    enterprise_id: int | None = Field(default=None, ge=1)
    active: bool | None = None
    limit: int = Field(default=200, ge=1, le=1000)


@routes.route(
    "GET",
    "/api/v1/admin/users",
    summary="Users by name, role, hotline, enterprise and state, with lock and sessions",
    tag="admin",
    query=UserSearch,
    roles=ADMIN,
)
async def list_users(request: web.Request) -> web.Response:
    criteria = read_query(request, UserSearch)
    async with request.app[POOL].acquire() as conn:
        rows = await queries.search_users(
            conn,
            now=request.app[CLOCK](),
            text=criteria.q or None,
            role=criteria.role.value if criteria.role else None,
            hotline_code=criteria.hotline or None,
            enterprise_id=criteria.enterprise_id,
            active=criteria.active,
            limit=criteria.limit,
        )
    return json_response({"items": [admin.admin_user_json(r) for r in rows]})


@routes.route(
    "POST",
    "/api/v1/admin/users",
    summary="Make a user; a password not given is generated and answered only now",
    tag="admin",
    body=admin.NewUser,
    roles=ADMIN,
    statuses={
        201: "`user`, and `password` when it was generated (shown once)",
        409: "`username_taken`: the name is in use (any case)",
        422: "`invalid_user`: the fields at fault (role and enterprise, hotlines, password)",
    },
)
async def create_user(request: web.Request) -> web.Response:
    body = await read_body(request, admin.NewUser)
    password = body.password if body.password is not None else generate_password()
    async with transaction(request.app[POOL]) as conn:
        row = await do_create_user(
            conn,
            username=body.username,
            password=password,
            role=body.role.value,
            display_name=body.display_name,
            enterprise_code=body.enterprise_code or None,
            hotline_code=body.hotline_code or None,
            hotlines=body.hotlines,
            by=_by(request),
        )
        user = await admin.user_for_change(conn, row["id"], request.app[CLOCK]())
    return json_response(
        # Only a generated password is answered: the one given is known already.
        {"user": admin.admin_user_json(user), "password": None if body.password else password},
        status=201,
    )


@routes.route("GET", USER_PATH, summary="One user", tag="admin", roles=ADMIN)
async def get_user(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        row = await queries.admin_user(conn, path_int(request, "user_id"), request.app[CLOCK]())
    if row is None:
        raise web.HTTPNotFound()
    return json_response(admin.admin_user_json(row))


@routes.route(
    "PATCH",
    USER_PATH,
    summary="Change a user's display name, role, enterprise or hotlines",
    tag="admin",
    body=admin.UserEdit,
    roles=ADMIN,
    statuses={
        200: "the user",
        409: "`own_account`: an administrator cannot demote themselves",
        422: "`invalid_user`: the fields at fault",
    },
)
async def edit_user(request: web.Request) -> web.Response:
    body = await read_body(request, admin.UserEdit)
    async with transaction(request.app[POOL]) as conn:
        row = await admin.do_edit_user(
            conn,
            path_int(request, "user_id"),
            body,
            by=_by(request),
            now=request.app[CLOCK](),
        )
    return json_response(admin.admin_user_json(row))


async def _set_active(request: web.Request, active: bool) -> web.Response:
    async with transaction(request.app[POOL]) as conn:
        row = await admin.do_set_active(
            conn, path_int(request, "user_id"), active, by=_by(request), now=request.app[CLOCK]()
        )
    if not active:
        # After commit: the live connections of the ended sessions are dropped.
        await announce_logout(request.app)
    return json_response(admin.admin_user_json(row))


@routes.route(
    "POST",
    USER_PATH + "/disable",
    summary="Disable a user: their sessions end and they can no longer log in",
    tag="admin",
    roles=ADMIN,
    statuses={200: "the user", 409: "`own_account`: not one's own account"},
)
async def disable_user(request: web.Request) -> web.Response:
    return await _set_active(request, False)


@routes.route(
    "POST", USER_PATH + "/enable", summary="Enable a disabled user", tag="admin", roles=ADMIN
)
async def enable_user(request: web.Request) -> web.Response:
    return await _set_active(request, True)


@routes.route(
    "POST",
    USER_PATH + "/password",
    summary="Set a user's password, or generate one answered only now; their sessions end",
    tag="admin",
    body=admin.NewPassword,
    roles=ADMIN,
    statuses={
        200: "`user`, and `password` when it was generated (shown once)",
        422: "`invalid_password`: too short",
    },
)
async def reset_password(request: web.Request) -> web.Response:
    body = await read_body(request, admin.NewPassword)
    token = request.cookies.get(SESSION_COOKIE)
    async with transaction(request.app[POOL]) as conn:
        row, generated = await admin.do_reset_password(
            conn,
            path_int(request, "user_id"),
            body.password,
            by=_by(request),
            now=request.app[CLOCK](),
            keep_session=hash_token(token) if token else None,
        )
    await announce_logout(request.app)
    return json_response({"user": admin.admin_user_json(row), "password": generated})


@routes.route(
    "POST",
    USER_PATH + "/unlock",
    summary="Lift a user's lock after failed logins and forget the failures",
    tag="admin",
    roles=ADMIN,
    statuses={200: "`user`, and `unlocked`: whether there was a lock or failures"},
)
async def unlock_user(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
    async with transaction(request.app[POOL]) as conn:
        user = await admin.user_for_change(conn, path_int(request, "user_id"), now)
        unlocked = await do_unlock_account(conn, user["username"], by=_by(request))
        row = await queries.admin_user(conn, user["id"], now)
    assert row is not None
    return json_response({"user": admin.admin_user_json(row), "unlocked": unlocked})


@routes.route(
    "POST",
    USER_PATH + "/logout",
    summary="Log a user out everywhere (their sessions end)",
    tag="admin",
    roles=ADMIN,
    statuses={200: "`ended`: how many sessions were open"},
)
async def force_logout(request: web.Request) -> web.Response:
    async with transaction(request.app[POOL]) as conn:
        ended = await admin.do_end_sessions(
            conn, path_int(request, "user_id"), by=_by(request), now=request.app[CLOCK]()
        )
    await announce_logout(request.app)
    return json_response({"ended": ended})


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity: str | None = Field(default=None, max_length=40, description="user, api_key …")
    key: str | None = Field(default=None, max_length=100, description="the thing's key (an id)")
    limit: int = Field(default=100, ge=1, le=500)


@routes.route(
    "GET",
    "/api/v1/admin/changes",
    summary="Administrators' changes, newest first: who, when, what, before and after",
    tag="admin",
    query=ChangesQuery,
    roles=ADMIN,
)
async def changes(request: web.Request) -> web.Response:
    criteria = read_query(request, ChangesQuery)
    async with request.app[POOL].acquire() as conn:
        rows = await list_changes(
            conn, entity=criteria.entity, key=criteria.key, limit=criteria.limit
        )
    return json_response({"items": [dict(r) for r in rows]})


def _key_json(row: Any) -> dict[str, Any]:
    return {
        k: row[k]
        for k in (
            "id",
            "enterprise_id",
            "name",
            "key_prefix",
            "created_at",
            "created_by",
            "last_used_at",
            "revoked_at",
        )
    }


@routes.route(
    "GET", KEYS_PATH, summary="An enterprise's API keys, live first", tag="admin", roles=ADMIN
)
async def list_keys(request: web.Request) -> web.Response:
    enterprise_id = path_int(request, "enterprise_id")
    async with request.app[POOL].acquire() as conn:
        await admin.enterprise_or_404(conn, enterprise_id)
        rows = await queries.list_api_keys(conn, enterprise_id)
    return json_response({"items": [_key_json(r) for r in rows]})


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200, description="what system uses it")


@routes.route(
    "POST",
    KEYS_PATH,
    summary="Make an API key for the enterprise's system; the key is answered only now",
    tag="admin",
    body=NewApiKey,
    roles=ADMIN,
    statuses={201: "the key's row and `key`, its only showing (only a hash is kept)"},
)
async def create_key(request: web.Request) -> web.Response:
    enterprise_id = path_int(request, "enterprise_id")
    body = await read_body(request, NewApiKey)
    async with transaction(request.app[POOL]) as conn:
        await admin.enterprise_or_404(conn, enterprise_id)
        key, row = await do_create_api_key(
            conn, enterprise_id=enterprise_id, name=body.name, created_by=_by(request)
        )
        made = await queries.get_api_key(conn, enterprise_id, row["id"])
    assert made is not None
    return json_response({**_key_json(made), "key": key}, status=201)


@routes.route(
    "POST",
    KEYS_PATH + r"/{key_id:\d+}/revoke",
    summary="Revoke an API key: requests made with it are refused from now on",
    tag="admin",
    roles=ADMIN,
    statuses={200: "the key, revoked"},
)
async def revoke_key(request: web.Request) -> web.Response:
    async with transaction(request.app[POOL]) as conn:
        row = await admin.do_revoke_api_key(
            conn,
            path_int(request, "enterprise_id"),
            path_int(request, "key_id"),
            by=_by(request),
            now=request.app[CLOCK](),
        )
    return json_response(_key_json(row))


class CallerSearch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    q: str | None = Field(default=None, max_length=64, description="part of a number or name")
    flag: str | None = Field(
        default=None,
        pattern="^(special_needs|key_account|representative|notes)$",
        description="only callers with this flag, a representative or notes",
    )
    limit: int = Field(default=100, ge=1, le=500)


@routes.route(
    "GET",
    "/api/v1/admin/callers",
    summary="Callers with a profile, by number or name and flag, last changed first",
    tag="admin",
    query=CallerSearch,
    roles=ADMIN,
)
async def list_callers(request: web.Request) -> web.Response:
    criteria = read_query(request, CallerSearch)
    async with request.app[POOL].acquire() as conn:
        rows = await search_citizens(
            conn, text=criteria.q or None, flag=criteria.flag, limit=criteria.limit
        )
    return json_response({"items": [dict(r) for r in rows]})
