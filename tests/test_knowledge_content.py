"""The knowledge base's seed content (config/knowledge/articles.json, issue 17, item 4)
holds what its loader and its readers rely on: the documented shape, codes that point at
the demo configuration, a guide and an answering script for each of the 25 unified
items, guides whose time limits say what the catalogue says, quoted prices marked as
demo figures, and an English text for every Chinese one. No database needed."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hotline.reference.reach import HOTLINE_REACH

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "config" / "knowledge" / "articles.json"
DEMO = ROOT / "config" / "demo"

KEYS = {
    "code",
    "kind",
    "owner",
    "service_items",
    "hotlines",
    "areas",
    "title",
    "body",
    "script",
    "documents",
    "fees",
    "time_limit",
    "steps",
    "en",
    "review_months",
    "demo",
}
EN_KEYS = {"title", "body", "script", "documents", "fees", "time_limit", "steps"}
# A code says what the article is: ITEM-guide and ITEM-script answer one unified item,
# the other kinds carry their kind as a prefix.
CODE = {
    "guide": re.compile(r"^[A-Z]\d\d-guide$"),
    "script": re.compile(r"^[A-Z]\d\d-script$"),
    "faq": re.compile(r"^faq-[a-z0-9-]+$"),
    "policy": re.compile(r"^policy-[a-z0-9-]+$"),
    "outage": re.compile(r"^outage-[a-z0-9-]+$"),
}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# The words a time limit uses for each catalogue unit, in Chinese and English.
UNIT_WORDS = {
    "working_days": ("工作日", "working day"),
    "working_hours": ("工作小时", "working hour"),
    "hours": ("小时", "hour"),
}
# Outage templates' placeholders, Chinese → the English text's.
PLACEHOLDERS = {
    "区域": "area",
    "时间": "time",
    "原因": "reason",
    "恢复时间": "restore_time",
}
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PRICE_ZH = re.compile(r"\d\s*元")


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def articles() -> list[dict[str, Any]]:
    loaded = _load(ARTICLES)
    assert isinstance(loaded, list) and loaded
    return loaded


@pytest.fixture(scope="module")
def catalogue() -> dict[str, dict[str, Any]]:
    """Every catalogue code, unified and general, -> its entry."""
    loaded = _load(DEMO / "catalogue.json")
    return {item["code"]: item for item in loaded["items"] + loaded["general"]}


@pytest.fixture(scope="module")
def unified() -> list[str]:
    return [item["code"] for item in _load(DEMO / "catalogue.json")["items"]]


@pytest.fixture(scope="module")
def reach() -> dict[str, set[str] | None]:
    """Hotline code -> the item domains it takes; None for a hotline that takes all."""
    return {
        h["code"]: None
        if h["domain"] is None
        else set(HOTLINE_REACH.get(h["domain"], {h["domain"]}))
        for h in _load(DEMO / "hotlines.json")
    }


def _texts(article: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, text) for every Chinese and English text of an article."""
    en = article["en"]
    pairs = [(f, article[f]) for f in ("title", "body", "script", "fees", "time_limit")]
    pairs += [(f"en.{f}", en[f]) for f in ("title", "body", "script", "fees", "time_limit")]
    for field in ("documents", "steps"):
        pairs += [(field, t) for t in article[field]] + [(f"en.{field}", t) for t in en[field]]
    return pairs


def test_every_article_has_the_documented_shape(articles: list[dict[str, Any]]) -> None:
    for a in articles:
        assert set(a) == KEYS, a.get("code")
        assert isinstance(a["en"], dict) and set(a["en"]) == EN_KEYS, a["code"]
        assert a["demo"] is True, a["code"]
        assert isinstance(a["review_months"], int) and 1 <= a["review_months"] <= 36, a["code"]
        for field in ("service_items", "hotlines", "areas", "documents", "steps"):
            assert isinstance(a[field], list), (a["code"], field)
        for field, text in _texts(a):
            assert isinstance(text, str) and text == text.strip(), (a["code"], field)


def test_codes_are_unique_and_say_the_kind(articles: list[dict[str, Any]]) -> None:
    twice = [code for code, n in Counter(a["code"] for a in articles).items() if n > 1]
    assert twice == []
    for a in articles:
        assert a["kind"] in CODE, a["code"]
        assert CODE[a["kind"]].match(a["code"]), a["code"]


def test_every_code_points_at_the_demo_configuration(
    articles: list[dict[str, Any]], catalogue: dict[str, dict[str, Any]]
) -> None:
    enterprises = {e["code"] for e in _load(DEMO / "enterprises.json")}
    hotlines = {h["code"] for h in _load(DEMO / "hotlines.json")}
    areas = {d["code"] for d in _load(DEMO / "areas.json")}
    areas |= {s["code"] for d in _load(DEMO / "areas.json") for s in d["streets"]}
    for a in articles:
        assert a["owner"] is None or a["owner"] in enterprises, a["code"]
        assert set(a["service_items"]) <= set(catalogue), a["code"]
        assert set(a["hotlines"]) <= hotlines, a["code"]
        assert set(a["areas"]) <= areas, a["code"]
        for field in ("service_items", "hotlines", "areas"):
            assert len(set(a[field])) == len(a[field]), (a["code"], field)


def test_every_unified_item_has_a_guide_and_a_script_from_its_enterprise(
    articles: list[dict[str, Any]], catalogue: dict[str, dict[str, Any]], unified: list[str]
) -> None:
    by_code = {a["code"]: a for a in articles}
    groups = _load(DEMO / "routing.json")["domain_groups"]
    assert len(unified) == 25
    for item in unified:
        for kind in ("guide", "script"):
            article = by_code.get(f"{item}-{kind}")
            assert article is not None, f"{item} has no {kind}"
            assert article["kind"] == kind and article["service_items"] == [item]
            assert article["owner"] == groups[catalogue[item]["domain"]], article["code"]
            assert article["hotlines"], f"{article['code']} names no hotline"


def test_articles_are_offered_only_on_hotlines_that_take_their_items(
    articles: list[dict[str, Any]],
    catalogue: dict[str, dict[str, Any]],
    reach: dict[str, set[str] | None],
) -> None:
    for a in articles:
        domains = {catalogue[c]["domain"] for c in a["service_items"]} - {None}
        for hotline in a["hotlines"]:
            takes = reach[hotline]
            assert takes is None or domains <= takes, (a["code"], hotline)


def test_guides_say_what_to_bring_what_it_costs_how_long_and_how(
    articles: list[dict[str, Any]],
) -> None:
    for a in articles:
        en = a["en"]
        if a["kind"] == "guide":
            assert a["documents"] and a["fees"] and a["time_limit"], a["code"]
            assert 3 <= len(a["steps"]) <= 6, a["code"]
        else:
            assert (a["fees"], a["time_limit"], a["steps"]) == ("", "", []), a["code"]
        assert len(en["documents"]) == len(a["documents"]), a["code"]
        assert len(en["steps"]) == len(a["steps"]), a["code"]
        assert bool(en["fees"]) == bool(a["fees"]), a["code"]
        assert bool(en["time_limit"]) == bool(a["time_limit"]), a["code"]


def test_a_guides_time_limit_names_the_catalogues_resolution_limit(
    articles: list[dict[str, Any]], catalogue: dict[str, dict[str, Any]]
) -> None:
    for a in articles:
        if a["kind"] != "guide":
            continue
        limit = catalogue[a["service_items"][0]]["resolution"]
        amount = f"{limit['amount']:g}"
        zh_word, en_word = UNIT_WORDS[limit["unit"]]
        for text, word in ((a["time_limit"], zh_word), (a["en"]["time_limit"], en_word)):
            assert re.search(rf"(?<![\d.]){re.escape(amount)}\s*个?{word}", text), (
                f"{a['code']}: {text!r} does not say {amount} {word}"
            )


def test_a_script_names_the_item_the_agent_registers(
    articles: list[dict[str, Any]], catalogue: dict[str, dict[str, Any]]
) -> None:
    # The agent picks the order's item by the name the console shows: the catalogue's.
    for a in articles:
        if a["kind"] != "script":
            continue
        item = catalogue[a["service_items"][0]]
        assert f"“{item['name_zh']}”" in a["body"], a["code"]
        assert f"'{item['name_en'].lower()}'" in a["en"]["body"].lower(), a["code"]


def test_texts_are_within_their_lengths_in_plain_paragraphs(
    articles: list[dict[str, Any]],
) -> None:
    for a in articles:
        assert 4 <= len(a["title"]) <= 40, a["code"]
        assert 80 <= len(a["body"]) <= 400, (a["code"], len(a["body"]))
        assert 40 <= len(a["script"]) <= 200, (a["code"], len(a["script"]))
        for body in (a["body"], a["en"]["body"]):
            paragraphs = body.split("\n\n")
            assert all(p and p == p.strip() and "\n" not in p for p in paragraphs), a["code"]
            assert not re.search(r"^\s*(#|[-*] )|\*\*", body, flags=re.M), a["code"]


def test_chinese_texts_are_chinese_and_english_texts_are_english(
    articles: list[dict[str, Any]],
) -> None:
    for a in articles:
        for field in ("title", "body", "script"):
            assert CJK.search(a[field]), (a["code"], field)
            assert a["en"][field], (a["code"], f"en.{field}")
        for field, text in _texts(a):
            if field.startswith("en."):
                assert not CJK.search(text), (a["code"], field, text)


def test_quoted_prices_are_marked_as_demo_figures(articles: list[dict[str, Any]]) -> None:
    for a in articles:
        for field, text in _texts(a):
            if field.startswith("en."):
                assert "yuan" not in text or "demo" in text, (a["code"], field)
            else:
                assert not PRICE_ZH.search(text) or "示例" in text, (a["code"], field)


def test_only_outage_templates_have_placeholders_and_both_languages_agree(
    articles: list[dict[str, Any]],
) -> None:
    for a in articles:
        for field in ("title", "body", "script"):
            zh = set(PLACEHOLDER.findall(a[field]))
            en = set(PLACEHOLDER.findall(a["en"][field]))
            if a["kind"] != "outage":
                assert zh == en == set(), (a["code"], field)
                continue
            assert zh <= set(PLACEHOLDERS), (a["code"], field, zh)
            assert en == {PLACEHOLDERS[p] for p in zh}, (a["code"], field)
            assert a[field].count("{") == a[field].count("}"), (a["code"], field)
        assert a["kind"] != "outage" or {"区域", "时间"} <= set(PLACEHOLDER.findall(a["body"]))


def test_the_content_covers_what_callers_ask(articles: list[dict[str, Any]]) -> None:
    kinds = Counter(a["kind"] for a in articles)
    centre = [a for a in articles if a["owner"] is None and a["kind"] in ("faq", "policy")]
    assert len(articles) >= 75
    assert kinds["guide"] == kinds["script"] == 25
    assert len(centre) >= 20
    assert kinds["outage"] >= 4
