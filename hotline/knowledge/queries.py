"""The knowledge base's SQL: articles, their versions, answers given with them and the
questions they did not answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import asyncpg

# A version's fields as every reader gets them (the tsvector stays in the database).
VERSION_FIELDS = (
    "version",
    "state",
    "title",
    "body",
    "script",
    "documents",
    "fees",
    "time_limit",
    "steps",
    "en",
    "service_items",
    "hotlines",
    "areas",
    "valid_from",
    "valid_until",
    "review_due",
    "demo",
    "change_note",
    "written_by",
    "written_at",
    "reviewed_by",
    "reviewed_at",
    "review_note",
    "published_at",
)
_V = ", ".join(f"v.{name}" for name in VERSION_FIELDS)
_ARTICLE = "a.id, a.code, a.kind, a.owner_enterprise_id"
# The owner as the lists show it: the enterprise's names, or NULL for the centre's.
_OWNER = """
    CASE WHEN e.id IS NULL THEN NULL
         ELSE jsonb_build_object('id', e.id, 'name_zh', e.name_zh, 'name_en', e.name_en)
    END AS owner"""
# What a version is found by: its title above what the agent says, above the rest.
_SEARCH = """
    setweight(to_tsvector('simple', $20), 'A')
    || setweight(to_tsvector('simple', $21), 'B')
    || setweight(to_tsvector('simple', $22), 'C')"""
# Relevance: ts_rank_cd over the whole text (its weights put the title first), plus its
# rank with the title's words alone weighing (weights D, C, B, A = 0, 0, 0, 1): cover
# density weighs a cover by its closeness before its weights, and alone can rank a
# title match no higher than a body match.
_RANK = "(ts_rank_cd(v.search, {q}) + ts_rank_cd('{{0, 0, 0, 1}}', v.search, {q}))"
# Valid on $today and not archived: what agents may answer with.
_CURRENT = """
    a.archived_at IS NULL
    AND (v.valid_from IS NULL OR v.valid_from <= {today})
    AND (v.valid_until IS NULL OR v.valid_until >= {today})"""


async def insert_article(
    conn: asyncpg.Connection,
    *,
    code: str | None,
    kind: str,
    owner_enterprise_id: int | None,
    created_by: int | None,
    now: dt.datetime,
) -> int:
    article_id: int = await conn.fetchval(
        """
        INSERT INTO kb_articles (code, kind, owner_enterprise_id, latest_version,
                                 created_by, created_at)
        VALUES ($1, $2, $3, 1, $4, $5) RETURNING id
        """,
        code,
        kind,
        owner_enterprise_id,
        created_by,
        now,
    )
    return article_id


async def insert_version(
    conn: asyncpg.Connection,
    article_id: int,
    version: int,
    *,
    state: str,
    text: dict[str, Any],
    links: dict[str, Any],
    demo: bool,
    change_note: str,
    written_by: int | None,
    now: dt.datetime,
    index: tuple[str, str, str],
) -> None:
    """``text``: the version's texts (``models.TEXT_FIELDS`` and ``en``); ``links``: its
    service items, hotlines, areas and dates; ``index``: the words of its title, of its
    script and of the rest (``Words.for_index``)."""
    await conn.execute(
        f"""
        INSERT INTO kb_article_versions (
            article_id, version, state, title, body, script, documents, fees, time_limit,
            steps, en, service_items, hotlines, areas, valid_from, valid_until, review_due,
            demo, change_note, written_by, written_at, published_at, search)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15,
                $16, $17, $18, $19, $23, $24::timestamptz,
                CASE WHEN $3 = 'published' THEN $24::timestamptz END, {_SEARCH})
        """,
        article_id,
        version,
        state,
        text["title"],
        text["body"],
        text["script"],
        text["documents"],
        text["fees"],
        text["time_limit"],
        text["steps"],
        text["en"],  # a dict: the connection's jsonb codec encodes it (a string would stay one)
        links["service_items"],
        links["hotlines"],
        links["areas"],
        links["valid_from"],
        links["valid_until"],
        links["review_due"],
        demo,
        change_note,
        *index,
        written_by,
        now,
    )


async def lock_article(conn: asyncpg.Connection, article_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM kb_articles WHERE id = $1 FOR UPDATE", article_id)


async def article_by_code(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM kb_articles WHERE code = $1 FOR UPDATE", code)


async def set_latest(conn: asyncpg.Connection, article_id: int, version: int) -> None:
    await conn.execute(
        "UPDATE kb_articles SET latest_version = $2 WHERE id = $1", article_id, version
    )


async def article(
    conn: asyncpg.Connection, article_id: int, today: dt.date
) -> asyncpg.Record | None:
    """The article with its owner's names, whether its published version is past its
    review date, and how many answers were given with it."""
    return await conn.fetchrow(
        f"""
        SELECT a.*, {_OWNER},
               coalesce(a.archived_at IS NULL AND p.review_due < $2, false) AS review_overdue,
               (SELECT count(*) FROM kb_answers x WHERE x.article_id = a.id) AS answers
          FROM kb_articles a
          LEFT JOIN enterprises e ON e.id = a.owner_enterprise_id
          LEFT JOIN kb_article_versions p
                 ON p.article_id = a.id AND p.version = a.published_version
         WHERE a.id = $1
        """,
        article_id,
        today,
    )


async def version(
    conn: asyncpg.Connection, article_id: int, number: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    """One version, with its writer's and reviewer's names."""
    lock = " FOR UPDATE OF v" if for_update else ""
    return await conn.fetchrow(
        f"""
        SELECT {_V}, w.display_name AS written_by_name, r.display_name AS reviewed_by_name
          FROM kb_article_versions v
          LEFT JOIN users w ON w.id = v.written_by
          LEFT JOIN users r ON r.id = v.reviewed_by
         WHERE v.article_id = $1 AND v.version = $2{lock}
        """,
        article_id,
        number,
    )


async def versions(conn: asyncpg.Connection, article_id: int) -> list[asyncpg.Record]:
    """The article's history, newest first: who wrote and who reviewed each version."""
    return await conn.fetch(
        """
        SELECT v.version, v.state, v.change_note, v.written_by, w.display_name AS written_by_name,
               v.written_at, v.reviewed_by, r.display_name AS reviewed_by_name, v.reviewed_at,
               v.review_note
          FROM kb_article_versions v
          LEFT JOIN users w ON w.id = v.written_by
          LEFT JOIN users r ON r.id = v.reviewed_by
         WHERE v.article_id = $1
         ORDER BY v.version DESC
        """,
        article_id,
    )


async def set_state(
    conn: asyncpg.Connection,
    article_id: int,
    number: int,
    state: str,
    *,
    reviewed_by: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Move a version to ``state``; a review (``reviewed_by``) records who, when and why."""
    await conn.execute(
        """
        UPDATE kb_article_versions
           SET state = $3,
               reviewed_by = coalesce($4, reviewed_by),
               reviewed_at = CASE WHEN $4::bigint IS NULL THEN reviewed_at ELSE $6::timestamptz END,
               review_note = CASE WHEN $4::bigint IS NULL THEN review_note ELSE $5::text END,
               published_at = CASE WHEN $3 = 'published' THEN $6::timestamptz ELSE published_at END
         WHERE article_id = $1 AND version = $2
        """,
        article_id,
        number,
        state,
        reviewed_by,
        note,
        now,
    )


async def publish(conn: asyncpg.Connection, article_id: int, number: int) -> None:
    """``number`` is the article's published version; the one before is superseded."""
    await conn.execute(
        """
        UPDATE kb_article_versions SET state = 'superseded'
         WHERE article_id = $1 AND state = 'published' AND version <> $2
        """,
        article_id,
        number,
    )
    await conn.execute(
        "UPDATE kb_articles SET published_version = $2 WHERE id = $1", article_id, number
    )


async def archive(
    conn: asyncpg.Connection, article_id: int, user_id: int | None, note: str, now: dt.datetime
) -> None:
    await conn.execute(
        """
        UPDATE kb_articles SET archived_at = $4, archived_by = $2, archive_note = $3
         WHERE id = $1 AND archived_at IS NULL
        """,
        article_id,
        user_id,
        note,
        now,
    )


class Where:
    """A query's conditions and their parameters, numbered as they are added."""

    def __init__(self, *params: Any) -> None:
        self.params: list[Any] = list(params)
        self.conditions: list[str] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def add(self, condition: str, *values: Any) -> None:
        """``condition`` with ``{}`` for each value's placeholder."""
        self.conditions.append(condition.format(*(self.param(v) for v in values)))

    def sql(self) -> str:
        return " AND ".join(self.conditions) or "true"


async def list_articles(
    conn: asyncpg.Connection,
    *,
    state: str,
    writable_by: int | bool | None,
    tsquery: str | None,
    kind: str | None,
    service_item: str | None,
    hotline: str | None,
    area: str | None,
    owner: str | None,
    review_overdue: bool | None,
    today: dt.date,
    limit: int,
    after: int | None,
) -> list[asyncpg.Record]:
    """A page of articles, each in the version the list shows: the published one
    (``state`` published: valid today and not archived), else the latest (``state`` one
    of the others, or all). ``writable_by``: whose articles besides the published ones
    the reader may see: True for every one (the centre's writers), an enterprise id
    for its own, False for none. With ``tsquery``, ranked by relevance and paged by
    offset ``after``; otherwise newest first and paged by the last id."""
    w = Where(today)
    if state == "published":
        join = "a.published_version = v.version"
        w.add("v.state = 'published'")
        w.add(_CURRENT.format(today="$1"))
    else:
        join = "a.latest_version = v.version"
        if writable_by is False:
            w.add("false")
        elif writable_by is not True:
            w.add("a.owner_enterprise_id = {}", writable_by)
        if state != "all":
            w.add("v.state = {}", state)
            w.add("a.archived_at IS NULL")
    rank = "NULL::real"
    if tsquery is not None:
        query = w.param(tsquery)
        w.add(f"v.search @@ to_tsquery('simple', {query})")
        rank = _RANK.format(q=f"to_tsquery('simple', {query})")
    if kind is not None:
        w.add("a.kind = {}", kind)
    if service_item is not None:
        w.add("{} = ANY (v.service_items)", service_item)
    if hotline is not None:
        w.add("(v.hotlines = '{{}}' OR {} = ANY (v.hotlines))", hotline)
    if area is not None:
        w.add(
            "(v.areas = '{{}}' OR v.areas && ARRAY(SELECT unnest(ARRAY[code, parent_code])"
            " FROM areas WHERE code = {}))",
            area,
        )
    if owner == "centre":
        w.add("a.owner_enterprise_id IS NULL")
    elif owner is not None:
        w.add("a.owner_enterprise_id = {}", int(owner))
    overdue = "(a.archived_at IS NULL AND coalesce(v.review_due < $1, false))"
    if review_overdue is not None:
        w.add(f"{overdue} = {{}}", review_overdue)
    if tsquery is not None:
        page = f"ORDER BY score DESC, a.id DESC OFFSET {w.param(after or 0)}"
        order = "ORDER BY page.score DESC, a.id DESC"
    else:
        if after is not None:
            w.add("a.id < {}", after)
        page = order = "ORDER BY a.id DESC"
    # The page is chosen from the index and the ranks alone; the texts (out of line,
    # compressed) are read for its rows only.
    return await conn.fetch(
        f"""
        WITH page AS (
            SELECT a.id, v.version, {rank} AS score
              FROM kb_article_versions v
              JOIN kb_articles a ON a.id = v.article_id AND {join}
             WHERE {w.sql()}
             {page}
             LIMIT {w.param(limit)}
        )
        SELECT {_ARTICLE}, {_OWNER}, a.published_version, a.latest_version, a.archived_at,
               l.state AS latest_state, v.title,
               left(coalesce(nullif(v.body, ''), v.script), 120) AS summary,
               v.script, v.service_items, v.hotlines, v.areas, v.valid_from, v.valid_until,
               v.review_due, {overdue} AS review_overdue, v.demo, page.score
          FROM page
          JOIN kb_articles a ON a.id = page.id
          JOIN kb_article_versions v ON v.article_id = a.id AND v.version = page.version
          JOIN kb_article_versions l ON l.article_id = a.id AND l.version = a.latest_version
          LEFT JOIN enterprises e ON e.id = a.owner_enterprise_id
         {order}
        """,
        *w.params,
    )


async def suggest(
    conn: asyncpg.Connection,
    *,
    tsquery: str,
    words: Sequence[tuple[str, str]],
    hotline: str | None,
    service_item: str | None,
    area: str | None,
    today: dt.date,
    limit: int,
) -> list[asyncpg.Record]:
    """The published articles valid ``today`` (for ``hotline`` or every hotline) that
    match ``tsquery``, best first: relevance, boosted for an article linked to the
    service item, to the hotline itself or to the area (or its district). ``words``:
    each query word with its own tsquery, to say which ones an article matched."""
    return await conn.fetch(
        f"""
        WITH q AS (SELECT to_tsquery('simple', $1) AS q),
        place AS (
            SELECT coalesce((SELECT array_remove(ARRAY[code, parent_code], NULL)
                               FROM areas WHERE code = $4), '{{}}') AS codes
        ),
        found AS (
            SELECT a.id, v.version, coalesce($3::text = ANY (v.service_items), false) AS linked,
                   {_RANK.format(q="q.q")}
                   * (1 + CASE WHEN $3::text = ANY (v.service_items) THEN 1 ELSE 0 END
                        + CASE WHEN $2::text = ANY (v.hotlines) THEN 0.5 ELSE 0 END
                        + CASE WHEN v.areas && place.codes THEN 0.5 ELSE 0 END) AS score
              FROM kb_article_versions v
              JOIN kb_articles a ON a.id = v.article_id AND a.published_version = v.version,
                   q, place
             WHERE v.state = 'published' AND v.search @@ q.q AND {_CURRENT.format(today="$5")}
               AND ($2::text IS NULL OR v.hotlines = '{{}}' OR $2 = ANY (v.hotlines))
             ORDER BY score DESC, a.id DESC
             LIMIT $6
        )
        SELECT found.id, a.kind, v.title, v.script,
               left(coalesce(nullif(v.body, ''), v.script), 120) AS summary,
               found.score::float8 AS score, found.linked,
               ARRAY(SELECT u.word FROM unnest($7::text[], $8::text[]) AS u(word, q)
                      WHERE v.search @@ to_tsquery('simple', u.q)) AS words
          FROM found
          JOIN kb_articles a ON a.id = found.id
          JOIN kb_article_versions v ON v.article_id = found.id AND v.version = found.version
         ORDER BY found.score DESC, found.id DESC
        """,
        tsquery,
        hotline,
        service_item,
        area,
        today,
        limit,
        [word for word, _ in words],
        [query for _, query in words],
    )


async def published_articles(
    conn: asyncpg.Connection,
    *,
    hotline: str | None,
    kinds: Sequence[str] | None,
    today: dt.date,
) -> list[asyncpg.Record]:
    """The published, valid, non-archived articles (for ``hotline`` or every hotline,
    of ``kinds`` or every kind), each its published version's fields with the
    article's id, code, kind and owner, by kind and title."""
    return await conn.fetch(
        f"""
        SELECT {_ARTICLE}, {_V}
          FROM kb_article_versions v
          JOIN kb_articles a ON a.id = v.article_id AND a.published_version = v.version
         WHERE v.state = 'published' AND {_CURRENT.format(today="$3")}
           AND ($1::text IS NULL OR v.hotlines = '{{}}' OR $1 = ANY (v.hotlines))
           AND ($2::text[] IS NULL OR a.kind = ANY ($2))
         ORDER BY a.kind, v.title, a.id
        """,
        hotline,
        list(kinds) if kinds is not None else None,
        today,
    )


async def review_queue(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT v.article_id, v.version, a.kind, v.title, {_OWNER}, v.written_by,
               w.display_name AS written_by_name, v.written_at, v.change_note
          FROM kb_article_versions v
          JOIN kb_articles a ON a.id = v.article_id
          LEFT JOIN enterprises e ON e.id = a.owner_enterprise_id
          LEFT JOIN users w ON w.id = v.written_by
         WHERE v.state = 'submitted' AND a.archived_at IS NULL
         ORDER BY v.written_at, v.article_id, v.version
         LIMIT $1
        """,
        limit,
    )


async def insert_answer(
    conn: asyncpg.Connection,
    *,
    article_id: int,
    version: int,
    order_id: int | None,
    user_id: int | None,
    hotline_code: str | None,
    now: dt.datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO kb_answers (article_id, version, order_id, user_id, hotline_code, answered_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        article_id,
        version,
        order_id,
        user_id,
        hotline_code,
        now,
    )


async def answer_of_order(conn: asyncpg.Connection, order_id: int) -> asyncpg.Record | None:
    """The article an order was answered with ({id, version, title}), if any."""
    return await conn.fetchrow(
        """
        SELECT x.article_id AS id, x.version, v.title
          FROM kb_answers x
          JOIN kb_article_versions v ON v.article_id = x.article_id AND v.version = x.version
         WHERE x.order_id = $1
         ORDER BY x.id DESC LIMIT 1
        """,
        order_id,
    )


async def insert_gap(
    conn: asyncpg.Connection,
    *,
    question: str,
    hotline_code: str | None,
    order_id: int | None,
    user_id: int | None,
    source: str,
    now: dt.datetime,
) -> None:
    """A question no article answered; an order's is recorded once."""
    await conn.execute(
        """
        INSERT INTO kb_gaps (question, hotline_code, order_id, user_id, source, asked_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (order_id) WHERE source = 'order' DO NOTHING
        """,
        question,
        hotline_code,
        order_id,
        user_id,
        source,
        now,
    )


async def usage(
    conn: asyncpg.Connection, start: dt.datetime, end: dt.datetime, limit: int
) -> list[asyncpg.Record]:
    """The articles answered with in [start, end), most used first."""
    return await conn.fetch(
        """
        SELECT x.article_id, coalesce(p.title, l.title) AS title, a.kind,
               count(*) AS answers, max(x.answered_at) AS last_answered_at
          FROM kb_answers x
          JOIN kb_articles a ON a.id = x.article_id
          JOIN kb_article_versions l ON l.article_id = a.id AND l.version = a.latest_version
          LEFT JOIN kb_article_versions p
                 ON p.article_id = a.id AND p.version = a.published_version
         WHERE x.answered_at >= $1 AND x.answered_at < $2
         GROUP BY x.article_id, p.title, l.title, a.kind
         ORDER BY answers DESC, last_answered_at DESC
         LIMIT $3
        """,
        start,
        end,
        limit,
    )


async def gaps(
    conn: asyncpg.Connection, start: dt.datetime, end: dt.datetime, limit: int
) -> list[asyncpg.Record]:
    """The questions no article answered in [start, end), the same words counted
    together, most asked first; the hotline and order of the latest asking."""
    return await conn.fetch(
        """
        SELECT question, count(*) AS times, max(asked_at) AS last_asked_at,
               (array_agg(hotline_code ORDER BY asked_at DESC, id DESC))[1] AS hotline,
               (array_agg(order_id ORDER BY asked_at DESC, id DESC))[1] AS order_id
          FROM kb_gaps
         WHERE asked_at >= $1 AND asked_at < $2
         GROUP BY question
         ORDER BY times DESC, last_asked_at DESC
         LIMIT $3
        """,
        start,
        end,
        limit,
    )


async def consultation(conn: asyncpg.Connection, order_id: int) -> asyncpg.Record | None:
    """What the gap subscriber reads of a newly registered order, and whether it was
    already answered with an article."""
    return await conn.fetchrow(
        """
        SELECT o.id, o.kind, o.hotline_code, o.service_item_code, o.area_code, o.description,
               o.registered_by,
               EXISTS (SELECT 1 FROM kb_answers x WHERE x.order_id = o.id) AS answered
          FROM work_orders o
         WHERE o.id = $1
        """,
        order_id,
    )


async def existing(conn: asyncpg.Connection, table: str, codes: Sequence[str]) -> set[str]:
    """Which of ``codes`` name rows of a reference ``table`` (hotlines, areas,
    service_items)."""
    if table not in {"hotlines", "areas", "service_items"}:
        raise ValueError(table)
    rows = await conn.fetch(f"SELECT code FROM {table} WHERE code = ANY ($1)", list(codes))
    return {r["code"] for r in rows}


async def enterprise_ids(conn: asyncpg.Connection, codes: Sequence[str]) -> dict[str, int]:
    rows = await conn.fetch("SELECT code, id FROM enterprises WHERE code = ANY ($1)", list(codes))
    return {r["code"]: r["id"] for r in rows}
