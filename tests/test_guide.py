"""The public service guide (issue 17): per hotline, its services with their time limits
and 办事指南, the general questions, the running outages by area, numbers and hours; as
JSON and as a page, in Chinese and English, cached by version with ETags.

A database and a server of their own: the articles and outages written here must not
reach other modules' tests (and theirs must not change the versions seen here)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import async_playwright, expect

from hotline import db
from hotline.knowledge import service as knowledge
from hotline.knowledge.models import ArticleInput
from hotline.settings import Settings
from hotline.users.models import Actor
from tests.browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, no_sideways_scroll
from tests.conftest import MakeDatabase
from tests.factories import Clock, make_user
from tests.process_support import new_database
from wiring.app import create_app

METER_GUIDE: dict[str, Any] = {
    "title": "水表校验办事指南",
    "body": "对水表计量有疑问的，可以申请校验。",
    "documents": ["身份证", "近期水费单"],
    "fees": "表计准确的，收取校验费 50 元；不准的免费。",
    "steps": ["拨打热线申请", "工作人员上门拆表送检", "告知结果"],
    "en": {
        "title": "Water meter check: how to apply",
        "documents": ["ID card", "A recent water bill"],
        "steps": ["Call the hotline", "The meter is taken for testing", "You are told"],
    },
}

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def guide_clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
async def guide_settings(settings: Settings, fresh_database: MakeDatabase) -> Settings:
    url = await new_database(fresh_database, "guide")
    return settings.model_copy(update={"database_url": url})


@pytest.fixture(scope="module")
async def guide_pool(guide_settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    assert guide_settings.database_url
    pool = await db.create_pool(guide_settings.database_url)
    yield pool
    await pool.close()


@pytest.fixture(scope="module")
async def guide_server(guide_settings: Settings, guide_clock: Clock) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(guide_settings, clock=guide_clock))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def citizen(guide_server: TestServer) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser without any session: the guide needs no sign-in."""
    async with aiohttp.ClientSession(base_url=str(guide_server.make_url("/"))) as session:
        yield session


@pytest.fixture(scope="module")
async def supervisor(guide_pool: asyncpg.Pool) -> Actor:
    async with guide_pool.acquire() as conn:
        _, actor = await make_user(conn, "supervisor")
    return actor


async def add_article(
    pool: asyncpg.Pool, supervisor: Actor, kind: str, *, publish: bool = True, **fields: Any
) -> int:
    """An article written, submitted and (if ``publish``) approved as the knowledge base
    does it; its id."""
    now = dt.datetime.now(dt.UTC)
    body = ArticleInput.model_validate({"kind": kind, "submit": True, **fields})
    async with pool.acquire() as conn, conn.transaction():
        article_id = await knowledge.do_create_article(conn, supervisor, body, now)
        if publish:
            await knowledge.do_approve(conn, supervisor, article_id, 1, "", now)
    return article_id


async def add_outage(
    pool: asyncpg.Pool, title: str, areas: list[str], starts: dt.datetime, ends: dt.datetime
) -> int:
    outage_id: int = await pool.fetchval(
        "INSERT INTO outage_notices (domain, kind, title, description, area_codes, starts_at, "
        "ends_at) VALUES ('water', 'planned', $1, '管网维修', $2, $3, $4) RETURNING id",
        title,
        areas,
        starts,
        ends,
    )
    return outage_id


async def guide(citizen: aiohttp.ClientSession, code: str, lang: str) -> dict[str, Any]:
    async with citizen.get(f"/api/v1/public/guide/{code}", params={"lang": lang}) as response:
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result


def service(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for group in data["services"] for i in group["items"] if i["code"] == code)


async def test_a_hotlines_services_come_with_their_time_limits_in_words(
    citizen: aiohttp.ClientSession,
) -> None:
    """96111 takes the water and billing items, not gas; each with its three limits on
    the working calendar, in words."""
    data = await guide(citizen, "96111", "zh")
    codes = {i["code"] for group in data["services"] for i in group["items"]}
    assert {"W01", "W05", "B01"} <= codes
    assert "G-COMPLAINT" in codes  # the general items are every hotline's
    assert not any(re.fullmatch(r"G\d+", code) for code in codes)
    meter = service(data, "W01")
    assert [(t["stage"], t["text"]) for t in meter["time_limits"]] == [
        ("sign_for", "4 个工作小时"),
        ("first_contact", "1 个工作日"),
        ("resolution", "5 个工作日"),
    ]
    assert data["hotline"] == {"code": "96111", "name": "供水服务热线", "number": "96111"}
    assert "09:00–12:00、13:00–18:00" in data["hours"]["working"]
    assert {h["number"] for h in data["hotlines"]} == {"12319", "96111", "96556"}
    english = service(await guide(citizen, "96111", "en"), "W01")
    assert english["name"] == "Water meter check"
    assert [t["text"] for t in english["time_limits"]] == [
        "4 working hours",
        "1 working day",
        "5 working days",
    ]
    leak = service(await guide(citizen, "96556", "zh"), "G05")
    assert leak["time_limits"][0]["text"] == "30 分钟"


async def test_a_published_guide_shows_and_a_draft_does_not(
    citizen: aiohttp.ClientSession, guide_pool: asyncpg.Pool, supervisor: Actor
) -> None:
    published = await add_article(
        guide_pool, supervisor, "guide", service_items=["W01"], **METER_GUIDE
    )
    draft = await add_article(
        guide_pool, supervisor, "guide", publish=False, service_items=["W01"], title="水表校验草稿"
    )
    faq = await add_article(
        guide_pool,
        supervisor,
        "faq",
        hotlines=["96111"],
        title="停水后水发黄怎么办",
        body="放水几分钟。",
        areas=["370202"],
    )
    gas_faq = await add_article(
        guide_pool, supervisor, "faq", hotlines=["96556"], title="燃气表怎么读"
    )
    data = await guide(citizen, "96111", "zh")
    meter = service(data, "W01")
    guides = {g["id"]: g for g in meter["guides"]}
    assert published in guides and draft not in guides
    shown = guides[published]
    assert shown["documents"] == ["身份证", "近期水费单"]
    assert shown["fees"] == METER_GUIDE["fees"]
    assert shown["steps"] == METER_GUIDE["steps"]
    questions = {q["id"]: q for q in data["questions"]}
    assert questions[faq]["areas"] == ["市南区"]
    assert draft not in questions and gas_faq not in questions

    english = next(
        g
        for g in service(await guide(citizen, "96111", "en"), "W01")["guides"]
        if g["id"] == published
    )
    assert english["title"] == "Water meter check: how to apply"
    assert english["documents"] == ["ID card", "A recent water bill"]
    # No English fees: the Chinese ones, field by field.
    assert english["fees"] == METER_GUIDE["fees"]

    async with citizen.get("/guide/96111") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        page = await response.text()
    assert "水表校验办事指南" in page and "近期水费单" in page and "上门拆表送检" in page
    assert "水表校验草稿" not in page
    assert "5 个工作日" in page


async def test_running_outages_show_under_their_area_and_ended_ones_do_not(
    citizen: aiohttp.ClientSession, guide_pool: asyncpg.Pool, supervisor: Actor
) -> None:
    now = dt.datetime.now(dt.UTC)
    hour = dt.timedelta(hours=1)
    running = await add_outage(
        guide_pool, "八大峡片区计划停水", ["370202001"], now - hour, now + hour
    )
    ended = await add_outage(
        guide_pool, "中山路片区停水", ["370202003"], now - 3 * hour, now - hour
    )
    data = await guide(citizen, "96111", "zh")
    by_area = {g["area"]["code"]: [o["id"] for o in g["outages"]] for g in data["outages"]}
    assert running in by_area["370202"]
    assert all(ended not in ids for ids in by_area.values())
    shinan = next(g for g in data["outages"] if g["area"]["code"] == "370202")
    assert shinan["area"]["name"] == "市南区"
    outage = next(o for o in shinan["outages"] if o["id"] == running)
    assert outage["streets"] == ["八大峡街道"]
    # Gas and heating's hotline does not show a water outage.
    assert not (await guide(citizen, "96556", "zh"))["outages"] or all(
        o["domain"] != "water"
        for g in (await guide(citizen, "96556", "zh"))["outages"]
        for o in g["outages"]
    )
    async with citizen.get("/guide/96111?lang=en") as response:
        page = await response.text()
    assert "八大峡片区计划停水" in page and "Badaxia Subdistrict" in page
    assert "中山路片区停水" not in page


async def test_the_english_page_and_both_languages_as_json(citizen: aiohttp.ClientSession) -> None:
    async with citizen.get("/guide/96556?lang=en") as response:
        assert response.status == 200
        page = await response.text()
    assert '<html lang="en">' in page
    assert "Gas leak emergency repair" in page and "Energy Service Hotline" in page
    assert 'href="/guide/96556?lang=zh"' in page  # the toggle back to Chinese
    async with citizen.get("/guide/96556") as response:
        assert '<html lang="zh-CN">' in await response.text()
    async with citizen.get("/api/v1/public/guide/96556") as response:
        both = await response.json()
    assert both["zh"]["hotline"]["name"] == "能源服务热线"
    assert both["en"]["hotline"]["name"] == "Energy Service Hotline"
    async with citizen.get("/api/v1/public/guide") as response:
        listed = await response.json()
    assert {h["code"] for h in listed["items"]} == {"12319", "96111", "96556"}
    async with citizen.get("/guide") as response:
        index = await response.text()
    assert 'href="/guide/96111"' in index


async def test_an_unknown_hotline_is_404(citizen: aiohttp.ClientSession) -> None:
    async with citizen.get("/api/v1/public/guide/99999") as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"
    async with citizen.get("/guide/99999") as response:
        assert response.status == 404
        page = await response.text()
    assert "没有这条热线：99999" in page and 'href="/guide/96111"' in page


async def test_an_etag_answers_304_until_an_article_or_an_outage_changes_the_guide(
    citizen: aiohttp.ClientSession, guide_pool: asyncpg.Pool, supervisor: Actor
) -> None:
    """No clock window: the version is read on every request."""
    for path in ("/guide/12319", "/api/v1/public/guide/12319?lang=zh"):
        async with citizen.get(path) as response:
            assert response.status == 200
            etag = response.headers["ETag"]
            assert response.headers["Cache-Control"] == "public, no-cache"
            assert "Last-Modified" in response.headers
        async with citizen.get(path, headers={"If-None-Match": etag}) as response:
            assert response.status == 304
            assert response.headers["ETag"] == etag
    async with citizen.get("/guide/12319") as response:
        etag = response.headers["ETag"]

    faq = await add_article(guide_pool, supervisor, "faq", title="新发布的问题：怎样查询工单进度")
    async with citizen.get("/guide/12319", headers={"If-None-Match": etag}) as response:
        assert response.status == 200
        assert "新发布的问题：怎样查询工单进度" in await response.text()
        etag = response.headers["ETag"]
    async with guide_pool.acquire() as conn, conn.transaction():
        await knowledge.do_archive(conn, supervisor, faq, "", dt.datetime.now(dt.UTC))
    async with citizen.get("/guide/12319", headers={"If-None-Match": etag}) as response:
        assert response.status == 200
        assert "新发布的问题：怎样查询工单进度" not in await response.text()
        etag = response.headers["ETag"]

    now = dt.datetime.now(dt.UTC)
    await add_outage(
        guide_pool,
        "新的停水：云南路",
        ["370202002"],
        now - dt.timedelta(minutes=1),
        now + dt.timedelta(hours=2),
    )
    async with citizen.get("/guide/12319", headers={"If-None-Match": etag}) as response:
        assert response.status == 200
        assert "新的停水：云南路" in await response.text()


async def test_article_text_is_escaped(
    citizen: aiohttp.ClientSession, guide_pool: asyncpg.Pool, supervisor: Actor
) -> None:
    await add_article(
        guide_pool,
        supervisor,
        "faq",
        title="<script>alert('x')</script>标题",
        body="<b>不是粗体</b> & 其他",
        documents=['<img src=x onerror="alert(1)">'],
    )
    async with citizen.get("/guide/12319") as response:
        page = await response.text()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;标题" in page
    assert "&lt;b&gt;不是粗体&lt;/b&gt; &amp; 其他" in page
    assert "<img" not in page
    assert not re.search(r"<script\b", page)


async def seed_for_the_eye(pool: asyncpg.Pool, supervisor: Actor) -> None:
    """What a citizen would find on 96111's page: a service's guide, questions, a
    planned outage and an emergency one; the other tests' articles and outages gone."""
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE outage_notices SET cancelled_at = $1", now)
        for article_id in (
            await conn.fetchval("SELECT array_agg(id) FROM kb_articles WHERE archived_at IS NULL")
            or []
        ):
            await knowledge.do_archive(conn, supervisor, article_id, "", now)
    await add_article(
        pool,
        supervisor,
        "guide",
        service_items=["W02"],
        title="用水报装办事指南",
        body="新建住宅、商铺需要接入自来水的，可申请用水报装。\n工程竣工验收后装表通水。",
        documents=["不动产权证书或购房合同", "申请人身份证", "建设工程规划许可证（新建项目）"],
        fees="报装不收费；接水工程费用按物价部门核定标准收取。",
        steps=["拨打 96111 或到营业厅申请", "现场勘察，出具供水方案", "施工、验收", "装表通水"],
        en={
            "title": "New water connection: how to apply",
            "body": "New homes and shops apply for a water connection.",
            "documents": ["Property certificate or purchase contract", "Applicant's ID card"],
            "steps": ["Call 96111 or visit a service hall", "Site survey", "Works", "Meter fitted"],
        },
    )
    await add_article(
        pool,
        supervisor,
        "faq",
        hotlines=["96111"],
        title="家里突然没水了，怎么知道是不是停水？",
        body="先看本页“正在停水停气停热”；没有公告的，请拨打 96111 报修。",
        en={"title": "No water at home: is it an outage?"},
    )
    await add_article(
        pool,
        supervisor,
        "policy",
        hotlines=["96111"],
        title="居民阶梯水价",
        body="第一阶梯每户每月 0–15 立方米，第二阶梯 15–22 立方米，第三阶梯 22 立方米以上。",
    )
    await add_outage(
        pool,
        "云南路街道管网改造计划停水",
        ["370202002", "370202003"],
        now,
        now + dt.timedelta(hours=8),
    )
    await pool.execute(
        "INSERT INTO outage_notices (domain, kind, title, area_codes, starts_at, ends_at) "
        "VALUES ('water', 'emergency', '李村河南岸爆管抢修', '{370212}', $1, $2)",
        now - dt.timedelta(hours=1),
        now + dt.timedelta(hours=3),
    )


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
async def test_the_page_on_a_phone_and_a_desktop_in_both_languages_and_printed(
    guide_server: TestServer, guide_pool: asyncpg.Pool, supervisor: Actor
) -> None:
    """Screenshots and PDFs in tests/artifacts/guide-*: looked at, not compared."""
    await seed_for_the_eye(guide_pool, supervisor)
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(guide_server.make_url("/guide/96111"))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            errors: list[str] = []
            for screen, options in (("phone", PHONE), ("desktop", DESKTOP)):
                context = await browser.new_context(**options)
                page = await context.new_page()
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                await page.goto(base)
                await expect(page.locator("h1")).to_contain_text("供水服务热线")
                await expect(page.locator("[data-test=outage]")).to_have_count(2)
                if screen == "phone":
                    await no_sideways_scroll(page)
                await page.screenshot(path=ARTIFACTS / f"guide-{screen}-zh.png", full_page=True)
                await page.locator("[data-test=language]").click()
                await expect(page.locator("html")).to_have_attribute("lang", "en")
                await expect(page.locator("h1")).to_contain_text("Water Service Hotline")
                await expect(page.locator("[data-test=guide]")).to_contain_text(
                    "New water connection: how to apply"
                )
                if screen == "phone":
                    await no_sideways_scroll(page)
                await page.screenshot(path=ARTIFACTS / f"guide-{screen}-en.png", full_page=True)
                assert errors == []  # the CSP lets the stylesheet in; nothing else loads
                await context.close()
            context = await browser.new_context()
            page = await context.new_page()
            for language, query in (("zh", ""), ("en", "?lang=en")):
                await page.goto(base + query)
                await page.emulate_media(media="print")
                await expect(page.locator("nav.toc")).to_be_hidden()
                await expect(page.locator("[data-test=language]")).to_be_hidden()
                await page.pdf(path=ARTIFACTS / f"guide-print-{language}.pdf", format="A4")
                await page.screenshot(
                    path=ARTIFACTS / f"guide-print-{language}.png", full_page=True
                )
                await page.emulate_media(media="screen")
            await context.close()
        finally:
            await browser.close()
