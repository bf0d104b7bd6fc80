"""The segmentation full-text search indexes and queries with (hotline/words.py)."""

from __future__ import annotations

import asyncpg

from hotline.words import Words, load_synonyms

WORDS = Words()


async def matches(pool: asyncpg.Pool, text: str, query: str, *, every: bool = True) -> bool:
    tsquery = WORDS.tsquery(WORDS.for_query(query), every=every)
    assert tsquery is not None
    return bool(
        await pool.fetchval(
            "SELECT to_tsvector('simple', $1) @@ to_tsquery('simple', $2)",
            WORDS.for_index(text),
            tsquery,
        )
    )


def test_synonym_groups_reach_every_member() -> None:
    table = load_synonyms()
    assert "供热" in table["暖气"] and "暖气" in table["供热"]
    assert "燃气" in table["煤气"]


async def test_a_query_word_finds_the_text_however_it_was_cut(pool: asyncpg.Pool) -> None:
    assert await matches(pool, "市南区香港中路10号楼下水管漏水", "香港中路")
    assert await matches(pool, "市南区香港中路10号楼下水管漏水", "香港")
    assert await matches(pool, "宁夏路201号3单元暖气不热", "宁夏路201号")


async def test_synonyms_widen_a_query(pool: asyncpg.Pool) -> None:
    assert await matches(pool, "小区供热温度太低", "暖气")
    assert await matches(pool, "燃气表走字太快", "煤气表")
    assert not await matches(pool, "小区供热温度太低", "停水")


async def test_every_word_or_any_word(pool: asyncpg.Pool) -> None:
    assert not await matches(pool, "暖气不热", "暖气 漏水")
    assert await matches(pool, "暖气不热", "暖气 漏水", every=False)


def test_fillers_and_punctuation_are_not_words() -> None:
    assert WORDS.for_query("请问一下，我家的暖气？") == ["暖气"]
    assert WORDS.tsquery(WORDS.for_query("，。？")) is None


def test_quotes_in_a_query_stay_literal() -> None:
    assert WORDS.tsquery(["it's"]) == "('it''s')"
