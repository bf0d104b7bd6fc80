"""Users, log in and out, sessions, API keys: check_* validates, do_* changes state."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from hotline import i18n
from hotline.audit import record_change
from hotline.db import transaction
from hotline.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    TooManyRequests,
)
from hotline.reference import queries as ref
from hotline.users import queries
from hotline.users.models import CENTRE_ROLES, ENTERPRISE_ROLES, Actor, Role
from hotline.users.passwords import hash_password, verify_password
from hotline.users.throttle import (
    FORGET_AFTER,
    LoginPolicy,
    account_key,
    address_key,
    seconds_to_wait,
)

MIN_PASSWORD_LENGTH = 12
API_KEY_PREFIX = "hlk_"


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def actor_from_row(row: asyncpg.Record) -> Actor:
    role = Role(row["role"])
    codes = {row["hotline_code"], *row["more_hotlines"]} - {None}
    # An admin sees every hotline whatever it is tied to; so does a centre user tied to
    # none (the centre's supervisors, as before hotlines were a boundary).
    scoped = role in CENTRE_ROLES and role is not Role.ADMIN and codes
    return Actor(
        user_id=row["id"],
        name=row["display_name"],
        role=role,
        enterprise_id=row["enterprise_id"],
        hotline_code=row["hotline_code"],
        hotlines=frozenset(codes) if scoped else None,
    )


# Generated passwords: no letters that read alike (0/O, 1/l/I), as they are read out to
# their user; 16 of these 55 signs are about 92 bits.
PASSWORD_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_PASSWORD_LENGTH = 16


def generate_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH))


def check_password(password: str) -> dict[str, str | i18n.Text]:
    """The fault of a password chosen by a person, as a field of an error (empty: none)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return {
            "password": i18n.Text(
                "must be at least {length} characters", length=MIN_PASSWORD_LENGTH
            )
        }
    return {}


@dataclass(frozen=True)
class Placement:
    """Where a user works: its role, its enterprise (enterprise roles) or its hotlines
    (centre roles: its own and those given besides)."""

    role: Role
    enterprise_id: int | None
    hotline_code: str | None
    hotlines: list[str]


async def check_placement(
    conn: asyncpg.Connection,
    *,
    role: str,
    enterprise_code: str | None,
    hotline_code: str | None,
    hotlines: list[str],
) -> tuple[Placement, dict[str, str | i18n.Text]]:
    """A role with its enterprise or hotlines, and the fields at fault: an enterprise
    role needs an existing enterprise and works for no hotline; a centre role belongs to
    no enterprise; every hotline must exist."""
    fields: dict[str, str | i18n.Text] = {}
    try:
        parsed_role = Role(role)
    except ValueError:
        fields["role"] = i18n.Text("must be one of {roles}", roles=", ".join(r.value for r in Role))
        parsed_role = Role.AGENT
    enterprise_id = None
    if parsed_role in ENTERPRISE_ROLES:
        enterprise = await ref.get_enterprise_by_code(conn, enterprise_code or "")
        if enterprise is None:
            fields["enterprise"] = "an enterprise role needs an existing enterprise code"
        else:
            enterprise_id = enterprise["id"]
        if hotline_code or hotlines:
            fields["hotlines"] = "only agents, supervisors and admins work for hotlines"
    elif enterprise_code:
        fields["enterprise"] = "only enterprise roles belong to an enterprise"
    if hotline_code and await ref.get_hotline(conn, hotline_code) is None:
        fields["hotline"] = "unknown hotline"
    unknown = [c for c in hotlines if await ref.get_hotline(conn, c) is None]
    if unknown:
        fields["hotlines"] = i18n.Text("unknown hotline(s): {codes}", codes=", ".join(unknown))
    more = sorted(set(hotlines) - {hotline_code})
    return Placement(parsed_role, enterprise_id, hotline_code or None, more), fields


def username_taken() -> Conflict:
    return Conflict(
        "this username is already taken",
        code="username_taken",
        fields={"username": "is already taken"},
    )


async def check_new_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    password: str,
    role: str,
    enterprise_code: str | None,
    hotline_code: str | None,
    hotlines: list[str],
) -> Placement:
    """Validate a new user: ``InvalidInput`` naming the fields at fault, then
    ``Conflict`` (``username_taken``) for a name already in use (any case)."""
    fields: dict[str, str | i18n.Text] = {}
    if not username.strip() or len(username) > 64:
        fields["username"] = "must be 1 to 64 characters"
    fields |= check_password(password)
    placement, faults = await check_placement(
        conn,
        role=role,
        enterprise_code=enterprise_code,
        hotline_code=hotline_code,
        hotlines=hotlines,
    )
    fields |= faults
    if fields:
        raise InvalidInput("the user cannot be created", code="invalid_user", fields=fields)
    if await queries.username_taken(conn, username.strip()):
        raise username_taken()
    return placement


def user_state(row: asyncpg.Record) -> dict[str, Any]:
    """A user as the record of administrators' changes keeps it (no password hash)."""
    return {
        "username": row["username"],
        "display_name": row["display_name"],
        "role": row["role"],
        "enterprise_id": row["enterprise_id"],
        "hotline_code": row["hotline_code"],
        "hotlines": list(row["more_hotlines"]),
        "active": row["active"],
    }


async def do_create_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    enterprise_code: str | None = None,
    hotline_code: str | None = None,
    hotlines: Sequence[str] = (),
    by: int | None = None,
) -> asyncpg.Record:
    """A new user, recorded as made by the user ``by`` (None: the command line)."""
    placement = await check_new_user(
        conn,
        username=username,
        password=password,
        role=role,
        enterprise_code=enterprise_code,
        hotline_code=hotline_code,
        hotlines=list(hotlines),
    )
    try:
        async with conn.transaction():  # a savepoint: the race's loser answers 409
            row = await queries.insert_user(
                conn,
                username=username.strip(),
                display_name=display_name.strip() or username.strip(),
                password_hash=hash_password(password),
                role=placement.role.value,
                enterprise_id=placement.enterprise_id,
                hotline_code=placement.hotline_code,
            )
    except asyncpg.UniqueViolationError as exc:
        raise username_taken() from exc
    if placement.hotlines:
        await queries.set_user_hotlines(conn, row["id"], placement.hotlines)
        fresh = await queries.get_user_by_username(conn, row["username"])
        assert fresh is not None
        row = fresh
    await record_change(
        conn, user_id=by, entity="user", key=str(row["id"]), action="create", after=user_state(row)
    )
    return row


async def do_set_user_hotlines(
    conn: asyncpg.Connection, username: str, hotline_codes: list[str], *, by: int | None = None
) -> asyncpg.Record:
    """Give a centre user these hotlines besides its own (``hotline_code``); an empty
    list takes them away. Returns the user, with ``more_hotlines``."""
    user = await queries.get_user_by_username(conn, username)
    if user is None:
        raise InvalidInput(
            "no user has this name", code="unknown_user", fields={"username": "unknown"}
        )
    fields: dict[str, str | i18n.Text] = {}
    if Role(user["role"]) not in CENTRE_ROLES:
        fields["username"] = "only agents, supervisors and admins work for hotlines"
    unknown = [c for c in hotline_codes if await ref.get_hotline(conn, c) is None]
    if unknown:
        fields["hotlines"] = i18n.Text("unknown hotline(s): {codes}", codes=", ".join(unknown))
    if fields:
        raise InvalidInput("the hotlines cannot be given", code="invalid_hotlines", fields=fields)
    await queries.set_user_hotlines(conn, user["id"], sorted(set(hotline_codes)))
    updated = await queries.get_user_by_username(conn, username)
    assert updated is not None
    await record_change(
        conn,
        user_id=by,
        entity="user",
        key=str(user["id"]),
        action="hotlines",
        before=user_state(user),
        after=user_state(updated),
    )
    return updated


@dataclass(frozen=True)
class NewSession:
    token: str  # goes in the cookie; never stored
    csrf_token: str
    expires_at: dt.datetime
    actor: Actor


@dataclass(frozen=True)
class LoginClaim:
    """An attempt counted and allowed to check its password, or refused (``refusal``)."""

    username: str
    address: str
    user: asyncpg.Record | None
    refusal: DomainError | None = None


LOGIN_ATTEMPTS_KEPT = dt.timedelta(days=90)


def _throttle_keys(username: str, address: str) -> list[tuple[str, str]]:
    return [("account", account_key(username)), ("address", address_key(address))]


async def do_claim_log_in(
    conn: asyncpg.Connection, *, username: str, address: str, now: dt.datetime, policy: LoginPolicy
) -> LoginClaim:
    """First half of a login: refuse a locked account or an attempt that comes before its
    wait is over (recorded), else count it as a failure ahead of the password check."""
    user = await queries.get_user_by_username(conn, username)
    keys = _throttle_keys(username, address)
    rows = await queries.lock_throttles(conn, keys, now)
    refusal: DomainError | None = None
    if any(row["locked_at"] is not None for row in rows):
        refusal = Forbidden(
            "this account is locked after too many failed logins; an administrator can unlock it",
            code="account_locked",
        )
    elif wait := max((seconds_to_wait(row, policy, now) for row in rows), default=0):
        refusal = TooManyRequests(
            "too many failed logins: try again in {retry_after} s", retry_after=wait
        )
    if refusal is not None:
        await queries.insert_login_attempt(
            conn,
            now=now,
            username=username,
            user_id=user["id"] if user else None,
            address=address,
            result="locked" if isinstance(refusal, Forbidden) else "throttled",
        )
    else:
        await queries.count_failures(conn, keys, now, now - FORGET_AFTER)
    return LoginClaim(username, address, user, refusal)


async def do_settle_log_in(
    conn: asyncpg.Connection,
    claim: LoginClaim,
    *,
    password_ok: bool,
    now: dt.datetime,
    lifetime: dt.timedelta,
    policy: LoginPolicy,
    user_agent: str = "",
) -> NewSession | None:
    """Second half: record the attempt; on success forget the failures of the account
    and the address (this one's too, counted ahead) and open a session; on failure lock
    the account at the limit."""
    row = claim.user
    ok = row is not None and password_ok and row["active"]
    await queries.insert_login_attempt(
        conn,
        now=now,
        username=claim.username,
        user_id=row["id"] if row else None,
        address=claim.address,
        result="success" if ok else "bad_credentials",
    )
    (_, account), (_, address) = _throttle_keys(claim.username, claim.address)
    if not ok or row is None:
        await queries.lock_account_at(conn, account, policy.lockout_failures, now)
        return None
    # A success ends the run of failures of its account and of its address (an office
    # behind one address would otherwise add up everyone's typos all day).
    await queries.delete_throttle(conn, "account", account)
    await queries.delete_throttle(conn, "address", address)
    # Housekeeping rides on successes, which an attacker cannot make.
    await queries.delete_forgotten_throttles(conn, now - FORGET_AFTER)
    await queries.delete_old_login_attempts(conn, now - LOGIN_ATTEMPTS_KEPT)
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
        ip=claim.address,
    )
    await queries.touch_login(conn, row["id"], now)
    return NewSession(token, csrf_token, expires_at, actor_from_row(row))


async def open_session(
    pool: asyncpg.Pool,
    *,
    username: str,
    password: str,
    address: str,
    now: dt.datetime,
    lifetime: dt.timedelta,
    policy: LoginPolicy,
    user_agent: str = "",
) -> NewSession:
    """A login in two short transactions around the password check, which holds no
    database connection (Argon2 takes a while, in a thread of its own).

    Raises ``Forbidden`` (locked), ``TooManyRequests`` (wait) or ``NotAuthenticated``."""
    async with transaction(pool) as conn:
        claim = await do_claim_log_in(
            conn, username=username, address=address, now=now, policy=policy
        )
    if claim.refusal is not None:
        raise claim.refusal
    password_hash = claim.user["password_hash"] if claim.user else None
    password_ok = await asyncio.to_thread(verify_password, password_hash, password)
    async with transaction(pool) as conn:
        session = await do_settle_log_in(
            conn,
            claim,
            password_ok=password_ok,
            now=now,
            lifetime=lifetime,
            policy=policy,
            user_agent=user_agent,
        )
    if session is None:
        raise NotAuthenticated("wrong username or password", code="bad_credentials")
    return session


async def do_unlock_account(
    conn: asyncpg.Connection, username: str, *, by: int | None = None
) -> bool:
    """Lift an account's lock and forget its failures; False if it had none (then
    nothing is recorded). The change is recorded as made by the user ``by``."""
    unlocked = await queries.delete_throttle(conn, "account", account_key(username))
    if unlocked:
        user = await queries.get_user_by_username(conn, username)
        await record_change(
            conn,
            user_id=by,
            entity="user",
            key=str(user["id"]) if user else account_key(username),
            action="unlock",
        )
    return unlocked


async def list_login_attempts(
    conn: asyncpg.Connection,
    *,
    username: str | None,
    address: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[asyncpg.Record], str | None]:
    """A page of login attempts, newest first, and the cursor of the next page."""
    before_id = None
    if cursor is not None:
        if not cursor.isdigit() or len(cursor) > 18:
            raise InvalidInput(
                "the cursor is not one this server gave out for this list",
                code="invalid_cursor",
                fields={"cursor": "invalid"},
            )
        before_id = int(cursor)
    rows = await queries.list_login_attempts(
        conn, username=username, address=address, before_id=before_id, limit=limit + 1
    )
    page = rows[:limit]
    return page, str(page[-1]["id"]) if len(rows) > limit else None


async def session_actor(
    conn: asyncpg.Connection, token: str, now: dt.datetime
) -> tuple[Actor, str] | None:
    """The actor of a live session and its CSRF token, or None."""
    row = await queries.get_session_user(conn, hash_token(token), now)
    if row is None:
        return None
    return actor_from_row(row), row["csrf_token"]


async def do_log_out(conn: asyncpg.Connection, token: str) -> int | None:
    """Ends the session; returns its user's id (None: it had already ended)."""
    return await queries.delete_session(conn, hash_token(token))


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
    """A new key for an enterprise system, recorded as made by ``created_by``. The clear
    key is returned once, never stored (nor recorded)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = await queries.insert_api_key(
        conn,
        enterprise_id=enterprise_id,
        name=name,
        key_prefix=key[:10],
        key_hash=hash_token(key),
        created_by=created_by,
    )
    await record_change(
        conn,
        user_id=created_by,
        entity="api_key",
        key=str(row["id"]),
        action="create",
        after=api_key_state(row),
    )
    return key, row


def api_key_state(row: asyncpg.Record) -> dict[str, Any]:
    """A key as the record of changes keeps it: never its hash."""
    return {
        "enterprise_id": row["enterprise_id"],
        "name": row["name"],
        "key_prefix": row["key_prefix"],
        "revoked": row.get("revoked_at") is not None,
    }


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
