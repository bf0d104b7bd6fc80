"""SQL the public service guide reads besides the catalogue (the reference cache), the
running outages (``routing.queries.running_outages``) and the published articles
(``hotline.knowledge.queries.published_articles``)."""

from __future__ import annotations

import asyncpg


async def knowledge_stamp(conn: asyncpg.Connection) -> tuple[object, ...]:
    """What changes whenever the set of published articles or one of them does: how
    many are published and the latest moment one was written, reviewed, published or
    archived. One indexed aggregate, read on every request instead of the articles."""
    row = await conn.fetchrow(
        """
        SELECT count(*) AS published,
               max(greatest(v.written_at, v.reviewed_at, v.published_at)) AS changed_at,
               max(a.archived_at) AS archived_at
          FROM kb_articles a
          JOIN kb_article_versions v ON v.article_id = a.id AND v.version = a.published_version
        """
    )
    assert row is not None
    return tuple(row.values())
