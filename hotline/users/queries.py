"""SQL for users, sessions and API keys."""

from __future__ import annotations

import datetime as dt

import asyncpg

_USER_COLUMNS = """u.id, u.username, u.display_name, u.role, u.enterprise_id, u.hotline_code,
    u.active, u.created_at, u.last_login_at"""


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


async def delete_session(conn: asyncpg.Connection, token_hash: bytes) -> None:
    await conn.execute("DELETE FROM sessions WHERE token_hash = $1", token_hash)


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
