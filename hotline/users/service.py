"""Users, log in and out, sessions, API keys: check_* validates, do_* changes state."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import asyncpg

from hotline.errors import InvalidInput, NotAuthenticated
from hotline.reference import queries as ref
from hotline.users import queries
from hotline.users.models import ENTERPRISE_ROLES, Actor, Role
from hotline.users.passwords import hash_password, verify_password

MIN_PASSWORD_LENGTH = 8
API_KEY_PREFIX = "hlk_"


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def actor_from_row(row: asyncpg.Record) -> Actor:
    return Actor(
        user_id=row["id"],
        name=row["display_name"],
        role=Role(row["role"]),
        enterprise_id=row["enterprise_id"],
        hotline_code=row["hotline_code"],
    )


async def check_new_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    password: str,
    role: str,
    enterprise_code: str | None,
    hotline_code: str | None,
) -> tuple[Role, int | None]:
    """Validate a new user; returns the role and the enterprise id it belongs to."""
    fields: dict[str, str] = {}
    if not username.strip() or len(username) > 64:
        fields["username"] = "must be 1 to 64 characters"
    elif await queries.username_taken(conn, username):
        fields["username"] = "is already taken"
    if len(password) < MIN_PASSWORD_LENGTH:
        fields["password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters"
    try:
        parsed_role = Role(role)
    except ValueError:
        fields["role"] = "must be one of " + ", ".join(r.value for r in Role)
        parsed_role = Role.AGENT
    enterprise_id = None
    if parsed_role in ENTERPRISE_ROLES:
        enterprise = await ref.get_enterprise_by_code(conn, enterprise_code or "")
        if enterprise is None:
            fields["enterprise"] = "an enterprise role needs an existing enterprise code"
        else:
            enterprise_id = enterprise["id"]
    elif enterprise_code:
        fields["enterprise"] = "only enterprise roles belong to an enterprise"
    if hotline_code and await ref.get_hotline(conn, hotline_code) is None:
        fields["hotline"] = "unknown hotline"
    if fields:
        raise InvalidInput("the user cannot be created", code="invalid_user", fields=fields)
    return parsed_role, enterprise_id


async def do_create_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    enterprise_code: str | None = None,
    hotline_code: str | None = None,
) -> asyncpg.Record:
    parsed_role, enterprise_id = await check_new_user(
        conn,
        username=username,
        password=password,
        role=role,
        enterprise_code=enterprise_code,
        hotline_code=hotline_code,
    )
    return await queries.insert_user(
        conn,
        username=username.strip(),
        display_name=display_name.strip() or username.strip(),
        password_hash=hash_password(password),
        role=parsed_role.value,
        enterprise_id=enterprise_id,
        hotline_code=hotline_code,
    )


@dataclass(frozen=True)
class NewSession:
    token: str  # goes in the cookie; never stored
    csrf_token: str
    expires_at: dt.datetime
    actor: Actor


async def do_log_in(
    conn: asyncpg.Connection,
    *,
    username: str,
    password: str,
    now: dt.datetime,
    lifetime: dt.timedelta,
    user_agent: str = "",
    ip: str = "",
) -> NewSession:
    row = await queries.get_user_by_username(conn, username)
    ok = verify_password(row["password_hash"] if row else None, password)
    if row is None or not ok or not row["active"]:
        raise NotAuthenticated("wrong username or password", code="bad_credentials")
    await queries.delete_expired_sessions(conn, now)
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    expires_at = now + lifetime
    await queries.insert_session(
        conn,
        token_hash=hash_token(token),
        user_id=row["id"],
        csrf_token=csrf_token,
        now=now,
        expires_at=expires_at,
        user_agent=user_agent,
        ip=ip,
    )
    await queries.touch_login(conn, row["id"], now)
    return NewSession(token, csrf_token, expires_at, actor_from_row(row))


async def session_actor(
    conn: asyncpg.Connection, token: str, now: dt.datetime
) -> tuple[Actor, str] | None:
    """The actor of a live session and its CSRF token, or None."""
    row = await queries.get_session_user(conn, hash_token(token), now)
    if row is None:
        return None
    return actor_from_row(row), row["csrf_token"]


async def do_log_out(conn: asyncpg.Connection, token: str) -> None:
    await queries.delete_session(conn, hash_token(token))


async def check_new_api_key(
    conn: asyncpg.Connection, *, enterprise_code: str, name: str, created_by: str | None
) -> tuple[int, int | None]:
    """Validate a new key by names (``hotline apikey add``); returns the id of the
    enterprise it belongs to and of the user who made it (if one is named)."""
    fields: dict[str, str] = {}
    if not name.strip() or len(name) > 200:
        fields["name"] = "must be 1 to 200 characters"
    enterprise = await ref.get_enterprise_by_code(conn, enterprise_code)
    if enterprise is None:
        fields["enterprise"] = "no enterprise has this code"
    user = await queries.get_user_by_username(conn, created_by) if created_by else None
    if created_by and user is None:
        fields["by"] = "no user has this name"
    if fields:
        raise InvalidInput("the key cannot be made", code="invalid_api_key", fields=fields)
    assert enterprise is not None
    return enterprise["id"], user["id"] if user else None


async def do_create_api_key(
    conn: asyncpg.Connection, *, enterprise_id: int, name: str, created_by: int | None
) -> tuple[str, asyncpg.Record]:
    """A new key for an enterprise system. The clear key is returned once, never stored."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = await queries.insert_api_key(
        conn,
        enterprise_id=enterprise_id,
        name=name,
        key_prefix=key[:10],
        key_hash=hash_token(key),
        created_by=created_by,
    )
    return key, row


async def api_key_actor(conn: asyncpg.Connection, key: str, now: dt.datetime) -> Actor | None:
    row = await queries.use_api_key(conn, hash_token(key), now)
    if row is None:
        return None
    return Actor(
        user_id=None,
        name=f"{row['enterprise_name']} · {row['name']}",
        role=Role.ENTERPRISE_USER,
        enterprise_id=row["enterprise_id"],
        api_key_id=row["id"],
    )
