"""The knowledge base through its HTTP API on PostgreSQL: writing, review and
publication with every version kept; search with synonyms and suggestion; validity,
archive and review dates; answers given with an article; gaps; the seed loader."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.knowledge.queries import published_articles
from hotline.knowledge.seed import SeedFileError
from hotline.outbox.jobs import run_outbox_row
from hotline.settings import Settings
from hotline.users.models import Actor
from tests.factories import log_in, make_user, register_order, unique
from wiring.seed import seed_knowledge
from wiring.subscriptions import subscribe_all

BASE = "/api/v1/knowledge/articles"
SEED_FIXTURE = Path(__file__).resolve().parent / "knowledge_articles.json"


class Session:
    """A signed-in user of the API."""

    def __init__(self, client: aiohttp.ClientSession, csrf: str) -> None:
        self.client = client
        self.headers = {"X-CSRF-Token": csrf}

    async def call(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, headers=self.headers, **kwargs)
        assert response.status == status, (response.status, await response.text())
        return await response.json()


def article(title: str, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "faq",
        "title": title,
        "body": f"{title}的说明。",
        "script": "",
        "service_items": [],
        **fields,
    }


async def publish(reviewer: Session, writer: Session, body: dict[str, Any]) -> Any:
    """An article written by ``writer``, submitted and approved by ``reviewer``."""
    made = await writer.call("POST", BASE, 201, json={**body, "submit": True})
    version = made["latest_version"]
    approved: dict[str, Any] = await reviewer.call(
        "POST", f"{BASE}/{made['id']}/versions/{version}/approve", json={"note": "可以"}
    )
    return approved


@pytest.fixture
async def sign_in(
    server: TestServer, pool: asyncpg.Pool
) -> AsyncIterator[Callable[..., Awaitable[tuple[Session, Actor]]]]:
    """Signs a new user of ``role`` in, each with a browser of its own."""
    opened: list[aiohttp.ClientSession] = []

    async def sign(role: str, **user: Any) -> tuple[Session, Actor]:
        async with pool.acquire() as conn:
            username, actor = await make_user(conn, role, **user)
        browser = aiohttp.ClientSession(
            base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        opened.append(browser)
        return Session(browser, await log_in(browser, username)), actor

    yield sign
    for browser in opened:
        await browser.close()


SignIn = Callable[..., Awaitable[tuple[Session, Actor]]]


async def test_written_reviewed_published_and_kept_in_every_version(sign_in: SignIn) -> None:
    supervisor, boss = await sign_in("supervisor")
    agent, _ = await sign_in("agent", hotline_code="96111")
    water, water_user = await sign_in("enterprise_user", enterprise_code="qd-water")
    energy, _ = await sign_in("enterprise_user", enterprise_code="qd-energy")
    tag = unique("kbflow")

    draft = await water.call(
        "POST",
        BASE,
        201,
        json=article(
            f"水表校验怎么申请 {tag}",
            kind="guide",
            documents=["身份证", "水费缴费卡", "身份证"],
            fees="免费（表准）",
            time_limit="5 个工作日",
            steps=["拨打 96111 预约", "现场拆表送检"],
            service_items=["W01"],
            hotlines=["96111"],
            en={"title": "Having a water meter tested"},
            change_note="首次编写",
        ),
    )
    article_id = draft["id"]
    assert draft["owner"]["name_zh"] and draft["published_version"] is None
    assert draft["version"]["state"] == "draft"
    assert draft["version"]["documents"] == ["身份证", "水费缴费卡"]  # once each
    assert draft["version"]["written_by"]["id"] == water_user.user_id

    # Not published: agents do not see it, another enterprise may not touch it.
    assert (await agent.call("GET", f"{BASE}?q={tag}"))["items"] == []
    await agent.call("GET", f"{BASE}/{article_id}", 404)
    edit = {**article(f"水表校验 {tag}", kind="guide"), "base_version": 1}
    await energy.call("PUT", f"{BASE}/{article_id}", 404, json=edit)  # not even seen
    # The centre writes the centre's articles; an enterprise's are the enterprise's.
    await supervisor.call("PUT", f"{BASE}/{article_id}", 403, json=edit)

    # Submitted, rejected with a note, written again, approved.
    await water.call("POST", f"{BASE}/{article_id}/versions/1/submit")
    queue = await supervisor.call("GET", "/api/v1/knowledge/review")
    assert any(i["article_id"] == article_id and i["version"] == 1 for i in queue["items"])
    await water.call("POST", f"{BASE}/{article_id}/versions/1/approve", 403, json={})
    missing = await supervisor.call(
        "POST", f"{BASE}/{article_id}/versions/1/reject", 422, json={"note": ""}
    )
    assert "note" in missing["error"]["fields"]
    rejected = await supervisor.call(
        "POST", f"{BASE}/{article_id}/versions/1/reject", json={"note": "请写明收费标准"}
    )
    assert rejected["version"]["state"] == "rejected"
    assert rejected["version"]["review_note"] == "请写明收费标准"
    assert rejected["version"]["reviewed_by"]["id"] == boss.user_id

    second = await water.call(
        "PUT",
        f"{BASE}/{article_id}",
        json={
            **edit,
            "fees": "表准免费，表不准由企业承担",
            "change_note": "补充收费",
            "submit": True,
        },
    )
    assert second["latest_version"] == 2 and second["version"]["state"] == "submitted"
    approved = await supervisor.call(
        "POST", f"{BASE}/{article_id}/versions/2/approve", json={"note": "通过"}
    )
    assert approved["published_version"] == 2
    assert approved["version"]["published_at"] is not None

    # Published, the other enterprise reads it but may not change it.
    refused = await energy.call("PUT", f"{BASE}/{article_id}", 403, json=edit)
    assert refused["error"]["code"] == "not_your_article"
    # Agents see it now; the next version supersedes it only once approved.
    seen = await agent.call("GET", f"{BASE}/{article_id}")
    assert seen["version"]["version"] == 2
    assert [v["state"] for v in seen["versions"]] == ["published"]  # no drafts for agents
    third = await water.call(
        "PUT", f"{BASE}/{article_id}", json={**edit, "base_version": 2, "change_note": "改标题"}
    )
    assert third["published_version"] == 2 and third["latest_version"] == 3
    stale = await water.call("PUT", f"{BASE}/{article_id}", 409, json=edit)
    assert stale["error"]["code"] == "stale_version"
    await water.call("POST", f"{BASE}/{article_id}/versions/3/submit")
    await supervisor.call("POST", f"{BASE}/{article_id}/versions/3/approve")
    history = await water.call("GET", f"{BASE}/{article_id}")
    assert [(v["version"], v["state"]) for v in history["versions"]] == [
        (3, "published"),
        (2, "superseded"),
        (1, "rejected"),
    ]
    assert [v["change_note"] for v in history["versions"]] == ["改标题", "补充收费", "首次编写"]
    assert all(v["written_by"]["id"] == water_user.user_id for v in history["versions"])
    old = await water.call("GET", f"{BASE}/{article_id}?version=2")
    assert old["version"]["fees"] == "表准免费，表不准由企业承担"

    listed = await agent.call("GET", f"{BASE}?q={tag}")
    assert [i["id"] for i in listed["items"]] == [article_id]
    assert listed["items"][0]["published_version"] == 3
    mine = await water.call("GET", f"{BASE}?state=all&owner={water_user.enterprise_id}")
    assert article_id in [i["id"] for i in mine["items"]]
    theirs = await energy.call("GET", f"{BASE}?state=all")
    assert article_id not in [i["id"] for i in theirs["items"]]


async def test_search_widens_with_synonyms_ranks_titles_first_and_records_what_it_missed(
    sign_in: SignIn, pool: asyncpg.Pool
) -> None:
    supervisor, _ = await sign_in("supervisor")
    agent, _ = await sign_in("agent", hotline_code="96556")
    tag = unique("kbsearch")
    in_body = await publish(
        supervisor,
        supervisor,
        article(f"缴费时间 {tag}", body="供热季开始前缴纳供热费。", hotlines=["96556"]),
    )
    in_title = await publish(
        supervisor,
        supervisor,
        article(f"供热费怎么缴 {tag}", body="营业厅和网上都可以缴。", hotlines=["96556"]),
    )
    other_hotline = await publish(
        supervisor, supervisor, article(f"供热 {tag}", hotlines=["96111"])
    )

    # 暖气 is one of 供热's words: both are found, the one with it in its title first.
    found = await agent.call("GET", f"{BASE}?q=暖气 {tag}&hotline=96556")
    assert [i["id"] for i in found["items"]] == [in_title["id"], in_body["id"]]
    assert found["items"][0]["score"] > found["items"][1]["score"] > 0
    everywhere = await agent.call("GET", f"{BASE}?q=暖气 {tag}&limit=2")
    assert len(everywhere["items"]) == 2 and everywhere["next_cursor"]
    rest = await agent.call(
        "GET", f"{BASE}?q=暖气 {tag}&limit=2&cursor={everywhere['next_cursor']}"
    )
    assert [i["id"] for i in rest["items"]] == [in_body["id"]]  # the title matches first
    assert {i["id"] for i in everywhere["items"]} == {in_title["id"], other_hotline["id"]}
    assert rest["next_cursor"] is None

    # Every word first; when nothing has them all, any of them.
    loose = await agent.call("GET", f"{BASE}?q={tag} 不存在的词语组合xyz&hotline=96556")
    assert {i["id"] for i in loose["items"]} == {in_title["id"], in_body["id"]}
    # Its later pages ask for any word too.
    first = await agent.call("GET", f"{BASE}?q={tag} 不存在的词语组合xyz&limit=2")
    following = await agent.call(
        "GET", f"{BASE}?q={tag} 不存在的词语组合xyz&limit=2&cursor={first['next_cursor']}"
    )
    assert {i["id"] for i in first["items"] + following["items"]} == {
        in_title["id"],
        in_body["id"],
        other_hotline["id"],
    }

    missed = unique("没有答案的问题")
    assert (await agent.call("GET", f"{BASE}?q={missed}"))["items"] == []
    gaps = await supervisor.call("GET", "/api/v1/knowledge/gaps")
    line = next(g for g in gaps["items"] if g["question"] == missed)
    assert line["times"] == 1 and line["hotline"] == "96556" and line["order_id"] is None
    # A later page that finds nothing more is no gap.
    await agent.call("GET", f"{BASE}?q={tag}&cursor=100")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM kb_gaps WHERE question = $1", tag) == 0
    await agent.call("GET", "/api/v1/knowledge/gaps", 403)


async def test_suggest_from_a_citizens_words_boosted_by_the_item_with_the_words_matched(
    sign_in: SignIn,
) -> None:
    supervisor, _ = await sign_in("supervisor")
    agent, _ = await sign_in("agent", hotline_code="96556")
    tag = unique("kbsuggest")
    general = await publish(
        supervisor, supervisor, article(f"暖气不热先排气 {tag}", body="室温低时先给暖气片排气。")
    )
    linked = await publish(
        supervisor,
        supervisor,
        article(
            f"室温不达标怎么报修 {tag}",
            body="室温低于18度可以报修，供热企业上门测温。",
            script="您家室温不达标，我们给您登记报修，供热企业会上门测温。",
            service_items=["H05"],
        ),
    )
    text = f"喂，你好，我家暖气一点都不热，屋里冷得很，室温才十四五度，老人孩子都冻感冒了 {tag}"
    answer = await agent.call(
        "GET",
        "/api/v1/knowledge/suggest",
        params={"text": text, "hotline": "96556", "service_item": "H05", "area": "370202"},
    )
    items = answer["items"]
    assert len(items) <= 5
    ids = [i["id"] for i in items]
    assert ids.index(linked["id"]) < ids.index(general["id"])
    top = items[0]
    assert top["id"] == linked["id"] and top["script"].startswith("您家室温不达标")
    assert tag in top["words"] and "室温" in top["words"]
    assert set(top) >= {"id", "title", "kind", "script", "summary", "score", "words"}
    assert (await agent.call("GET", "/api/v1/knowledge/suggest", params={"text": "的"}))[
        "items"
    ] == []


async def test_validity_archive_and_review_dates(sign_in: SignIn) -> None:
    supervisor, _ = await sign_in("supervisor")
    agent, _ = await sign_in("agent")
    tag = unique("kbvalid")
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    day = dt.timedelta(days=1)
    current = await publish(supervisor, supervisor, article(f"现行 {tag}", valid_until=str(today)))
    expired = await publish(
        supervisor, supervisor, article(f"过期 {tag}", valid_until=str(today - day))
    )
    future = await publish(
        supervisor, supervisor, article(f"未生效 {tag}", valid_from=str(today + day))
    )
    overdue = await publish(
        supervisor, supervisor, article(f"待复审 {tag}", review_due=str(today - day))
    )
    seen = await agent.call("GET", f"{BASE}?q={tag}")
    assert {i["id"] for i in seen["items"]} == {current["id"], overdue["id"]}
    assert {i["id"] for i in seen["items"] if i["review_overdue"]} == {overdue["id"]}
    assert overdue["review_overdue"] is True
    flagged = await supervisor.call("GET", f"{BASE}?q={tag}&review_overdue=true")
    assert [i["id"] for i in flagged["items"]] == [overdue["id"]]
    suggested = await agent.call("GET", "/api/v1/knowledge/suggest", params={"text": tag})
    assert {i["id"] for i in suggested["items"]} == {current["id"], overdue["id"]}
    # Writers still find the expired and the future ones among theirs.
    everything = await supervisor.call("GET", f"{BASE}?state=all&owner=centre&limit=100")
    assert {expired["id"], future["id"]} <= {i["id"] for i in everything["items"]}

    await agent.call("POST", f"{BASE}/{current['id']}/archive", 403, json={})
    archived = await supervisor.call(
        "POST", f"{BASE}/{current['id']}/archive", json={"note": "政策已废止"}
    )
    assert archived["archived_at"] is not None
    seen = await agent.call("GET", f"{BASE}?q={tag}")
    assert {i["id"] for i in seen["items"]} == {overdue["id"]}
    await agent.call("GET", f"{BASE}/{current['id']}", 404)
    refused = await supervisor.call(
        "PUT", f"{BASE}/{current['id']}", 409, json={**article("x"), "base_version": 1}
    )
    assert refused["error"]["code"] == "archived"
    again = await supervisor.call("POST", f"{BASE}/{current['id']}/archive")  # no body
    assert again["archived_at"] == archived["archived_at"]


async def _outbox_row(pool: asyncpg.Pool, order_id: int) -> int:
    async with pool.acquire() as conn:
        row_id: int = await conn.fetchval(
            "SELECT id FROM outbox WHERE key = $1", f"order.registered:{order_id}"
        )
    return row_id


async def test_answers_on_the_call_are_recorded_with_the_event_and_counted(
    sign_in: SignIn, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    supervisor, _ = await sign_in("supervisor")
    agent, taker = await sign_in("agent", hotline_code="96556")
    tag = unique("kbanswer")
    used = await publish(
        supervisor, supervisor, article(f"供热费标准 {tag}", service_items=["H07"])
    )
    draft = await supervisor.call("POST", BASE, 201, json=article(f"草稿 {tag}"))
    order = {
        "hotline": "96556",
        "service_item": "H07",
        "description": f"问供热费多少钱一平米 {tag}",
        "area": "370202",
        "caller_phone": "13900002222",
        "reply": "按文章答复：居民 22.5 元/平方米。",
    }
    async with pool.acquire() as conn:
        orders_before = await conn.fetchval("SELECT count(*) FROM work_orders")

    # An unknown or an unpublished article: refused, nothing registered.
    unknown = await agent.call(
        "POST", "/api/v1/orders/resolved-on-call", 404, json={**order, "article_id": 999999999}
    )
    assert unknown["error"]["code"] == "article_not_found"
    unpublished = await agent.call(
        "POST", "/api/v1/orders/resolved-on-call", 422, json={**order, "article_id": draft["id"]}
    )
    assert unpublished["error"]["code"] == "article_not_published"
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM work_orders") == orders_before

    made = await agent.call(
        "POST", "/api/v1/orders/resolved-on-call", 201, json={**order, "article_id": used["id"]}
    )
    assert made["status"] == "resolved_on_call"
    assert made["article"] == {"id": used["id"], "version": 1, "title": used["version"]["title"]}
    shown = await agent.call("GET", f"/api/v1/orders/{made['id']}")
    assert shown["article"]["id"] == used["id"]
    event = next(e for e in shown["events"] if e["type"] == "order.resolve_on_call")
    assert event["data"]["article"]["id"] == used["id"]

    async with pool.acquire() as conn:
        registered = await register_order(
            conn,
            taker,
            settings,
            now,
            hotline="96556",
            service_item="H07",
            description=f"供热费问题 {tag}",
        )
    second = await agent.call(
        "POST",
        f"/api/v1/orders/{registered['id']}/resolve-on-call",
        json={"reply": "已答复", "article_id": used["id"]},
    )
    assert second["article"]["id"] == used["id"]
    async with pool.acquire() as conn:
        answers = await conn.fetch(
            "SELECT order_id, user_id, hotline_code FROM kb_answers WHERE article_id = $1",
            used["id"],
        )
    assert {(a["order_id"], a["user_id"], a["hotline_code"]) for a in answers} == {
        (made["id"], taker.user_id, "96556"),
        (registered["id"], taker.user_id, "96556"),
    }
    usage = await supervisor.call("GET", "/api/v1/knowledge/usage")
    line = next(u for u in usage["items"] if u["article_id"] == used["id"])
    assert line["answers"] == 2 and line["title"] == used["version"]["title"]
    assert (await agent.call("GET", f"{BASE}/{used['id']}"))["answers"] == 2

    # Answered with an article, a consultation is no gap.
    subscribe_all()
    assert await asyncio.to_thread(run_outbox_row, await _outbox_row(pool, made["id"])) == "done"
    async with pool.acquire() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM kb_gaps WHERE order_id = $1", made["id"]) == 0
        )


async def test_a_consultation_no_article_answers_is_a_gap_once(
    sign_in: SignIn, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    supervisor, _ = await sign_in("supervisor")
    _, taker = await sign_in("agent", hotline_code="12319")
    question = unique("请问小区里的健身器材坏了归谁管")
    async with pool.acquire() as conn:
        order = await register_order(
            conn,
            taker,
            settings,
            now,
            hotline="12319",
            service_item="G-CONSULT",
            description=question,
        )
    assert order["kind"] == "consultation"
    subscribe_all()
    row = await _outbox_row(pool, order["id"])
    assert await asyncio.to_thread(run_outbox_row, row) == "done"
    # Delivered again (at least once): still one gap.
    async with pool.acquire() as conn:
        await conn.execute("UPDATE outbox SET state = 'pending' WHERE id = $1", row)
    await asyncio.to_thread(run_outbox_row, row)
    gaps = await supervisor.call("GET", "/api/v1/knowledge/gaps")
    line = next(g for g in gaps["items"] if g["question"] == question)
    assert line == {
        "question": question,
        "times": 1,
        "last_asked_at": line["last_asked_at"],
        "hotline": "12319",
        "order_id": order["id"],
    }


async def test_the_seed_file_loads_once_updates_by_code_and_a_bad_one_is_refused(
    pool: asyncpg.Pool, tmp_path: Path, sign_in: SignIn
) -> None:
    agent, _ = await sign_in("agent")
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    async with pool.acquire() as conn:
        first = await seed_knowledge(conn, now, "Asia/Shanghai", SEED_FIXTURE)
        again = await seed_knowledge(conn, now, "Asia/Shanghai", SEED_FIXTURE)
        assert first == {"new": 3, "changed": 0, "unchanged": 0}
        assert again == {"new": 0, "changed": 0, "unchanged": 3}

        articles = json.loads(SEED_FIXTURE.read_text(encoding="utf-8"))
        articles[1]["fees"] = "校验合格的收取校验费 50 元"
        changed = tmp_path / "articles.json"
        changed.write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
        assert await seed_knowledge(conn, now, "Asia/Shanghai", changed) == {
            "new": 0,
            "changed": 1,
            "unchanged": 2,
        }
        meter = await conn.fetchrow("SELECT * FROM kb_articles WHERE code = 'T-meter-test'")
        assert (meter["published_version"], meter["latest_version"]) == (2, 2)
        assert await seed_knowledge(conn, now, "Asia/Shanghai", tmp_path / "none.json") is None
        # What the public guide reads: published, valid, for the hotline, of the kinds.
        guides = await published_articles(conn, hotline="96111", kinds=["guide"], today=today)
        assert "T-meter-test" in {g["code"] for g in guides}
        assert {g["kind"] for g in guides} == {"guide"}
        heating = await published_articles(conn, hotline="96556", kinds=None, today=today)
        assert {"T-heat-fee", "T-gas-smell"} <= {g["code"] for g in heating}
        assert "T-meter-test" not in {g["code"] for g in heating}

        bad = [
            {**articles[0], "code": "T-new-one", "kind": "rumour"},
            {**articles[1], "service_items": ["NOPE"]},
            {**articles[2], "title": ""},
        ]
        changed.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
        before = await conn.fetchval("SELECT count(*) FROM kb_article_versions")
        with pytest.raises(SeedFileError) as refused:
            await seed_knowledge(conn, now, "Asia/Shanghai", changed)
        assert "article 1 (T-new-one): kind" in str(refused.value)
        assert "article 3 (T-gas-smell): title" in str(refused.value)
        changed.write_text(json.dumps(bad[1:2], ensure_ascii=False), encoding="utf-8")
        with pytest.raises(SeedFileError, match="T-meter-test: service_items: unknown NOPE"):
            await seed_knowledge(conn, now, "Asia/Shanghai", changed)
        changed.write_text("[{", encoding="utf-8")
        with pytest.raises(SeedFileError, match="cannot be read as JSON"):
            await seed_knowledge(conn, now, "Asia/Shanghai", changed)
        assert await conn.fetchval("SELECT count(*) FROM kb_article_versions") == before

    loaded = await agent.call("GET", f"{BASE}/{meter['id']}")
    assert loaded["version"]["demo"] is True and loaded["version"]["review_due"]
    assert loaded["owner"]["name_zh"]
    assert loaded["version"]["en"]["steps"] == ["Apply", "Meter removed", "Result"]


async def test_bad_input_is_refused_with_codes_and_nothing_is_written(
    sign_in: SignIn, pool: asyncpg.Pool
) -> None:
    supervisor, _ = await sign_in("supervisor")
    agent, _ = await sign_in("agent")
    async with pool.acquire() as conn:
        before = await conn.fetchval("SELECT count(*) FROM kb_articles")
    refused = await supervisor.call(
        "POST",
        BASE,
        422,
        json=article(
            "坏的",
            service_items=["NOPE"],
            areas=["999"],
            valid_from="2026-05-01",
            valid_until="2026-04-01",
        ),
    )
    assert refused["error"]["code"] == "invalid_article"
    assert set(refused["error"]["fields"]) == {"service_items", "areas", "valid_until"}
    shape = await supervisor.call("POST", BASE, 422, json={**article("x"), "kind": "rumour"})
    assert "kind" in shape["error"]["fields"]
    await supervisor.call("POST", BASE, 422, json={**article("x"), "owner": 1})
    await supervisor.call("POST", BASE, 422, json={**article("")})
    await agent.call("POST", BASE, 403, json=article("话务员不写"))
    await agent.call("GET", f"{BASE}?state=bogus", 422)
    await agent.call("GET", f"{BASE}?owner=someone", 422)
    await agent.call("GET", "/api/v1/knowledge/suggest", 422)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM kb_articles") == before
    made = await supervisor.call("POST", BASE, 201, json=article(unique("kbbad")))
    await supervisor.call(
        "POST", f"{BASE}/{made['id']}/versions/1/approve", 409, json={}
    )  # a draft is not reviewed
    await supervisor.call("POST", f"{BASE}/{made['id']}/versions/7/submit", 404)
    kind = await supervisor.call(
        "PUT", f"{BASE}/{made['id']}", 422, json={**article("x", kind="policy"), "base_version": 1}
    )
    assert kind["error"]["fields"] == {"kind": kind["error"]["fields"]["kind"]}


async def test_searches_follow_the_published_version_and_the_word_counts_stay_true(
    sign_in: SignIn, pool: asyncpg.Pool
) -> None:
    supervisor, _ = await sign_in("supervisor")
    agent, _ = await sign_in("agent")
    old, new = unique("kbold"), unique("kbnew")
    made = await publish(supervisor, supervisor, article(f"停水通知 {old}"))
    found = await agent.call("GET", f"{BASE}?q={old}")
    assert [i["id"] for i in found["items"]] == [made["id"]]

    # A draft changes nothing; its approval replaces what searches find.
    await supervisor.call(
        "PUT", f"{BASE}/{made['id']}", json={**article(f"停水通知 {new}"), "base_version": 1}
    )
    assert [i["id"] for i in (await agent.call("GET", f"{BASE}?q={old}"))["items"]] == [made["id"]]
    await supervisor.call("POST", f"{BASE}/{made['id']}/versions/2/submit")
    await supervisor.call("POST", f"{BASE}/{made['id']}/versions/2/approve")
    assert (await agent.call("GET", f"{BASE}?q={old}"))["items"] == []
    suggested = await agent.call(
        "GET", "/api/v1/knowledge/suggest", params={"text": f"我想问问{new}的事"}
    )
    assert [(i["id"], i["words"]) for i in suggested["items"]] == [(made["id"], [new])]

    await supervisor.call("POST", f"{BASE}/{made['id']}/archive", json={})
    assert (await agent.call("GET", f"{BASE}?q={new}"))["items"] == []
    async with pool.acquire() as conn:
        assert not await conn.fetchval(
            "SELECT count(*) FROM kb_postings WHERE article_id = $1", made["id"]
        )
        # Every word's count is the number of articles whose postings have it.
        wrong = await conn.fetch(
            """
            SELECT w.word, w.articles, count(p.article_id) AS postings
              FROM kb_words w LEFT JOIN kb_postings p ON p.word = w.word
             WHERE w.word <> ''
             GROUP BY w.word, w.articles
            HAVING w.articles <> count(p.article_id)
            """
        )
        # And the empty word's, the number of articles with postings.
        articles, with_postings = await conn.fetchrow(
            """
            SELECT (SELECT articles FROM kb_words WHERE word = ''),
                   (SELECT count(DISTINCT article_id) FROM kb_postings)
            """
        )
    assert wrong == []
    assert articles == with_postings
