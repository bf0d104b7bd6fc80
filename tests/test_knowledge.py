"""The knowledge base through its HTTP API on PostgreSQL: writing, review and
publication with every version kept; search with synonyms and suggestion; validity,
archive and review dates; answers given with an article; gaps; the seed loader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.users.models import Actor
from tests.factories import log_in, make_user, unique

BASE = "/api/v1/knowledge/articles"


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


async def publish(reviewer: Session, writer: Session, body: dict[str, Any]) -> dict[str, Any]:
    """An article written by ``writer``, submitted and approved by ``reviewer``."""
    made = await writer.call("POST", BASE, 201, json={**body, "submit": True})
    version = made["latest_version"]
    return await reviewer.call(
        "POST", f"{BASE}/{made['id']}/versions/{version}/approve", json={"note": "可以"}
    )


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
