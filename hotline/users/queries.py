"""SQL for users, sessions and API keys."""

from __future__ import annotations

import datetime as dt

import asyncpg

_USER_COLUMNS = """u.id, u.username, u.display_name, u.role, u.enterprise_id, u.hotline_code,
    u.active, u.created_at, u.last_login_at,
    ARRAY(SELECT h.hotline_code FROM user_hotlines h WHERE h.user_id = u.id
           ORDER BY h.hotline_code) AS more_hotlines"""


async def insert_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    display_name: str,
    password_hash: str,
    role: str,
    enterprise_id: int | None,
    hotline_code: str | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        INSERT INTO users AS u (username, display_name, password_hash, role, enterprise_id,
                                hotline_code)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING {_USER_COLUMNS}
        """,
        username,
        display_name,
        password_hash,
        role,
        enterprise_id,
        hotline_code,
    )
    assert row is not None
    return row


async def get_user_by_username(conn: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_USER_COLUMNS}, u.password_hash FROM users u WHERE lower(u.username) = lower($1)",
        username,
    )


async def set_user_hotlines(conn: asyncpg.Connection, user_id: int, codes: list[str]) -> None:
    await conn.execute("DELETE FROM user_hotlines WHERE user_id = $1", user_id)
    await conn.execute(
        "INSERT INTO user_hotlines (user_id, hotline_code) SELECT $1, unnest($2::text[])",
        user_id,
        codes,
    )


async def username_taken(conn: asyncpg.Connection, username: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1))", username
        )
    )


async def count_users(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM users"))


async def touch_login(conn: asyncpg.Connection, user_id: int, now: dt.datetime) -> None:
    await conn.execute("UPDATE users SET last_login_at = $2 WHERE id = $1", user_id, now)


async def insert_session(
    conn: asyncpg.Connection,
    *,
    token_hash: bytes,
    user_id: int,
    csrf_token: str,
    now: dt.datetime,
    expires_at: dt.datetime,
    user_agent: str,
    ip: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at,
                              last_seen_at, user_agent, ip)
        VALUES ($1, $2, $3, $4, $5, $4, $6, $7)
        """,
        token_hash,
        user_id,
        csrf_token,
        now,
        expires_at,
        user_agent[:300],
        ip[:64],
    )


async def get_session_user(
    conn: asyncpg.Connection, token_hash: bytes, now: dt.datetime
) -> asyncpg.Record | None:
    """The live session and its active user; touches last_seen_at at most once a minute."""
    return await conn.fetchrow(
        f"""
        WITH s AS (
            UPDATE sessions SET last_seen_at = $2
             WHERE token_hash = $1 AND expires_at > $2
               AND last_seen_at < $2 - interval '1 minute'
            RETURNING token_hash
        )
        SELECT {_USER_COLUMNS}, se.csrf_token, se.expires_at
          FROM sessions se JOIN users u ON u.id = se.user_id
         WHERE se.token_hash = $1 AND se.expires_at > $2 AND u.active
        """,
        token_hash,
        now,
    )


async def live_session_hashes(
    conn: asyncpg.Connection, token_hashes: list[bytes], now: dt.datetime
) -> set[bytes]:
    """Which of these sessions are still live (not expired, logged out, or of a user
    since deactivated): what the live connections opened with them may go on hearing."""
    rows = await conn.fetch(
        """
        SELECT se.token_hash FROM sessions se JOIN users u ON u.id = se.user_id
         WHERE se.token_hash = ANY($1::bytea[]) AND se.expires_at > $2 AND u.active
        """,
        token_hashes,
        now,
    )
    return {bytes(r["token_hash"]) for r in rows}


async def delete_session(conn: asyncpg.Connection, token_hash: bytes) -> int | None:
    """Ends a session; returns its user's id (None: no such session)."""
    user_id: int | None = await conn.fetchval(
        "DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id", token_hash
    )
    return user_id


async def delete_expired_sessions(conn: asyncpg.Connection, now: dt.datetime) -> int:
    result = await conn.execute("DELETE FROM sessions WHERE expires_at <= $1", now)
    return int(result.split()[-1])


async def insert_api_key(
    conn: asyncpg.Connection,
    *,
    enterprise_id: int,
    name: str,
    key_prefix: str,
    key_hash: bytes,
    created_by: int | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO api_keys (enterprise_id, name, key_prefix, key_hash, created_by)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING id, enterprise_id, name, key_prefix, created_at
        """,
        enterprise_id,
        name,
        key_prefix,
        key_hash,
        created_by,
    )
    assert row is not None
    return row


async def use_api_key(
    conn: asyncpg.Connection, key_hash: bytes, now: dt.datetime
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        UPDATE api_keys k SET last_used_at = $2
          FROM enterprises e
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND e.id = k.enterprise_id AND e.active
        RETURNING k.id, k.enterprise_id, k.name, e.name_zh AS enterprise_name
        """,
        key_hash,
        now,
    )


# ------------------------------------------------------------------ login throttling


async def lock_throttles(
    conn: asyncpg.Connection, keys: list[tuple[str, str]], now: dt.datetime
) -> list[asyncpg.Record]:
    """The throttle rows of these (scope, key) pairs, made (with no failures) if missing,
    and locked until commit: attempts at once on one account or address are counted one
    after another, even the very first ones. Callers give the account's pair first, as
    every later statement of a login does, so that two logins never lock in turns that
    deadlock."""
    return await conn.fetch(
        """
        INSERT INTO login_throttles AS t (scope, key, failures, last_failure_at)
        SELECT scope, key, 0, $3 FROM unnest($1::text[], $2::text[]) AS k (scope, key)
        ON CONFLICT (scope, key) DO UPDATE SET failures = t.failures
        RETURNING scope, key, failures, last_failure_at, locked_at
        """,
        [scope for scope, _ in keys],
        [key for _, key in keys],
        now,
    )


async def count_failures(
    conn: asyncpg.Connection,
    keys: list[tuple[str, str]],
    now: dt.datetime,
    forget_before: dt.datetime,
) -> None:
    """One more failure for each (scope, key); failures before ``forget_before`` are
    forgotten first."""
    await conn.execute(
        """
        INSERT INTO login_throttles AS t (scope, key, failures, last_failure_at)
        SELECT scope, key, 1, $3 FROM unnest($1::text[], $2::text[]) AS k (scope, key)
        ON CONFLICT (scope, key) DO UPDATE
           SET failures = CASE WHEN t.last_failure_at < $4 THEN 1 ELSE t.failures + 1 END,
               last_failure_at = $3
        """,
        [scope for scope, _ in keys],
        [key for _, key in keys],
        now,
        forget_before,
    )


async def lock_account_at(
    conn: asyncpg.Connection, key: str, failures: int, now: dt.datetime
) -> None:
    """Lock the account if it has failed this many times in a row."""
    await conn.execute(
        """
        UPDATE login_throttles SET locked_at = $3
         WHERE scope = 'account' AND key = $1 AND failures >= $2 AND locked_at IS NULL
        """,
        key,
        failures,
        now,
    )


async def delete_throttle(conn: asyncpg.Connection, scope: str, key: str) -> bool:
    """Forget an account's or address's failures (and lift a lock); False if none."""
    result = await conn.execute(
        "DELETE FROM login_throttles WHERE scope = $1 AND key = $2", scope, key
    )
    return result != "DELETE 0"


async def delete_forgotten_throttles(conn: asyncpg.Connection, forget_before: dt.datetime) -> None:
    await conn.execute(
        "DELETE FROM login_throttles WHERE locked_at IS NULL AND last_failure_at < $1",
        forget_before,
    )


async def insert_login_attempt(
    conn: asyncpg.Connection,
    *,
    now: dt.datetime,
    username: str,
    user_id: int | None,
    address: str,
    result: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO login_attempts (at, username, user_id, address, result)
        VALUES ($1, $2, $3, $4, $5)
        """,
        now,
        username[:64],
        user_id,
        address[:64],
        result,
    )


async def delete_old_login_attempts(conn: asyncpg.Connection, before: dt.datetime) -> None:
    await conn.execute("DELETE FROM login_attempts WHERE at < $1", before)


async def list_login_attempts(
    conn: asyncpg.Connection,
    *,
    username: str | None,
    address: str | None,
    before_id: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Attempts newest first, optionally of one name (any case) or address; ``limit + 1``
    rows are asked for by the caller to know whether a next page exists."""
    return await conn.fetch(
        """
        SELECT id, at, username, user_id, address, result FROM login_attempts
         WHERE ($1::text IS NULL OR lower(username) = lower($1))
           AND ($2::text IS NULL OR address = $2)
           AND ($3::bigint IS NULL OR id < $3)
         ORDER BY id DESC
         LIMIT $4
        """,
        username,
        address,
        before_id,
        limit,
    )


# ------------------------------------------------------------------- saved filters

_FILTER_COLUMNS = "id, name, params, created_at"


async def saved_filters(conn: asyncpg.Connection, user_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_FILTER_COLUMNS} FROM saved_filters WHERE user_id = $1 ORDER BY name",
        user_id,
    )


async def save_filter(
    conn: asyncpg.Connection, user_id: int, name: str, params: dict[str, object]
) -> tuple[asyncpg.Record, bool]:
    """The filter, and whether it is new (False: a filter of that name was replaced)."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO saved_filters AS f (user_id, name, params) VALUES ($1, $2, $3)
        ON CONFLICT (user_id, name) DO UPDATE SET params = EXCLUDED.params
        RETURNING {_FILTER_COLUMNS}, xmax = 0 AS created
        """,
        user_id,
        name,
        params,
    )
    assert row is not None
    return row, bool(row["created"])


async def delete_filter(conn: asyncpg.Connection, user_id: int, filter_id: int) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM saved_filters WHERE id = $1 AND user_id = $2 RETURNING id",
        filter_id,
        user_id,
    )
    return deleted is not None


# ------------------------------------------------------------------ administration

# What the administrators' list shows besides the user: the enterprise's code, whether
# the account is locked after failed logins, and how many sessions are open.
_ADMIN_COLUMNS = f"""{_USER_COLUMNS}, e.code AS enterprise_code,
    t.locked_at, coalesce(t.failures, 0) AS failures,
    (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > $1)
        AS open_sessions"""
_ADMIN_FROM = """users u
    LEFT JOIN enterprises e ON e.id = u.enterprise_id
    LEFT JOIN login_throttles t ON t.scope = 'account' AND t.key = lower(u.username)"""


async def search_users(
    conn: asyncpg.Connection,
    *,
    now: dt.datetime,
    text: str | None,
    role: str | None,
    hotline_code: str | None,
    enterprise_id: int | None,
    active: bool | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Users by name (part of the username or display name), role, hotline (their own or
    one given besides), enterprise and state, by username."""
    return await conn.fetch(
        f"""
        SELECT {_ADMIN_COLUMNS} FROM {_ADMIN_FROM}
         WHERE ($2::text IS NULL OR strpos(lower(u.username), lower($2)) > 0
                OR strpos(lower(u.display_name), lower($2)) > 0)
           AND ($3::text IS NULL OR u.role = $3)
           AND ($4::text IS NULL OR u.hotline_code = $4
                OR EXISTS (SELECT 1 FROM user_hotlines h
                            WHERE h.user_id = u.id AND h.hotline_code = $4))
           AND ($5::bigint IS NULL OR u.enterprise_id = $5)
           AND ($6::boolean IS NULL OR u.active = $6)
         ORDER BY lower(u.username)
         LIMIT $7
        """,
        now,
        text,
        role,
        hotline_code,
        enterprise_id,
        active,
        limit,
    )


async def admin_user(
    conn: asyncpg.Connection, user_id: int, now: dt.datetime, *, for_update: bool = False
) -> asyncpg.Record | None:
    """One user as the administrators' list shows it; ``for_update`` locks its row."""
    return await conn.fetchrow(
        f"SELECT {_ADMIN_COLUMNS} FROM {_ADMIN_FROM} WHERE u.id = $2"
        + (" FOR UPDATE OF u" if for_update else ""),
        now,
        user_id,
    )


async def update_user(
    conn: asyncpg.Connection,
    user_id: int,
    *,
    display_name: str,
    role: str,
    enterprise_id: int | None,
    hotline_code: str | None,
) -> None:
    await conn.execute(
        """
        UPDATE users SET display_name = $2, role = $3, enterprise_id = $4, hotline_code = $5
         WHERE id = $1
        """,
        user_id,
        display_name,
        role,
        enterprise_id,
        hotline_code,
    )


async def set_user_active(conn: asyncpg.Connection, user_id: int, active: bool) -> None:
    await conn.execute("UPDATE users SET active = $2 WHERE id = $1", user_id, active)


async def set_password_hash(conn: asyncpg.Connection, user_id: int, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def delete_user_sessions(
    conn: asyncpg.Connection, user_id: int, *, keep: bytes | None = None
) -> int:
    """End the user's sessions (but ``keep``); returns how many were open."""
    result = await conn.execute(
        "DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)",
        user_id,
        keep,
    )
    return int(result.split()[-1])


_KEY_COLUMNS = """k.id, k.enterprise_id, k.name, k.key_prefix, k.created_at, k.last_used_at,
    k.revoked_at, u.username AS created_by"""


async def list_api_keys(conn: asyncpg.Connection, enterprise_id: int) -> list[asyncpg.Record]:
    """An enterprise's keys, live ones first, newest first."""
    return await conn.fetch(
        f"""
        SELECT {_KEY_COLUMNS} FROM api_keys k LEFT JOIN users u ON u.id = k.created_by
         WHERE k.enterprise_id = $1
         ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC, k.id DESC
        """,
        enterprise_id,
    )


async def get_api_key(
    conn: asyncpg.Connection, enterprise_id: int, key_id: int
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {_KEY_COLUMNS} FROM api_keys k LEFT JOIN users u ON u.id = k.created_by
         WHERE k.enterprise_id = $1 AND k.id = $2
        """,
        enterprise_id,
        key_id,
    )


async def revoke_api_key(conn: asyncpg.Connection, key_id: int, now: dt.datetime) -> bool:
    """Revoke a live key; False if it was already revoked."""
    result = await conn.execute(
        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", key_id, now
    )
    return result != "UPDATE 0"
