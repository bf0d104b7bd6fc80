"""The knowledge base's seed file (``config/knowledge/articles.json``): articles the
centre ships, loaded by ``hotline seed``, idempotent by code. A new code becomes an
article whose version 1 is published; an unchanged one is left alone; a changed one
gets a new published version (the one before superseded). The file is checked whole
before anything is written: a bad one is refused with every fault named."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotline.knowledge import queries
from hotline.knowledge.models import TEXT_FIELDS, EnglishText, Kind
from hotline.knowledge.service import add_version

# What a version loaded from the file says of itself in the history.
SEED_NOTE = "loaded from the seed file"
# The fields whose change makes a new version (the review date follows the load).
COMPARED = (*TEXT_FIELDS, "en", "service_items", "hotlines", "areas", "demo")


class SeedFileError(ValueError):
    """The seed file cannot be loaded; the message names every fault."""


class SeedArticle(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Kind
    owner: str | None = Field(default=None, description="the enterprise's code; null: the centre")
    service_items: list[str] = Field(default_factory=list)
    hotlines: list[str] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20000)
    script: str = Field(default="", max_length=4000)
    documents: list[str] = Field(default_factory=list)
    fees: str = ""
    time_limit: str = ""
    steps: list[str] = Field(default_factory=list)
    en: EnglishText = Field(default_factory=EnglishText)
    review_months: int = Field(ge=1, le=60)
    demo: bool = True


def read_articles(path: Path) -> list[SeedArticle]:
    """The file's articles, or ``SeedFileError`` naming each fault (by position and code)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SeedFileError(f"{path}: cannot be read as JSON: {exc}") from exc
    if not isinstance(data, list):
        raise SeedFileError(f"{path}: must be a JSON list of articles")
    articles: list[SeedArticle] = []
    faults: list[str] = []
    for position, item in enumerate(data, 1):
        name = item.get("code") if isinstance(item, dict) else None
        try:
            articles.append(SeedArticle.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"]) or "article"
                faults.append(f"article {position} ({name}): {where}: {error['msg']}")
    seen: set[str] = set()
    for article in articles:
        if article.code in seen:
            faults.append(f"code {article.code} appears twice")
        seen.add(article.code)
    if faults:
        raise SeedFileError(f"{path}: refused:\n  " + "\n  ".join(faults))
    return articles


async def _check_references(
    conn: asyncpg.Connection, articles: list[SeedArticle]
) -> dict[str, int]:
    """Every code the articles name exists; the owners' ids by code."""
    owners = await queries.enterprise_ids(conn, sorted({a.owner for a in articles if a.owner}))
    faults = []
    for table in ("service_items", "hotlines", "areas"):
        named = sorted({c for a in articles for c in getattr(a, table)})
        known = await queries.existing(conn, table, named)
        faults += [
            f"{a.code}: {table}: unknown {c}"
            for a in articles
            for c in getattr(a, table)
            if c not in known
        ]
    faults += [
        f"{a.code}: owner: unknown {a.owner}" for a in articles if a.owner and a.owner not in owners
    ]
    if faults:
        raise SeedFileError("the seed file names what does not exist:\n  " + "\n  ".join(faults))
    return owners


def _version(article: SeedArticle, today: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    def clean(values: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in values if v.strip()))

    text = {name: getattr(article, name) for name in TEXT_FIELDS}
    text["documents"], text["steps"] = clean(article.documents), clean(article.steps)
    text["en"] = article.en.model_dump(exclude_none=True)
    months = today.month - 1 + article.review_months
    year, month = today.year + months // 12, months % 12 + 1
    links = {
        "service_items": clean(article.service_items),
        "hotlines": clean(article.hotlines),
        "areas": clean(article.areas),
        "valid_from": None,
        "valid_until": None,
        # The same day of the month, or the month's last when it has no such day.
        "review_due": _on_day(year, month, today.day),
    }
    return text, links


def _on_day(year: int, month: int, day: int) -> dt.date:
    while True:
        try:
            return dt.date(year, month, day)
        except ValueError:
            day -= 1


async def do_seed_articles(
    conn: asyncpg.Connection, articles: list[SeedArticle], now: dt.datetime, today: dt.date
) -> dict[str, int]:
    """Load ``articles`` (``read_articles``'): how many were new, changed and unchanged.
    A code whose kind or owner changed is refused: that is another article."""
    owners = await _check_references(conn, articles)
    counts = dict.fromkeys(("new", "changed", "unchanged"), 0)
    for article in articles:
        text, links = _version(article, today)
        owner = owners.get(article.owner) if article.owner else None
        existing = await queries.article_by_code(conn, article.code)
        if existing is None:
            article_id = await queries.insert_article(
                conn,
                code=article.code,
                kind=article.kind,
                owner_enterprise_id=owner,
                created_by=None,
                now=now,
            )
            number = 1
            counts["new"] += 1
        else:
            if (existing["kind"], existing["owner_enterprise_id"]) != (article.kind, owner):
                raise SeedFileError(
                    f"{article.code}: its kind or owner changed; give the new article a new code"
                )
            latest = await queries.version(conn, existing["id"], existing["latest_version"])
            assert latest is not None  # an article has its latest version
            sent = {**text, **links, "demo": article.demo}
            if all(latest[name] == sent[name] for name in COMPARED):
                counts["unchanged"] += 1
                continue
            article_id, number = existing["id"], existing["latest_version"] + 1
            counts["changed"] += 1
        await add_version(
            conn,
            article_id,
            number,
            state="published",
            text=text,
            links=links,
            demo=article.demo,
            change_note=SEED_NOTE,
            written_by=None,
            now=now,
        )
    return counts
