"""The knowledge base's use cases: writing, review and publication of articles, their
search and suggestion, the answers given with them and the questions left unanswered.

Who may do what: every centre and enterprise user reads the published articles; the
centre's supervisors and admins write the centre's articles, an enterprise's users
their enterprise's (never another's or the centre's); supervisors and admins review
(approve, reject) and archive every article."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from hotline import i18n
from hotline.context import JobContext
from hotline.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.knowledge import queries
from hotline.knowledge.models import TEXT_FIELDS, ArticleEdit, ArticleFilter, ArticleInput
from hotline.orders.lifecycle import ORDER_REGISTERED
from hotline.outbox.handlers import topics
from hotline.users.models import ENTERPRISE_ROLES, SUPERVISOR_ROLES, Actor
from hotline.words import Words, shared_words

# Suggestions the agent's console shows as the agent types.
SUGGESTED = 5
REVIEW_QUEUE = 200
# A consultation is answered by the knowledge base when a published article shares
# this many of its words (or all of them, when it has fewer), or is linked to its item.
SHARED_WORDS = 2
# The words of a description a suggestion asks for, the first ones: a long text's
# later words add more matches to rank than they add relevance.
ASKED_WORDS = 30
# A search of the published articles reads the postings of at most this many of its
# words, and of no more words once their postings pass this many rows: a few
# milliseconds of index-only reading.
RANKED_TERMS = 12
POSTINGS_READ = 10_000
# The mark of a search cursor whose pages ask for any word.
ANY_WORD = "any:"
REVIEWED_ONLY = "only a submitted version is reviewed; version {version} is {state}"


def words() -> Words:
    """The process's segmentation (its jieba dictionary loads on first use)."""
    return shared_words()


def _not_found(article_id: int) -> NotFound:
    return NotFound(
        "article {article_id} not found", code="article_not_found", article_id=article_id
    )


def writable_by(actor: Actor) -> int | bool:
    """Whose articles ``actor`` may write: every centre article (True, for supervisors
    and admins), an enterprise's own (its id), none (False)."""
    if actor.role in SUPERVISOR_ROLES:
        return True
    if actor.role in ENTERPRISE_ROLES and actor.enterprise_id is not None:
        return actor.enterprise_id
    return False


def may_write(actor: Actor, article: asyncpg.Record) -> bool:
    """The centre writes the centre's articles, an enterprise its own."""
    owner = article["owner_enterprise_id"]
    if actor.role in SUPERVISOR_ROLES:
        return owner is None
    return owner is not None and actor.role in ENTERPRISE_ROLES and owner == actor.enterprise_id


def may_see_unpublished(actor: Actor, article: asyncpg.Record) -> bool:
    """Drafts and the history: the article's writers and the reviewers."""
    return actor.role in SUPERVISOR_ROLES or may_write(actor, article)


async def _index(text: dict[str, Any]) -> tuple[str, str, str]:
    """The words of a version's title, of its script, and of the rest (its English
    included), cut in a thread: jieba blocks."""
    en = text["en"]
    rest = [
        text["body"],
        *text["documents"],
        text["fees"],
        text["time_limit"],
        *text["steps"],
        *(v if isinstance(v, str) else " ".join(v) for v in en.values()),
    ]
    cut = words().for_index
    return (
        await asyncio.to_thread(cut, text["title"]),
        await asyncio.to_thread(cut, text["script"]),
        await asyncio.to_thread(cut, *rest),
    )


async def check_links(conn: asyncpg.Connection, links: dict[str, Any]) -> None:
    """Every linked service item, hotline and area exists, and the validity period
    ends after it starts; else ``InvalidInput`` naming each field at fault."""
    fields: dict[str, str | i18n.Text] = {}
    # Each field is named for the reference table its codes are from.
    for table in ("service_items", "hotlines", "areas"):
        unknown = set(links[table]) - await queries.existing(conn, table, links[table])
        if unknown:
            fields[table] = i18n.Text("unknown: {codes}", codes=", ".join(sorted(unknown)))
    start, end = links["valid_from"], links["valid_until"]
    if start is not None and end is not None and start > end:
        fields["valid_until"] = "must not be before valid_from"
    if fields:
        raise InvalidInput(
            "the article names what does not exist, or ends before it starts",
            code="invalid_article",
            fields=fields,
        )


def _split(body: ArticleInput) -> tuple[dict[str, Any], dict[str, Any]]:
    """A body's texts and links, lists without blanks or repeats."""

    def clean(values: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in values if v.strip()))

    text = {name: getattr(body, name) for name in TEXT_FIELDS}
    text["documents"], text["steps"] = clean(body.documents), clean(body.steps)
    text["en"] = body.en.model_dump(exclude_none=True)
    links = {
        "service_items": clean(body.service_items),
        "hotlines": clean(body.hotlines),
        "areas": clean(body.areas),
        "valid_from": body.valid_from,
        "valid_until": body.valid_until,
        "review_due": body.review_due,
    }
    return text, links


async def add_version(
    conn: asyncpg.Connection,
    article_id: int,
    number: int,
    *,
    state: str,
    text: dict[str, Any],
    links: dict[str, Any],
    demo: bool,
    change_note: str,
    written_by: int | None,
    now: dt.datetime,
) -> None:
    """A new version ``number``, indexed, the article's latest; published, it
    supersedes the one before."""
    await check_links(conn, links)
    await queries.insert_version(
        conn,
        article_id,
        number,
        state=state,
        text=text,
        links=links,
        demo=demo,
        change_note=change_note,
        written_by=written_by,
        now=now,
        index=await _index(text),
    )
    await queries.set_latest(conn, article_id, number)
    if state == "published":
        await queries.publish(conn, article_id, number)


async def do_create_article(
    conn: asyncpg.Connection, actor: Actor, body: ArticleInput, now: dt.datetime
) -> int:
    """A new article of the actor's enterprise (or the centre's), version 1 a draft or
    submitted; its id."""
    owner = writable_by(actor)
    if owner is False:
        raise Forbidden("you may not write articles", code="not_a_writer")
    text, links = _split(body)
    await check_links(conn, links)
    article_id = await queries.insert_article(
        conn,
        code=None,
        kind=body.kind,
        owner_enterprise_id=None if owner is True else owner,
        created_by=actor.user_id,
        now=now,
    )
    await add_version(
        conn,
        article_id,
        1,
        state="submitted" if body.submit else "draft",
        text=text,
        links=links,
        demo=False,
        change_note=body.change_note,
        written_by=actor.user_id,
        now=now,
    )
    return article_id


async def _article_for(conn: asyncpg.Connection, actor: Actor, article_id: int) -> asyncpg.Record:
    """The article, locked; 404 for one the actor may not see, 403 for one it may see
    but not write."""
    article = await queries.lock_article(conn, article_id)
    if article is None:
        raise _not_found(article_id)
    if not may_write(actor, article):
        if article["published_version"] is None and not may_see_unpublished(actor, article):
            raise _not_found(article_id)
        raise Forbidden("you may not change this article", code="not_your_article")
    return article


async def do_edit_article(
    conn: asyncpg.Connection, actor: Actor, article_id: int, body: ArticleEdit, now: dt.datetime
) -> None:
    """A new version written on top of ``body.base_version``, which must be the latest:
    two writers editing at once, the second is told (409 stale_version)."""
    article = await _article_for(conn, actor, article_id)
    if article["archived_at"] is not None:
        raise Conflict("the article is archived", code="archived")
    if body.kind != article["kind"]:
        raise InvalidInput(
            "an article keeps its kind", code="invalid_article", fields={"kind": "cannot change"}
        )
    if body.base_version != article["latest_version"]:
        raise Conflict(
            "version {latest} was written meanwhile; reload the article and edit that",
            code="stale_version",
            latest=article["latest_version"],
        )
    text, links = _split(body)
    await add_version(
        conn,
        article_id,
        article["latest_version"] + 1,
        state="submitted" if body.submit else "draft",
        text=text,
        links=links,
        demo=False,
        change_note=body.change_note,
        written_by=actor.user_id,
        now=now,
    )


async def _version_in(
    conn: asyncpg.Connection, article_id: int, number: int, state: str, refusal: str
) -> asyncpg.Record:
    """The version, locked, if it is in ``state``; else 409 with ``refusal`` (a template
    of {version} and its {state})."""
    found = await queries.version(conn, article_id, number, for_update=True)
    if found is None:
        raise NotFound(
            "version {version} of article {article_id} not found",
            code="version_not_found",
            version=number,
            article_id=article_id,
        )
    if found["state"] != state:
        raise Conflict(refusal, code="illegal_state", version=number, state=found["state"])
    return found


async def do_submit(
    conn: asyncpg.Connection, actor: Actor, article_id: int, number: int, now: dt.datetime
) -> None:
    """A draft goes to review."""
    article = await _article_for(conn, actor, article_id)
    await _version_in(
        conn,
        article["id"],
        number,
        "draft",
        "only a draft is submitted; version {version} is {state}",
    )
    await queries.set_state(conn, article_id, number, "submitted")


async def _reviewed(conn: asyncpg.Connection, actor: Actor, article_id: int) -> asyncpg.Record:
    if actor.role not in SUPERVISOR_ROLES:
        raise Forbidden("only supervisors review articles", code="not_a_reviewer")
    article = await queries.lock_article(conn, article_id)
    if article is None:
        raise _not_found(article_id)
    return article


async def _reviewed_live(conn: asyncpg.Connection, actor: Actor, article_id: int) -> asyncpg.Record:
    """An article a reviewer approves or rejects a version of: not archived."""
    article = await _reviewed(conn, actor, article_id)
    if article["archived_at"] is not None:
        raise Conflict("the article is archived", code="archived")
    return article


async def do_approve(
    conn: asyncpg.Connection,
    actor: Actor,
    article_id: int,
    number: int,
    note: str,
    now: dt.datetime,
) -> None:
    """A submitted version is published; the version published before is superseded."""
    article = await _reviewed_live(conn, actor, article_id)
    await _version_in(conn, article_id, number, "submitted", REVIEWED_ONLY)
    if article["published_version"] is not None and number < article["published_version"]:
        raise Conflict("a later version is published already", code="older_version", version=number)
    await queries.set_state(
        conn, article_id, number, "published", reviewed_by=actor.user_id, note=note, now=now
    )
    await queries.publish(conn, article_id, number)


async def do_reject(
    conn: asyncpg.Connection,
    actor: Actor,
    article_id: int,
    number: int,
    note: str,
    now: dt.datetime,
) -> None:
    """A submitted version goes back to its writer with what to change."""
    await _reviewed_live(conn, actor, article_id)
    await _version_in(conn, article_id, number, "submitted", REVIEWED_ONLY)
    await queries.set_state(
        conn, article_id, number, "rejected", reviewed_by=actor.user_id, note=note, now=now
    )


async def do_archive(
    conn: asyncpg.Connection, actor: Actor, article_id: int, note: str, now: dt.datetime
) -> None:
    """Out of the lists and suggestions for good; its versions and answers stay."""
    await _reviewed(conn, actor, article_id)
    await queries.archive(conn, article_id, actor.user_id, note, now)


def person(user_id: int | None, name: str | None) -> dict[str, Any] | None:
    return None if user_id is None else {"id": user_id, "name": name}


def _version_json(row: asyncpg.Record) -> dict[str, Any]:
    data = {name: row[name] for name in queries.VERSION_FIELDS}
    data["written_by"] = person(row["written_by"], row["written_by_name"])
    data["reviewed_by"] = person(row["reviewed_by"], row["reviewed_by_name"])
    return data


async def article_json(
    conn: asyncpg.Connection, actor: Actor, article_id: int, number: int | None, today: dt.date
) -> dict[str, Any]:
    """The article in one version (by default the published one, else the latest the
    reader may see) with its history; readers who may not see drafts see only the
    published version and no history of drafts."""
    article = await queries.article(conn, article_id, today)
    if article is None:
        raise _not_found(article_id)
    everything = may_see_unpublished(actor, article)
    published = article["published_version"]
    if not everything and (published is None or article["archived_at"] is not None):
        raise _not_found(article_id)
    if number is None:
        number = published if published is not None else article["latest_version"]
    elif not everything and number != published:
        raise NotFound(
            "version {version} of article {article_id} not found",
            code="version_not_found",
            version=number,
            article_id=article_id,
        )
    shown = await queries.version(conn, article_id, number)
    if shown is None:
        raise NotFound(
            "version {version} of article {article_id} not found",
            code="version_not_found",
            version=number,
            article_id=article_id,
        )
    history = [
        {
            **dict(v),
            "written_by": person(v["written_by"], v["written_by_name"]),
            "reviewed_by": person(v["reviewed_by"], v["reviewed_by_name"]),
        }
        for v in await queries.versions(conn, article_id)
        if everything or v["state"] in {"published", "superseded"}
    ]
    for line in history:
        line.pop("written_by_name")
        line.pop("reviewed_by_name")
    return {
        "id": article["id"],
        "code": article["code"],
        "kind": article["kind"],
        "owner": article["owner"],
        "published_version": published,
        "latest_version": article["latest_version"],
        "archived_at": article["archived_at"],
        "review_overdue": article["review_overdue"],
        "answers": article["answers"],
        "may_write": may_write(actor, article),
        "version": _version_json(shown),
        "versions": history,
    }


async def list_articles(
    conn: asyncpg.Connection, actor: Actor, criteria: ArticleFilter, today: dt.date
) -> tuple[list[dict[str, Any]], str | None, bool]:
    """A page of articles as ``actor`` may see them, the next page's cursor, and whether
    a search (``q``) found nothing at all. A search asks for every word first, then
    for any of them."""
    # A search's cursor is its offset, prefixed with ANY_WORD when its first page had
    # to fall back to any word: the later pages ask as the first one did.
    cursor = criteria.cursor or ""
    fallen_back = cursor.startswith(ANY_WORD)
    after = int(cursor.removeprefix(ANY_WORD)) if cursor else None
    modes: list[bool | None] = [None]  # no search: every article, newest first
    if criteria.q:
        modes = [False] if fallen_back else [True, False] if after is None else [True]
    queried = await asyncio.to_thread(words().for_query, criteria.q) if criteria.q else []
    rows: list[asyncpg.Record] = []
    for every in modes:
        tsquery, ranking = None, None
        if every is not None and criteria.state == "published":
            ranking = await _ranking(conn, queried, every=every)
            if ranking is None:
                continue  # no article has every word (or any): ask for fewer
        elif every is not None:
            tsquery = words().tsquery(queried, every=every)
            if tsquery is None:
                break  # nothing but stopwords: nothing to find
        rows = await queries.list_articles(
            conn,
            state=criteria.state,
            writable_by=writable_by(actor),
            tsquery=tsquery,
            ranking=ranking,
            kind=criteria.kind,
            service_item=criteria.service_item,
            hotline=criteria.hotline,
            area=criteria.area,
            owner=criteria.owner,
            review_overdue=criteria.review_overdue,
            today=today,
            limit=criteria.limit + 1,
            after=after,
        )
        if rows:
            fallen_back = every is False
            break
    more = len(rows) > criteria.limit
    rows = rows[: criteria.limit]
    next_cursor = None
    if more and criteria.q:
        next_cursor = (ANY_WORD if fallen_back else "") + str((after or 0) + len(rows))
    elif more:
        next_cursor = str(rows[-1]["id"])
    nothing = bool(criteria.q) and not rows and after is None
    return [dict(r) for r in rows], next_cursor, nothing


async def do_record_gap(
    conn: asyncpg.Connection,
    *,
    question: str,
    hotline_code: str | None,
    order_id: int | None,
    user_id: int | None,
    source: str,
    now: dt.datetime,
) -> None:
    """A question no article answered (an order's once, however often it is told)."""
    await queries.insert_gap(
        conn,
        question=question.strip()[:500],
        hotline_code=hotline_code,
        order_id=order_id,
        user_id=user_id,
        source=source,
        now=now,
    )


async def _ranking(
    conn: asyncpg.Connection, asked: list[str], *, every: bool
) -> queries.Ranking | None:
    """The search of the published articles for ``asked`` (each word a term, with its
    synonyms), or None when no article has any of them (``every``: all of them). The
    rarest terms are asked first; the commonest are left out once their postings would
    pass ``POSTINGS_READ`` (they would cost the most and weigh the least), as are the
    terms past ``RANKED_TERMS``."""
    synonyms = words().synonyms
    groups = [synonyms.get(word, (word,)) for word in asked]
    counts, total = await queries.word_counts(conn, sorted({v for g in groups for v in g}))
    # A term's articles: about those of its commonest word (its idf); what it costs to
    # read: the postings of all its words.
    found = sorted(
        (sum(counts.get(v, 0) for v in g), max(counts.get(v, 0) for v in g), term)
        for term, g in enumerate(groups)
        if any(counts.get(v) for v in g)
    )
    if not found or (every and len(found) < len(groups)):
        return None
    kept: list[tuple[int, int]] = []
    read = 0
    for postings, count, term in found:
        if kept and (len(kept) == RANKED_TERMS or read + postings > POSTINGS_READ):
            break
        kept.append((count, term))
        read += postings
    ranking = queries.Ranking(words=[], terms=[], idfs=[], need=len(kept) if every else 1)
    for count, term in kept:
        idf = math.log(1 + (total - count + 0.5) / (count + 0.5))
        for variant in groups[term]:
            ranking.words.append(variant)
            ranking.terms.append(term)
            ranking.idfs.append(idf)
    return ranking


async def suggest(
    conn: asyncpg.Connection,
    text: str,
    *,
    hotline: str | None,
    service_item: str | None,
    area: str | None,
    today: dt.date,
    limit: int = SUGGESTED,
) -> list[dict[str, Any]]:
    """The articles that best answer ``text`` (any of its words), with the words each
    matched; records nothing."""
    asked = (await asyncio.to_thread(words().for_query, text))[:ASKED_WORDS]
    ranking = await _ranking(conn, asked, every=False)
    if ranking is None:
        return []
    rows = await queries.suggest(
        conn,
        ranking=ranking,
        hotline=hotline,
        service_item=service_item,
        area=area,
        today=today,
        limit=limit,
    )
    return [
        {**{k: v for k, v in r.items() if k != "terms"}, "words": [asked[t] for t in r["terms"]]}
        for r in rows
    ]


async def answering_article(
    conn: asyncpg.Connection, article_id: int, today: dt.date
) -> dict[str, Any]:
    """The article an order is answered with: {id, version, title} of its published
    version; 404 for an unknown article, 422 for one not published (or archived, or not
    valid today)."""
    article = await queries.article(conn, article_id, today)
    if article is None:
        raise _not_found(article_id)
    published = article["published_version"]
    shown = await queries.version(conn, article_id, published) if published is not None else None
    current = (
        shown is not None
        and article["archived_at"] is None
        and (shown["valid_from"] is None or shown["valid_from"] <= today)
        and (shown["valid_until"] is None or shown["valid_until"] >= today)
    )
    if shown is None or not current:
        raise InvalidInput(
            "article {article_id} is not published",
            code="article_not_published",
            fields={"article_id": "not published"},
            article_id=article_id,
        )
    return {"id": article_id, "version": published, "title": shown["title"]}


async def record_answer(
    conn: asyncpg.Connection,
    article: Mapping[str, Any],
    *,
    order_id: int | None,
    user_id: int | None,
    hotline_code: str | None,
    now: dt.datetime,
) -> None:
    """An answer given with ``article`` (``answering_article``'s)."""
    await queries.insert_answer(
        conn,
        article_id=article["id"],
        version=article["version"],
        order_id=order_id,
        user_id=user_id,
        hotline_code=hotline_code,
        now=now,
    )


async def article_answered_with(conn: asyncpg.Connection, order_id: int) -> dict[str, Any] | None:
    """The article an order was answered with ({id, version, title}), if any."""
    row = await queries.answer_of_order(conn, order_id)
    return dict(row) if row is not None else None


async def answered(
    conn: asyncpg.Connection,
    text: str,
    *,
    hotline: str | None,
    service_item: str | None,
    area: str | None,
    today: dt.date,
) -> bool:
    """Whether a published article answers ``text``: one linked to its service item,
    or one sharing ``SHARED_WORDS`` of its words (all of them, when it has fewer)."""
    asked = (await asyncio.to_thread(words().for_query, text))[:ASKED_WORDS]
    enough = min(SHARED_WORDS, len(asked))
    found = await suggest(
        conn, text, hotline=hotline, service_item=service_item, area=area, today=today
    )
    return any(f["linked"] or len(f["words"]) >= enough for f in found)


async def on_order_registered(
    conn: asyncpg.Connection, payload: dict[str, Any], ctx: JobContext
) -> None:
    """A consultation registered while no published article answers it is a gap
    (source 'order'); one answered on the call with an article is not. A second
    delivery finds the gap recorded and adds nothing."""
    order = await queries.consultation(conn, payload["order_id"])
    if order is None or order["kind"] != "consultation" or order["answered"]:
        return
    now = ctx.clock()
    today = now.astimezone(ZoneInfo(ctx.settings.timezone)).date()
    if await answered(
        conn,
        order["description"],
        hotline=order["hotline_code"],
        service_item=order["service_item_code"],
        area=order["area_code"],
        today=today,
    ):
        return
    await do_record_gap(
        conn,
        question=order["description"],
        hotline_code=order["hotline_code"],
        order_id=order["id"],
        user_id=order["registered_by"],
        source="order",
        now=now,
    )


def subscribe() -> None:
    topics.subscribe(ORDER_REGISTERED, on_order_registered)
