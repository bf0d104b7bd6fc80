"""The knowledge base in the console, in a real browser (issue 17): the agent's article
suggestions and Alt+K, an order resolved on the call with an article; a unit writing an
article, a supervisor reviewing it, the agent finding it through a synonym; a rejection's
note reaching the writer; the figures; a stale save keeping what was typed.

The system is browser_support's (a database of this module's own). Screenshots in
Chinese and English go to ``tests/artifacts/``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser_support import (
    ARTIFACTS,
    Desk,
    Stack,
    needs_chromium,
    no_sideways_scroll,
    settled,
    shoot,
    switch_language,
)

pytestmark = needs_chromium

HEATING_FEES: dict[str, Any] = {
    "kind": "faq",
    "title": "暖气费收费标准和交费方式",
    "body": "居民供热按建筑面积计费。采暖季开始前交清当季暖气费。",
    "script": (
        "居民暖气费按建筑面积每平方米22元收取，可通过微信、支付宝或供热营业厅交费，"
        "请在11月15日前交清。"
    ),
    "fees": "每平方米22元",
    "service_items": ["H07"],
}
# Shares a word with the heating question only: it ranks below.
OFFICE_HOURS: dict[str, Any] = {
    "kind": "faq",
    "title": "营业厅营业时间",
    "body": "各营业厅周一至周六 8:30-17:00 办理交费、过户等业务。",
    "script": "营业厅周一至周六上午8:30至下午5:00营业，可办理交费、过户等业务。",
}
WATER_METER: dict[str, str] = {
    "title": "水表走字不准如何申请校验",
    "script": (
        "您可向供水营业厅申请水表校验；校验合格的收取校验费，不合格的免费更换水表并退还多收水费。"
    ),
    "documents": "户主身份证\n最近一期水费单",
    "fees": "校验合格收费50元，不合格免费",
    "time_limit": "5个工作日",
    "steps": "到供水营业厅提交申请\n工作人员上门拆表送检\n出具校验报告",
}


async def desk(system: Stack, name: str) -> Desk:
    return await system.api(system.users[name])


async def put(who: Desk, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = await who.client.put(path, json=body, headers={"X-CSRF-Token": who.csrf})
    text = await response.text()
    assert response.status == status, f"{path}: {response.status} {text}"
    return await response.json()


async def published(system: Stack, article: dict[str, Any]) -> dict[str, Any]:
    """An article of the centre, written and approved by the supervisor."""
    supervisor = await desk(system, "supervisor")
    try:
        written = await supervisor.post(
            "/api/v1/knowledge/articles", {**article, "submit": True}, status=201
        )
        approved: dict[str, Any] = await supervisor.post(
            f"/api/v1/knowledge/articles/{written['id']}/versions/1/approve", {}
        )
        return approved
    finally:
        await supervisor.client.close()


async def open_page(system: Stack, page: Page, path: str) -> None:
    await page.goto(f"{system.base}/#{path}")


async def shoot_whole(page: Page, path: Path) -> None:
    """The whole page from its top (scrolled, the header would sit in the middle), once
    its transitions (a switch changing sides) have ended."""
    await page.evaluate("window.scrollTo(0, 0)")
    await settled(page)
    await shoot(page, path, full_page=True)


async def choose_option(page: Page, select: str, typed: str, option: str) -> None:
    """Pick ``option`` in the Element Plus select ``select`` after filtering by ``typed``."""
    await page.locator(select).click()
    await page.locator(f"{select} input").fill(typed)
    choice = page.locator(".el-select-dropdown__item:visible", has_text=option)
    await expect(choice).to_have_count(1)
    await choice.click()
    await expect(page.locator(select)).to_contain_text(option)
    await page.keyboard.press("Escape")


@pytest.fixture
async def agent(consoles: Stack) -> AsyncIterator[Page]:
    yield await consoles.console("agent")


async def test_the_agent_answers_with_the_suggested_article_and_the_order_shows_it(
    consoles: Stack,
    agent: Page,
) -> None:
    """The article matching the caller's words comes first beside the item suggestions,
    its scripted answer readable; Alt+K puts that answer into the reply of "resolved on
    the call" and takes the article; the order resolved records it, and its page shows
    it."""
    system = consoles
    heating = await published(system, HEATING_FEES)
    await published(system, OFFICE_HOURS)

    description = agent.locator("[data-test=description]")
    await description.fill("请问今年的暖气费怎么收，在哪里交费")
    panel = agent.locator("[data-test=kb-suggestions]")
    first = panel.locator("[data-test=kb-suggestion]").first
    await expect(first).to_have_attribute("data-article", str(heating["id"]))
    await expect(first.locator("[data-test=kb-suggestion-script]")).to_contain_text("每平方米22元")
    await expect(first).to_contain_text("常见问题")
    await expect(panel.locator("[data-test=kb-key-hint]")).to_contain_text("Alt+K")
    await agent.locator("[data-test=suggestions] [data-code=H07]").click()
    await shoot(agent, ARTIFACTS / "kb-agent-suggestions-zh.png")
    await switch_language(agent)
    await expect(first).to_contain_text("FAQ")
    await expect(agent.locator(".shortcuts")).to_contain_text("Alt+K")
    await shoot(agent, ARTIFACTS / "kb-agent-suggestions-en.png")
    await switch_language(agent)

    await description.focus()
    await agent.keyboard.press("Alt+K")
    await expect(agent.locator("[data-test=resolve-toggle] input")).to_be_checked()
    await expect(agent.locator("[data-test=reply]")).to_have_value(HEATING_FEES["script"])
    await expect(first.locator("[data-test=kb-taken]")).to_be_visible()
    await expect(agent.locator("[data-test=kb-answered-with]")).to_contain_text(
        HEATING_FEES["title"]
    )
    await shoot(agent, ARTIFACTS / "kb-agent-taken-zh.png")

    # A click takes another article instead: its answer replaces the one put there.
    other = panel.locator("[data-test=kb-suggestion]").nth(1)
    await other.click()
    await expect(agent.locator("[data-test=reply]")).to_have_value(OFFICE_HOURS["script"])
    await expect(other.locator("[data-test=kb-taken]")).to_be_visible()
    await expect(first.locator("[data-test=kb-taken]")).to_have_count(0)
    await description.focus()
    await agent.keyboard.press("Alt+K")
    await expect(agent.locator("[data-test=reply]")).to_have_value(HEATING_FEES["script"])

    async with agent.expect_response(
        lambda r: r.url.endswith("/api/v1/orders/resolved-on-call") and r.request.method == "POST"
    ) as info:
        await agent.keyboard.press("Control+Enter")
    response = await info.value
    assert response.status == 201, await response.text()
    sent = response.request.post_data_json
    assert sent is not None and sent["article_id"] == heating["id"]
    order = await response.json()
    assert order["article"] == {"id": heating["id"], "version": 1, "title": HEATING_FEES["title"]}
    answers = await system.pool.fetchval(
        "SELECT count(*) FROM kb_answers WHERE order_id = $1 AND article_id = $2",
        order["id"],
        heating["id"],
    )
    assert answers == 1
    # The form starts again: nothing taken any more.
    await expect(agent.locator("[data-test=kb-answered-with]")).to_have_count(0)

    await open_page(system, agent, f"/orders/{order['id']}")
    used = agent.locator("[data-test=order-article]")
    await expect(used).to_have_text(HEATING_FEES["title"])
    await expect(agent.locator("[data-test=timeline]")).to_contain_text(HEATING_FEES["title"])
    await used.click()
    await expect(agent.locator("[data-test=kb-title]")).to_have_text(HEATING_FEES["title"])
    await expect(agent.locator("[data-test=kb-answers]")).to_have_text("1")


async def test_a_unit_writes_a_supervisor_approves_and_the_agent_finds_it_by_a_synonym(
    consoles: Stack,
) -> None:
    system = consoles
    writer = await system.console("water")
    await writer.locator(".nav a", has_text="知识库").click()
    await writer.locator("[data-test=kb-nav-new]").click()
    editor = writer.locator("[data-test=kb-editor]")
    await expect(editor).to_be_visible()
    await editor.locator("[data-test=kb-form-kind] label", has_text="办事指南").click()
    await writer.locator("[data-test=kb-form-title]").fill(WATER_METER["title"])
    await writer.locator("[data-test=kb-form-script]").fill(WATER_METER["script"])
    await writer.locator("[data-test=kb-form-documents]").fill(WATER_METER["documents"])
    await writer.locator("[data-test=kb-form-steps]").fill(WATER_METER["steps"])
    await writer.locator("[data-test=kb-form-fees]").fill(WATER_METER["fees"])
    await writer.locator("[data-test=kb-form-time-limit]").fill(WATER_METER["time_limit"])
    await choose_option(writer, "[data-test=kb-editor] [data-test=item-select]", "W01", "水表校验")
    await writer.locator("[data-test=kb-form-english-toggle]").click()
    await writer.locator("[data-test=kb-form-en-title]").fill("Having a water meter tested")
    await writer.locator("[data-test=kb-form-note]").fill("新写")
    await shoot_whole(writer, ARTIFACTS / "kb-editor-zh.png")
    await switch_language(writer)
    await expect(writer.locator("[data-test=kb-save-submit]")).to_have_text("Submit for review")
    await shoot_whole(writer, ARTIFACTS / "kb-editor-en.png")
    await switch_language(writer)

    async with writer.expect_response(
        lambda r: r.url.endswith("/api/v1/knowledge/articles") and r.request.method == "POST"
    ) as info:
        await writer.locator("[data-test=kb-save-submit]").click()
    response = await info.value
    assert response.status == 201, await response.text()
    sent = response.request.post_data_json
    assert sent is not None
    assert sent["documents"] == ["户主身份证", "最近一期水费单"] and sent["submit"] is True
    assert sent["service_items"] == ["W01"] and sent["en"] == {
        "title": "Having a water meter tested"
    }
    article = await response.json()
    await expect(writer.locator("[data-test=kb-state]")).to_have_text("v1 · 待审核")

    supervisor = await system.console("supervisor")
    await supervisor.locator(".nav a", has_text="知识库").click()
    await expect(supervisor.locator("[data-test=kb-waiting]")).to_have_text(re.compile(r"^\d+$"))
    await supervisor.locator("[data-test=kb-nav-review]").click()
    queued = supervisor.locator(f"[data-test=kb-review-queue] [data-article='{article['id']}']")
    await queued.click()
    view = supervisor.locator(f"[data-test=kb-article][data-article='{article['id']}']")
    await expect(view.locator("[data-test=kb-review-box]")).to_be_visible()
    await expect(view.locator("[data-test=kb-guide]")).to_contain_text("最近一期水费单")
    await view.locator("[data-test=kb-review-note]").fill("内容准确")
    await view.locator("[data-test=kb-approve]").click()
    await expect(queued).to_have_count(0)

    # 计量表 is a synonym of 水表: the article's words do not include it.
    agent = await system.console("agent")
    await agent.locator(".nav a", has_text="知识库").click()
    await agent.locator("[data-test=kb-q]").fill("计量表校验")
    await agent.keyboard.press("Enter")
    found = agent.locator(f"[data-test=kb-results] [data-article='{article['id']}']")
    await found.click()
    shown = agent.locator("[data-test=kb-article]")
    await expect(shown.locator("[data-test=kb-state]")).to_have_text("v1 · 已发布")
    await expect(shown.locator("[data-test=kb-script]")).to_contain_text("不合格的免费更换水表")
    await expect(shown.locator("[data-test=kb-guide]")).to_contain_text("5个工作日")
    await expect(shown.locator("[data-test=kb-versions]")).to_contain_text("内容准确")
    await expect(agent.locator("[data-test=kb-nav-new]")).to_have_count(0)  # agents read only
    await shoot_whole(agent, ARTIFACTS / "kb-article-zh.png")
    await switch_language(agent)
    # The English title the writer gave; the rest shows in Chinese.
    await expect(shown.locator("[data-test=kb-title]")).to_have_text("Having a water meter tested")
    await expect(shown.locator("[data-test=kb-state]")).to_have_text("v1 · Published")
    await expect(shown.locator("[data-test=kb-lang] .is-active")).to_have_text("English")
    await shoot_whole(agent, ARTIFACTS / "kb-article-en.png")


async def test_a_rejected_version_shows_its_note_and_what_it_changed(
    consoles: Stack,
) -> None:
    """The unit changes its published article's fee; the supervisor sees the change
    against the published version and rejects it with a note, which the writer then
    reads on the version and in the editor."""
    system = consoles
    water = await desk(system, "water")
    first = await water.post(
        "/api/v1/knowledge/articles",
        {
            "kind": "guide",
            "title": "用水报装办理指南",
            "script": "新装水表请携带房产证和身份证到供水营业厅办理。",
            "fees": "报装费300元",
            "service_items": ["W02"],
            "submit": True,
        },
        status=201,
    )
    supervisor = await desk(system, "supervisor")
    await supervisor.post(f"/api/v1/knowledge/articles/{first['id']}/versions/1/approve", {})

    writer = await system.console("water")
    await open_page(system, writer, f"/knowledge/{first['id']}")
    await writer.locator("[data-test=kb-edit]").click()
    await expect(writer.locator("[data-test=kb-form-title]")).to_have_value("用水报装办理指南")
    await writer.locator("[data-test=kb-form-fees]").fill("报装费200元，另收材料费")
    await writer.locator("[data-test=kb-form-note]").fill("新收费标准")
    await writer.locator("[data-test=kb-save-submit]").click()
    await expect(writer.locator("[data-test=kb-state]")).to_have_text("v2 · 待审核")

    page = await system.console("supervisor")
    await open_page(system, page, "/knowledge/review")
    await page.locator(f"[data-test=kb-review-queue] [data-article='{first['id']}']").click()
    change = page.locator("[data-test=kb-against] [data-field=fees]")
    await expect(change.locator("del")).to_have_text("300")
    await expect(change.locator("ins").first).to_have_text("200")
    await page.locator("[data-test=kb-review-note]").fill("收费标准请以物价局文件为准，附文号")
    await shoot_whole(page, ARTIFACTS / "kb-review-zh.png")
    await switch_language(page)
    await expect(page.locator("[data-test=kb-against]")).to_contain_text(
        "Changes against the published v1"
    )
    await shoot_whole(page, ARTIFACTS / "kb-review-en.png")
    await switch_language(page)
    await page.locator("[data-test=kb-reject]").click()
    await expect(
        page.locator(f"[data-test=kb-review-queue] [data-article='{first['id']}']")
    ).to_have_count(0)

    await writer.reload()
    note = writer.locator("[data-test=kb-rejected-note]")
    await expect(note).to_contain_text("收费标准请以物价局文件为准，附文号")
    await expect(writer.locator("[data-test=kb-state]")).to_have_text("v2 · 已退回")
    await writer.locator("[data-test=kb-edit]").click()
    await expect(writer.locator("[data-test=kb-rejected-note]")).to_contain_text("物价局")
    await expect(writer.locator("[data-test=kb-form-fees]")).to_have_value(
        "报装费200元，另收材料费"
    )
    await water.client.close()
    await supervisor.client.close()


async def test_the_figures_show_an_articles_use_and_a_gap_to_write(
    consoles: Stack,
) -> None:
    system = consoles
    article = await published(
        system,
        {
            "kind": "faq",
            "title": "燃气IC卡丢失补办",
            "script": "燃气IC卡丢失可携带身份证到燃气营业厅补办，工本费10元。",
            "service_items": ["G08"],
        },
    )
    agent = await desk(system, "agent")
    await agent.post(
        "/api/v1/orders/resolved-on-call",
        {
            "hotline_code": "96111",
            "service_item_code": "G08",
            "description": "气卡丢了怎么补",
            "client_request_id": f"kb-{uuid.uuid4().hex}",
            "reply": "已告知补卡办法",
            "article_id": article["id"],
        },
        status=201,
    )
    question = "无人机航拍许可证"
    found = await agent.get("/api/v1/knowledge/articles", q=question)
    assert found["items"] == []
    await agent.client.close()

    page = await system.console("supervisor")
    await open_page(system, page, "/knowledge/figures")
    used = page.locator(f"[data-test=kb-usage] [data-article='{article['id']}']")
    await expect(used).to_have_text("燃气IC卡丢失补办")
    mine = page.locator(f"[data-article='{article['id']}']")
    row = page.locator("[data-test=kb-usage] tr", has=mine)
    await expect(row.locator("[data-test=kb-usage-answers]")).to_have_text("1")
    gap = page.locator("[data-test=kb-gaps] tr", has_text=question)
    await expect(gap).to_be_visible()
    await shoot_whole(page, ARTIFACTS / "kb-figures-zh.png")
    await switch_language(page)
    await expect(page.locator("[data-test=kb-gaps]")).to_contain_text("Gaps")
    await shoot_whole(page, ARTIFACTS / "kb-figures-en.png")
    await switch_language(page)
    await gap.locator("[data-test=kb-write-gap]").click()
    await expect(page.locator("[data-test=kb-form-title]")).to_have_value(question)


async def test_a_stale_save_is_explained_and_keeps_what_was_typed(
    consoles: Stack,
) -> None:
    system = consoles
    article = await published(
        system,
        {"kind": "policy", "title": "阶梯水价说明", "script": "居民用水实行三级阶梯水价。"},
    )
    page = await system.console("supervisor")
    await open_page(system, page, f"/knowledge/{article['id']}/edit")
    await expect(page.locator("[data-test=kb-form-title]")).to_have_value("阶梯水价说明")
    typed = "居民用水实行三级阶梯水价，第一阶梯每月15立方米以内。"
    await page.locator("[data-test=kb-form-script]").fill(typed)

    # Meanwhile a colleague saves another version.
    supervisor = await desk(system, "supervisor")
    await put(
        supervisor,
        f"/api/v1/knowledge/articles/{article['id']}",
        {"kind": "policy", "title": "阶梯水价说明", "script": "三级阶梯水价。", "base_version": 1},
    )
    await supervisor.client.close()

    async with page.expect_response(lambda r: r.request.method == "PUT") as info:
        await page.locator("[data-test=kb-save-draft]").click()
    assert (await info.value).status == 409
    conflict = page.locator("[data-test=kb-conflict]")
    await expect(conflict).to_contain_text("有人在此期间修改了这篇文章")
    await expect(page.locator("[data-test=kb-form-script]")).to_have_value(typed)
    await page.locator("[data-test=kb-reload-theirs]").click()
    await expect(page.locator("[data-test=kb-diff] [data-field=script]")).to_be_visible()
    async with page.expect_response(lambda r: r.request.method == "PUT") as info:
        await page.locator("[data-test=kb-save-draft]").click()
    response = await info.value
    assert response.status == 200, await response.text()
    sent = response.request.post_data_json
    assert sent is not None and sent["base_version"] == 2
    await expect(page.locator("[data-test=kb-state]")).to_have_text("v3 · 草稿")


async def test_the_knowledge_page_fits_a_phone(consoles: Stack) -> None:
    system = consoles
    article = await published(
        system,
        {
            "kind": "guide",
            "title": "燃气过户办理指南",
            "script": "燃气过户请携带新户主身份证、房产证到燃气营业厅办理。",
            "documents": ["新户主身份证", "房产证"],
            "steps": ["营业厅提交材料", "当场办结"],
        },
    )
    page = await system.console(
        "water", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    await open_page(system, page, f"/knowledge/{article['id']}")
    await expect(page.locator("[data-test=kb-script]")).to_contain_text("新户主身份证")
    await shoot_whole(page, ARTIFACTS / "kb-article-390.png")
    await no_sideways_scroll(page)
