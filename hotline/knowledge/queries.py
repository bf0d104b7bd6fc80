"""The knowledge base's SQL: articles, their versions, answers given with them and the
questions they did not answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
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
# A search of the published articles pages through its best candidates only: a query
# whose words are everywhere ranks this many and no more.
RANKED_PAGES = 1000
# A suggestion chooses among the best candidates by their words, then boosts by links.
SUGGEST_CANDIDATES = 200
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
    await refresh_postings(conn, article_id)


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
    await refresh_postings(conn, article_id)


# A word's weight in an article from where it stands: the title (tsvector weight A)
# counts 3, the script (B) 2, the rest 1; saturated as BM25 saturates a term's
# frequency (k1 = 1.2), so that a word in every part does not outweigh two words.
_POSTINGS = """
    INSERT INTO kb_postings (word, article_id, weight)
    SELECT u.lexeme, a.id, t.tf * 2.2 / (t.tf + 1.2)
      FROM kb_articles a
      JOIN kb_article_versions v ON v.article_id = a.id AND v.version = a.published_version
     CROSS JOIN LATERAL unnest(v.search) AS u
     CROSS JOIN LATERAL (
         SELECT sum(CASE w WHEN 'A' THEN 3 WHEN 'B' THEN 2 ELSE 1 END)::real AS tf
           FROM unnest(u.weights) AS w
     ) t
     WHERE a.id = $1 AND a.archived_at IS NULL AND v.state = 'published'
    RETURNING word"""


# The row of kb_words that counts the articles with postings (no word is empty).
ARTICLES_ROW = ""


async def refresh_postings(conn: asyncpg.Connection, article_id: int) -> None:
    """The article's postings from its published version (none once archived), and the
    counts moved by the difference: each word's, and the articles' (``ARTICLES_ROW``).
    The counts' rows are locked in word order, so two publications at once wait for
    each other instead of deadlocking."""
    old = {
        r["word"]
        for r in await conn.fetch(
            "DELETE FROM kb_postings WHERE article_id = $1 RETURNING word", article_id
        )
    }
    new = {r["word"] for r in await conn.fetch(_POSTINGS, article_id)}
    gone, came = sorted(old - new), sorted(new - old)
    if bool(old) != bool(new):
        (came if new else gone).insert(0, ARTICLES_ROW)
    if not gone and not came:
        return
    await conn.execute(
        "SELECT 1 FROM kb_words WHERE word = ANY ($1) ORDER BY word FOR UPDATE", gone + came
    )
    await conn.execute("UPDATE kb_words SET articles = articles - 1 WHERE word = ANY ($1)", gone)
    await conn.execute(
        """
        INSERT INTO kb_words (word, articles) SELECT unnest($1::text[]), 1
        ON CONFLICT (word) DO UPDATE SET articles = kb_words.articles + 1
        """,
        came,
    )


async def word_counts(conn: asyncpg.Connection, words: Sequence[str]) -> tuple[dict[str, int], int]:
    """How many live published articles have each of ``words``, and how many there are."""
    rows = await conn.fetch(
        "SELECT word, articles FROM kb_words WHERE word = ANY ($1) AND articles > 0",
        [ARTICLES_ROW, *words],
    )
    counts = {r["word"]: r["articles"] for r in rows}
    return counts, counts.pop(ARTICLES_ROW, 0)


@dataclass(frozen=True)
class Ranking:
    """A search by the postings: each asked word (a synonym counts as its word: the same
    term) with its term's number and weight (idf), and how many terms an article must
    have (all of them, or one)."""

    words: list[str]
    terms: list[int]
    idfs: list[float]
    need: int


# The best ``candidates`` live published articles for a ranking: per term the best of
# its words' weights times the term's idf, summed (BM25 without length normalisation:
# articles are of a length). Reads the postings of the asked words only.
_RANKED = """
    asked AS (
        SELECT * FROM unnest({words}::text[], {terms}::int[], {idfs}::real[])
                   AS x(word, term, idf)
    ),
    -- The words' postings by the primary key (``= ANY``: a join of the words to the
    -- postings may be planned as a scan of every posting).
    hits AS (
        SELECT p.article_id, x.term, max(p.weight * x.idf) AS score
          FROM kb_postings p JOIN asked x ON x.word = p.word
         WHERE p.word = ANY ({words}::text[])
         GROUP BY p.article_id, x.term
    ),
    ranked AS (
        SELECT article_id, sum(score) AS score, array_agg(term ORDER BY term) AS terms
          FROM hits
         GROUP BY article_id
        HAVING count(*) >= {need}
         ORDER BY score DESC, article_id DESC
         LIMIT {candidates}
    )"""


def ranked_cte(w: Where, ranking: Ranking, candidates: int) -> str:
    return _RANKED.format(
        words=w.param(ranking.words),
        terms=w.param(ranking.terms),
        idfs=w.param(ranking.idfs),
        need=w.param(ranking.need),
        candidates=w.param(candidates),
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
    ranking: Ranking | None,
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
    for its own, False for none. Searched, ranked by relevance and paged by offset
    ``after``: the published articles by ``ranking`` (their postings, among the best
    ``RANKED_PAGES`` candidates), the others by ``tsquery`` (their texts: drafts are
    few); otherwise newest first and paged by the last id."""
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
    rank, source, ranked = "NULL::real", "kb_article_versions v", ""
    if ranking is not None:
        ranked = "WITH " + ranked_cte(w, ranking, RANKED_PAGES) + ","
        rank, source = (
            "r.score",
            "ranked r JOIN kb_article_versions v ON v.article_id = r.article_id",
        )
    elif tsquery is not None:
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
    if ranking is not None or tsquery is not None:
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
        {ranked or "WITH"} page AS (
            SELECT a.id, v.version, {rank} AS score
              FROM {source}
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
    ranking: Ranking,
    hotline: str | None,
    service_item: str | None,
    area: str | None,
    today: dt.date,
    limit: int,
) -> list[asyncpg.Record]:
    """The published articles valid ``today`` (for ``hotline`` or every hotline) best
    for ``ranking``: its rank, boosted for an article linked to the service item, to the
    hotline itself or to the area (or its district); each with the terms it matched."""
    w = Where(today, hotline, service_item, area)
    ranked = ranked_cte(w, ranking, SUGGEST_CANDIDATES)
    return await conn.fetch(
        f"""
        WITH {ranked},
        place AS (
            SELECT coalesce((SELECT array_remove(ARRAY[code, parent_code], NULL)
                               FROM areas WHERE code = $4), '{{}}') AS codes
        ),
        found AS (
            SELECT a.id, a.kind, v.title, v.script, v.body, r.terms,
                   coalesce($3::text = ANY (v.service_items), false) AS linked,
                   r.score
                   * (1 + CASE WHEN $3::text = ANY (v.service_items) THEN 1 ELSE 0 END
                        + CASE WHEN $2::text = ANY (v.hotlines) THEN 0.5 ELSE 0 END
                        + CASE WHEN v.areas && place.codes THEN 0.5 ELSE 0 END) AS score
              FROM ranked r
              JOIN kb_articles a ON a.id = r.article_id
              JOIN kb_article_versions v
                ON v.article_id = a.id AND v.version = a.published_version,
                   place
             WHERE v.state = 'published' AND {_CURRENT.format(today="$1")}
               AND ($2::text IS NULL OR v.hotlines = '{{}}' OR $2 = ANY (v.hotlines))
             ORDER BY score DESC, a.id DESC
             LIMIT {w.param(limit)}
        )
        SELECT id, kind, title, script, left(coalesce(nullif(body, ''), script), 120) AS summary,
               score::float8 AS score, linked, terms
          FROM found
         ORDER BY score DESC, id DESC
        """,
        *w.params,
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
