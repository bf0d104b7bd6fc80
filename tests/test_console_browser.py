"""The consoles in a real browser (Debian's chromium, headless, driven by Playwright)
against the real processes: ``hotline web``, a worker and the relay on their own database,
with Twilio's signed webhooks putting callers in the queue and SMS into drafts.

Screenshots of each console are saved under ``tests/artifacts/`` for people to look at.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from playwright.async_api import (
    FilePayload,
    Page,
    WebSocketRoute,
    expect,
)

from hotline.phones import mask_phone
from hotline.settings import Settings
from testkit.twilio import sid
from tests.browser_support import (
    ARTIFACTS,
    PHONE,
    Desk,
    Stack,
    dispatched_order,
    needs_chromium,
    no_sideways_scroll,
    register_with_keys,
    settled,
    shoot,
    switch_language,
)
from tests.factories import PASSWORD, make_user, register_order
from tests.test_media import MP3
from tests.test_twilio_intake import (
    call_params,
    gather_params,
    mobile,
    queue_params,
    recording_params,
    sms_params,
)
from tests.waiting import until

# The promise: an enterprise sees a new dispatch within 2 s, without a reload.
LIVE_WITHIN_MS = 2000

pytestmark = needs_chromium


async def register_from_screen_pop(
    agent: Page, stack: Stack, phone: str, screenshot: Path | None = None
) -> dict[str, Any]:
    """The agent takes the waiting call with F2 and registers what the caller says,
    taking the suggested item with Alt+1 and saving with Ctrl+Enter."""
    await stack.queue_caller("96111", phone)
    await agent.keyboard.press("F2")
    await expect(agent.locator("[data-test=caller-phone]")).to_have_text(phone)
    description = agent.locator("[data-test=description]")
    await expect(description).to_be_focused()
    await agent.keyboard.type("宁夏路201号楼下水管漏水，水流到马路上")
    await expect(agent.locator("[data-test=suggestions] [data-code=W05]")).to_be_visible()
    await agent.keyboard.press("Alt+1")
    await expect(agent.locator("[data-test=item-select]")).to_contain_text("供水设施维修调试")
    await agent.locator("[data-test=address]").fill("宁夏路201号")
    await description.focus()
    if screenshot is not None:
        await agent.screenshot(path=screenshot, full_page=True)
    order = await register_with_keys(agent)
    assert order["call_id"] is not None  # the call taken lists it
    return order


async def test_a_fresh_visit_logs_no_error_and_fails_no_request(consoles: Stack) -> None:
    """Nobody signed in yet: the session check is an answer, not a 401, and the icon is
    served, so the browser's console stays empty on the login page and the public form."""
    assert consoles.browser is not None
    context = await consoles.browser.new_context()
    consoles.contexts.append(context)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on(
        "response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None
    )
    icons: list[str] = []
    page.on("response", lambda r: icons.append(r.url) if "favicon" in r.url else None)

    await page.goto(consoles.base + "/", wait_until="networkidle")
    await expect(page.locator("input[name=username]")).to_be_visible()
    await page.goto(consoles.base + "/report", wait_until="networkidle")
    await expect(page.locator("form")).to_be_visible()
    assert problems == []
    assert icons  # the pages name their icon, and the browser fetched it
    async with consoles.session.get(consoles.base + "/favicon.ico") as response:
        assert response.status == 200 and response.content_type == "image/svg+xml"


async def test_an_order_registered_from_a_screen_pop_reaches_the_unit_live(
    consoles: Stack,
) -> None:
    stack = consoles
    water = await stack.console("water")
    await water.evaluate("window.__sameDocument = true")
    agent = await stack.console("agent")
    phone = mobile()

    order = await register_from_screen_pop(agent, stack, phone, ARTIFACTS / "agent-console.png")

    row = water.locator("[data-test=inbox] tr", has_text=order["number"])
    await expect(row).to_be_visible(timeout=LIVE_WITHIN_MS)
    assert await water.evaluate("window.__sameDocument") is True  # no reload happened
    # A unit holding the dispatch may have to call the citizen: the number is whole.
    await expect(row.locator("[data-test=inbox-phone]")).to_have_text(phone)
    await expect(agent.locator("[data-test=my-orders]")).to_contain_text(order["number"])
    await water.wait_for_timeout(400)  # the new row's highlight settles
    await water.screenshot(path=ARTIFACTS / "enterprise-inbox.png", full_page=True)


async def test_a_return_appears_on_the_supervisors_board_live(consoles: Stack) -> None:
    stack = consoles
    supervisor = await stack.console("supervisor")
    await supervisor.evaluate("window.__sameDocument = true")
    water = await stack.console("water")
    agent = await stack.console("agent")
    phone = mobile()
    order = await register_from_screen_pop(agent, stack, phone)

    row = water.locator("[data-test=inbox] tr", has_text=order["number"])
    await row.locator("[data-test=return]").click()
    await water.locator("[data-test=return-text]").fill("该地址属于其他供水单位")
    await water.locator("[data-test=dialog-submit]").click()
    await expect(row).to_have_count(0)
    # Returned, the order is no longer the unit's to work on: the number is masked.
    await water.goto(f"{stack.base}/#/orders/{order['id']}")
    await expect(water.locator("[data-test=order-phone]")).to_have_text(mask_phone(phone))

    review = supervisor.locator("[data-test=returns] tr", has_text=order["number"])
    await expect(review).to_be_visible()
    await expect(review).to_contain_text("该地址属于其他供水单位")
    assert await supervisor.evaluate("window.__sameDocument") is True
    await supervisor.screenshot(path=ARTIFACTS / "supervisor-returns.png", full_page=True)

    await review.locator("a").click()
    timeline = supervisor.locator("[data-test=timeline]")
    await expect(timeline.locator("[data-type='order.return']")).to_be_visible()
    await expect(timeline).to_contain_text("该地址属于其他供水单位")
    await supervisor.screenshot(path=ARTIFACTS / "order-page.png", full_page=True)


async def complete_for_manual_callback(stack: Stack, dispatch: dict[str, Any]) -> int:
    """青岛水务集团 completes the dispatch and its callback waits for an agent: the
    post-completion campaign calls by hand here, and the attempt is made due now (the
    policy puts it inside the calling hours of a working day). Returns the attempt."""
    await stack.pool.execute(
        "UPDATE callback_campaigns SET channel = 'manual' WHERE kind = 'post_completion'"
    )
    water = await stack.api(stack.users["water"])
    try:
        await water.post(f"/api/v1/dispatches/{dispatch['id']}/sign-for", {})
        await water.post(
            f"/api/v1/dispatches/{dispatch['id']}/complete", {"reply": "已更换破裂水管，恢复供水"}
        )
    finally:
        await water.client.close()
    for _ in range(100):
        attempt_id = await stack.pool.fetchval(
            "SELECT a.id FROM callback_attempts a JOIN callback_surveys s ON s.id = a.survey_id"
            " WHERE s.order_id = $1 AND a.state = 'manual'",
            dispatch["order_id"],
        )
        if attempt_id:
            break
        await asyncio.sleep(0.1)
    assert attempt_id, "no manual callback was scheduled"
    await stack.pool.execute(
        "UPDATE callback_attempts SET due_at = now() WHERE id = $1", attempt_id
    )
    return int(attempt_id)


async def completed_order_with_manual_callback(stack: Stack, phone: str) -> dict[str, Any]:
    """An order registered, completed by 青岛水务集团, and its callback waiting for an agent."""
    order, dispatch = await dispatched_order(stack, phone)
    return {**order, "attempt_id": await complete_for_manual_callback(stack, dispatch)}


async def test_an_agent_records_a_manual_callback_from_the_keyboard(consoles: Stack) -> None:
    stack = consoles
    phone = mobile()
    order = await completed_order_with_manual_callback(stack, phone)
    agent = await stack.console("agent")
    row = agent.locator(f"[data-test=manual-callbacks] [data-attempt='{order['attempt_id']}']")
    await expect(row).to_contain_text(order["number"])
    await row.focus()
    await agent.keyboard.press("Enter")
    dialog = agent.locator(".el-dialog", has=agent.locator("[data-test=manual-phone]"))
    await expect(dialog.locator("[data-test=manual-phone]")).to_have_text(phone)
    await expect(dialog).to_contain_text("延安三路小区门口水管破裂")
    await dialog.locator("[data-test=manual-solved]").get_by_text("问题已解决").click()
    await dialog.locator("[data-test=manual-rating] [data-level='4']").click()
    await dialog.locator("[data-test=manual-comment]").fill("维修很及时，谢谢")
    await agent.wait_for_timeout(400)  # the buttons' transition to their chosen look
    await agent.screenshot(path=ARTIFACTS / "agent-manual-callback.png")
    async with agent.expect_response(lambda r: r.url.endswith("/answer")) as info:
        await agent.keyboard.press("Control+Enter")
    assert (await info.value).status == 200
    await expect(row).to_have_count(0)
    survey = await stack.pool.fetchrow(
        "SELECT state, solved, rating, comment, answered_by FROM callback_surveys"
        " WHERE order_id = $1",
        order["id"],
    )
    assert survey is not None
    assert (survey["state"], survey["solved"], survey["rating"]) == ("answered", True, 4)
    assert survey["comment"] == "维修很及时，谢谢" and survey["answered_by"] is not None
    # A good answer closes the loop; the order page shows the survey and its attempt.
    await agent.goto(f"{stack.base}/#/orders/{order['id']}")
    callbacks = agent.locator("[data-test=callbacks]")
    await expect(callbacks.locator("[data-test=survey-rating]")).to_have_text("满意")
    await expect(callbacks.locator("[data-test=survey-solved]")).to_have_text("问题已解决")
    await expect(callbacks).to_contain_text("维修很及时，谢谢")
    answered = agent.locator("[data-test=timeline] [data-type='callback.answered']")
    await expect(answered).to_be_visible()
    assert (
        await stack.pool.fetchval("SELECT status FROM work_orders WHERE id = $1", order["id"])
        == "closed"
    )
    await agent.wait_for_timeout(3500)  # the confirmation message fades
    await agent.screenshot(path=ARTIFACTS / "order-callbacks.png", full_page=True)


async def test_a_follow_up_call_shows_the_orders_owner_who_hears_how_it_ended(
    consoles: Stack,
) -> None:
    """首问负责制: 王芳 registers an order; when the citizen calls again, 李娜's screen-pop
    shows the order's state and that 王芳 owns it, and the hotline's running outages.
    王芳 hears live when the unit completes it and when the citizen's callback reopens it,
    and her orders show the rating and the redo."""
    stack = consoles
    supervisor = await stack.api(stack.users["supervisor"])
    now = dt.datetime.now(dt.UTC)
    outage = await supervisor.post(
        "/api/v1/outages",
        {
            "domain": "water",
            "kind": "emergency",
            "title": "胶州市管网抢修停水",
            "area_codes": ["370281"],
            "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=3)).isoformat(),
        },
        status=201,
    )
    await supervisor.client.close()
    try:
        owner = await stack.console("agent")
        phone = mobile()
        order, dispatch = await dispatched_order(stack, phone)

        colleague = await stack.console("colleague")
        await stack.queue_caller("96111", phone)
        await colleague.keyboard.press("F2")
        pop = colleague.locator("[data-test=screen-pop]")
        row = pop.locator("[data-test=pop-open-order]", has_text=order["number"])
        await expect(row.locator("[data-test=pop-owner]")).to_have_text("首问：王芳")
        await expect(row).to_contain_text("已派单")
        await expect(pop.locator("[data-test=pop-outages]")).to_contain_text("胶州市管网抢修停水")
        await colleague.screenshot(path=ARTIFACTS / "agent-screen-pop-owner-zh.png")
        await colleague.locator(".topbar [data-test=lang]").click()
        await expect(row.locator("[data-test=pop-owner]")).to_have_text("Owner: 王芳")
        await expect(pop.locator("[data-test=pop-outages]")).to_contain_text("Running outages")
        await colleague.screenshot(path=ARTIFACTS / "agent-screen-pop-owner-en.png")

        attempt = await complete_for_manual_callback(stack, dispatch)
        completed = owner.locator(".owner-notice", has_text="您受理的工单已办结")
        await expect(completed).to_contain_text(order["number"])
        desk = await stack.api(stack.users["colleague"])
        await desk.post(
            f"/api/v1/callbacks/manual/{attempt}/answer",
            {"solved": False, "rating": 2, "comment": "水管还在漏"},
        )
        await desk.client.close()
        rated = owner.locator(".owner-notice", has_text="您受理的工单已回访")
        await expect(rated).to_contain_text(f"{order['number']}：不满意")
        await expect(owner.locator(".owner-notice", has_text="被重新办理")).to_be_visible()
        mine = owner.locator("[data-test=my-orders] li", has_text=order["number"])
        await expect(mine.locator("[data-test=my-outcome]")).to_contain_text("回访：不满意")
        await expect(mine.locator("[data-test=my-outcome]")).to_contain_text("重办 1 次")
        await owner.screenshot(path=ARTIFACTS / "agent-my-orders-outcome-zh.png")
        await owner.locator(".topbar [data-test=lang]").click()
        await expect(mine.locator("[data-test=my-outcome]")).to_contain_text(
            "Callback: Dissatisfied"
        )
        await expect(mine.locator("[data-test=my-outcome]")).to_contain_text("reopened 1×")
        await owner.screenshot(path=ARTIFACTS / "agent-my-orders-outcome-en.png")
    finally:
        await stack.pool.execute(
            "UPDATE outage_notices SET cancelled_at = now() WHERE id = $1", outage["id"]
        )


async def test_a_unit_records_the_on_site_visit_a_bad_rating_asked_for_on_a_phone(
    consoles: Stack,
) -> None:
    stack = consoles
    order = await completed_order_with_manual_callback(stack, mobile())
    agent = await stack.api(stack.users["agent"])
    unit = await stack.api(stack.users["water"])
    redo: dict[str, Any] = {}

    async def redone() -> bool:
        rows = (await unit.get("/api/v1/inbox"))["items"]
        redo.update(next((r for r in rows if r["order_id"] == order["id"] and r["visit_id"]), {}))
        return bool(redo)

    try:
        await agent.post(
            f"/api/v1/callbacks/manual/{order['attempt_id']}/answer",
            {"solved": False, "rating": 2, "comment": "阀门还在漏水"},
        )
        await until(redone, "the redo, owing a visit, reached the unit")
        await unit.post(f"/api/v1/dispatches/{redo['id']}/sign-for", {})
    finally:
        await agent.client.close()
        await unit.client.close()

    page = await stack.console("water", viewport={"width": 390, "height": 844})
    # A phone shows the inbox as cards.
    row = page.locator(f"[data-test=inbox-card][data-number='{order['number']}']")
    await expect(row.locator("[data-test=visit-owed]")).to_have_text("待上门回访")
    await expect(row.locator("[data-test=complete]")).to_have_count(0)
    await page.screenshot(path=ARTIFACTS / "visit-inbox-zh.png", full_page=True)
    dialog = page.locator(".el-dialog", has=page.locator("[data-test=visit-who]"))

    async def fill_in(who: str, confirmation: str, shot: str) -> None:
        await row.locator("[data-test=visit]").click()
        await expect(dialog.locator("[data-test=visit-reason]")).to_contain_text("阀门还在漏水")
        await dialog.locator("[data-test=visit-who]").fill(who)
        findings = dialog.locator("[data-test=visit-findings]")
        await findings.fill("阀门老化渗水，已更换并试压")
        async with page.expect_response(lambda r: r.url.endswith("/attachments")) as uploaded:
            await dialog.locator("[data-test=camera-input]").set_input_files(
                files=FilePayload(name="site.png", mimeType="image/png", buffer=street_photo())
            )
        assert (await uploaded.value).status == 201
        await dialog.locator("[data-test=visit-confirmation]").get_by_text(confirmation).click()
        await page.wait_for_timeout(400)  # the dialog's opening transition
        await page.screenshot(path=ARTIFACTS / shot, full_page=True)

    await fill_in("维修班 张强", "电话确认", "visit-form-zh.png")
    await dialog.get_by_role("button", name="取消").click()
    await page.locator(".topbar [data-test=lang]").click()
    await expect(row.locator("[data-test=visit-owed]")).to_have_text("Visit owed")
    await fill_in("Zhang Qiang", "Confirmed by phone", "visit-form-en.png")
    async with page.expect_response(lambda r: r.url.endswith("/visit")) as info:
        await dialog.locator("[data-test=dialog-submit]").click()
    assert (await info.value).status == 200, await (await info.value).text()
    await expect(row.locator("[data-test=visit-owed]")).to_have_count(0)
    await expect(row.locator("[data-test=complete]")).to_be_visible()
    visit = await stack.pool.fetchrow(
        "SELECT * FROM onsite_visits WHERE order_id = $1", order["id"]
    )
    assert visit is not None and visit["state"] == "recorded"
    assert (visit["visitors"], visit["citizen_confirmation"]) == ("Zhang Qiang", "by_phone")
    assert len(visit["attachment_ids"]) == 1
    await page.wait_for_timeout(3500)  # the confirmation message fades
    await page.screenshot(path=ARTIFACTS / "visit-inbox-en.png", full_page=True)
    # The order's history shows the visit with what was recorded.
    await page.goto(f"{stack.base}/#/orders/{order['id']}")
    recorded = page.locator(".el-timeline-item", has=page.locator("[data-type='visit.recorded']"))
    await expect(recorded).to_contain_text("Confirmed by phone")
    await page.screenshot(path=ARTIFACTS / "visit-order-en.png", full_page=True)
    await page.locator(".topbar [data-test=lang]").click()
    await expect(recorded).to_contain_text("电话确认")
    await page.screenshot(path=ARTIFACTS / "visit-order-zh.png", full_page=True)


async def test_a_supervisor_closes_an_order_with_a_ruling(consoles: Stack) -> None:
    stack = consoles
    order = await completed_order_with_manual_callback(stack, mobile())
    page = await stack.console("supervisor")
    await page.goto(f"{stack.base}/#/orders/{order['id']}")
    await expect(page.locator("[data-test=callbacks]")).to_contain_text("回访中")
    await page.locator("[data-test=ruling]").click()
    ruling = "诉求不合理：要求免除全部水费，已向来电人解释"
    await page.locator("[data-test=ruling-text]").fill(ruling)
    await page.locator("[data-test=ruling-submit]").click()
    timeline = page.locator("[data-test=timeline]")
    await expect(timeline).to_contain_text("诉求不合理：要求免除全部水费")
    await expect(page.locator("[data-test=callbacks]")).to_contain_text("已取消")
    await expect(page.locator("[data-test=ruling]")).to_have_count(0)  # closed: no more rulings
    row = await stack.pool.fetchrow(
        "SELECT o.status, s.state FROM work_orders o JOIN callback_surveys s"
        " ON s.order_id = o.id WHERE o.id = $1",
        order["id"],
    )
    assert row is not None and (row["status"], row["state"]) == ("closed", "cancelled")


async def test_the_supervisor_creates_pauses_and_resumes_a_campaign(consoles: Stack) -> None:
    stack = consoles
    page = await stack.console("supervisor")
    await page.get_by_role("tab", name="回访任务").click()
    await page.locator("[data-test=campaign-new]").click()
    dialog = page.locator(".el-dialog", has=page.locator("[data-test=campaign-name]"))
    await dialog.get_by_text("营商环境专席").click()
    await dialog.locator("[data-test=campaign-name]").fill("12月营商环境回访")
    await dialog.get_by_text("人工", exact=True).click()
    await dialog.locator("[data-test=campaign-phones]").fill(
        f"{mobile()} 赵先生\n{mobile()}，孙女士"
    )
    await dialog.locator("[data-test=campaign-submit]").click()
    row = page.locator("[data-test=campaigns] tr", has_text="12月营商环境回访")
    await expect(row.locator("[data-test=campaign-state]")).to_have_text("进行中")
    campaign_id = await stack.pool.fetchval(
        "SELECT id FROM callback_campaigns WHERE name = '12月营商环境回访'"
    )

    async def attempt_states() -> set[str]:
        rows = await stack.pool.fetch(
            "SELECT a.state FROM callback_attempts a JOIN callback_surveys s"
            " ON s.id = a.survey_id WHERE s.campaign_id = $1",
            campaign_id,
        )
        return {r["state"] for r in rows}

    assert await attempt_states() == {"manual"}
    await row.locator("[data-test=campaign-pause]").click()
    await expect(row.locator("[data-test=campaign-state]")).to_have_text("已暂停")
    assert await attempt_states() == {"held"}
    await page.wait_for_timeout(3500)  # the confirmation message fades
    await page.screenshot(path=ARTIFACTS / "supervisor-campaigns.png", full_page=True)
    await row.locator("[data-test=campaign-resume]").click()
    await expect(row.locator("[data-test=campaign-state]")).to_have_text("进行中")
    assert await attempt_states() == {"manual"}


async def board_numbers(page: Page) -> dict[str, int]:
    counters = page.locator("[data-test=counters] [data-counter]")
    await expect(counters.first.locator("[data-test=counter-value]")).not_to_have_text("…")
    numbers = {}
    for i in range(await counters.count()):
        counter = counters.nth(i)
        key = await counter.get_attribute("data-counter")
        assert key is not None
        numbers[key] = int(await counter.locator("[data-test=counter-value]").inner_text())
    return numbers


async def database_numbers(pool: asyncpg.Pool) -> dict[str, int]:
    """The same numbers, counted straight from the tables."""
    open_statuses = [
        "registered",
        "dispatching",
        "dispatched",
        "returned",
        "escalated",
        "in_progress",
        "reopened",
    ]
    row = await pool.fetchrow(
        """
        SELECT
          (SELECT count(*) FROM work_orders WHERE status <> 'draft'
              AND created_at >= date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai')
                                 AT TIME ZONE 'Asia/Shanghai') AS registered_today,
          (SELECT count(*) FROM work_orders WHERE status = ANY($1)) AS open,
          (SELECT count(*) FROM work_orders WHERE status = ANY($1)
              AND resolution_due_at >= now()
              AND resolution_due_at < now() + interval '4 hours') AS due_soon,
          (SELECT count(*) FROM work_orders WHERE status = ANY($1)
              AND resolution_due_at < now()) AS overdue,
          (SELECT count(*) FROM work_orders WHERE status = 'escalated') AS in_coordination,
          (SELECT count(*) FROM order_returns WHERE state = 'pending') AS returns_pending,
          (SELECT count(*) FROM time_requests WHERE state = 'pending') AS time_requests_pending,
          (SELECT count(*) FROM work_orders
            WHERE status IN ('completed', 'callback')) AS callbacks_due
        """,
        open_statuses,
    )
    assert row is not None
    return dict(row)


async def test_the_boards_numbers_are_the_databases(consoles: Stack) -> None:
    stack = consoles
    agent = await stack.api(stack.users["agent"])
    try:
        for item, description in (("W01", "水表走字不准"), ("H05", "暖气不热，室温只有14度")):
            await agent.post(
                "/api/v1/orders",
                {"hotline": "96111", "service_item": item, "description": description},
                status=201,
            )
        urgent = {"hotline": "96111", "service_item": "W05", "priority": "urgent"}
        await agent.post("/api/v1/orders", {**urgent, "description": "爆管停水"}, status=201)
    finally:
        await agent.client.close()
    # The unit signs for what reached it, so that the board has rates to show.
    water = await stack.api(stack.users["water"])
    try:
        for _ in range(50):
            pending = (await water.get("/api/v1/inbox", state="pending"))["items"]
            if len(pending) >= 2:
                break
            await asyncio.sleep(0.2)
        for dispatch in pending[:2]:
            await water.post(f"/api/v1/dispatches/{dispatch['id']}/sign-for", {})
    finally:
        await water.client.close()
    supervisor = await stack.console("supervisor")
    # Let routing settle, then compare what the page shows with what the tables hold.
    for _ in range(50):
        await supervisor.reload()
        expected = await database_numbers(stack.pool)
        shown = await board_numbers(supervisor)
        if shown == expected:
            break
        await asyncio.sleep(0.2)
    assert shown == expected
    assert shown["registered_today"] >= 3 and shown["open"] >= 3
    await expect(supervisor.locator("[data-test=unit-rates]")).to_contain_text("%")
    await supervisor.wait_for_timeout(600)  # the charts' entry animation
    await supervisor.screenshot(path=ARTIFACTS / "supervisor-board.png", full_page=True)
    # Groups with their branches (集团汇总): the water group's row holds its branches' work.
    await supervisor.locator("[data-test=roll-up]").get_by_text("按集团汇总").click()
    await expect(supervisor.locator("[data-test=unit-rates]")).to_contain_text("青岛水务集团")
    await expect(supervisor.locator("[data-test=unit-rates]")).not_to_contain_text("分公司")


async def test_the_language_switch_is_remembered(consoles: Stack) -> None:
    page = await consoles.console("supervisor")
    nav = page.locator(".nav")
    await expect(nav).to_contain_text("督办看板")
    await page.locator(".topbar [data-test=lang]").click()
    await expect(nav).to_contain_text("SLA board")
    await expect(page.locator("[data-counter=overdue]")).to_contain_text("Overdue")
    await page.reload()
    await expect(page.locator(".nav")).to_contain_text("SLA board")
    assert await page.evaluate("document.documentElement.lang") == "en"
    await page.locator(".topbar [data-test=lang]").click()
    await expect(page.locator(".nav")).to_contain_text("督办看板")
    await page.reload()
    await expect(page.locator(".nav")).to_contain_text("督办看板")


async def test_english_reads_whole_from_the_server_too(consoles: Stack) -> None:
    """In English, what the server says (an error, a routing reason) is English, names
    are the English ones, dates spell the month, the header stays readable on hover,
    and the board's queues come before its charts (issue 15, item 13)."""
    stack = consoles
    order, _ = await dispatched_order(stack, mobile())
    page = await stack.page("english", viewport={"width": 1440, "height": 900})
    await page.goto(stack.base + "/")
    await page.locator("[data-test=lang]").click()
    await page.locator("input[name=username]").fill(stack.users["supervisor"])
    await page.locator("input[name=password]").fill("not the password")
    await page.locator("[data-test=login-submit]").click()
    await expect(page.locator(".login-error")).to_contain_text("wrong username or password")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("[data-test=login-submit]").click()
    await expect(page.locator("[data-test=live-state].connected")).to_be_visible()

    tabs, rates = page.locator("[data-test=board-tabs]"), page.locator(".rates-grid")
    await expect(rates).to_be_visible()
    tabs_box, rates_box = await tabs.bounding_box(), await rates.bounding_box()
    assert tabs_box and rates_box and tabs_box["y"] < rates_box["y"] and tabs_box["y"] < 900
    breaks = await page.locator(".rates-grid th .cell").first.evaluate(
        "cell => getComputedStyle(cell).wordBreak"
    )
    assert breaks == "normal"
    lang = page.locator(".topbar [data-test=lang]")
    await lang.hover()
    # White on a faint fill, not Element's light grey (the style eases in: to_have_css waits).
    await expect(lang).to_have_css("color", "rgb(255, 255, 255)")
    await expect(lang).to_have_css("background-color", "rgba(255, 255, 255, 0.14)")

    await page.goto(f"{stack.base}/#/orders/{order['id']}")
    timeline = page.locator("[data-test=timeline]")
    await expect(timeline).to_contain_text("Qingdao Water Group")
    await expect(timeline).to_contain_text(re.compile(r"Rule \d+: .* → |No routing rule matches"))
    await expect(timeline).to_contain_text(re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d"))
    assert "青岛水务集团" not in await timeline.inner_text()
    await page.screenshot(path=ARTIFACTS / "order-page-en.png", full_page=True)


async def test_markup_in_an_sms_stays_text(consoles: Stack) -> None:
    stack = consoles
    page = await stack.console("agent")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    body = '<img src=x onerror="window.__pwned=1;alert(1)">水管爆了'
    await stack.twilio("/twilio/sms", sms_params(sid("SM"), mobile(), "96111", body))
    draft = page.locator("[data-test=drafts] [data-test=draft-text]", has_text="水管爆了")
    await expect(draft).to_be_visible()
    assert await draft.inner_text() == body
    await draft.click()
    await expect(page.locator("[data-test=draft-dialog-text]")).to_have_text(body)
    await page.wait_for_timeout(500)  # give an injected onerror every chance to run
    assert await page.evaluate("window.__pwned") is None
    assert (
        await page.locator("[data-test=drafts] img, [data-test=draft-dialog-text] img").count() == 0
    )
    assert dialogs == []
    assert not [url for url in fetched if url.rstrip("/").endswith("/x")]


async def test_a_dropped_socket_reconnects_and_replays_what_it_missed(consoles: Stack) -> None:
    stack = consoles
    blocked = asyncio.Event()
    sockets: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        # While the network is down a new connection goes nowhere (never opens, as packets
        # lost on the way); the client gives up on it after its connect timeout.
        if not blocked.is_set():
            sockets.extend([ws, ws.connect_to_server()])

    assert stack.browser is not None
    context = await stack.browser.new_context(viewport={"width": 1600, "height": 1000})
    stack.contexts.append(context)
    page = await context.new_page()
    stack.watch(page, "supervisor")
    await page.route_web_socket("**/socket.io/**", route)
    await page.goto(stack.base + "/")
    await page.locator("input[name=username]").fill(stack.users["supervisor"])
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("[data-test=login-submit]").click()
    await expect(page.locator("[data-test=live-state].connected")).to_be_visible()
    await page.evaluate("window.__sameDocument = true")
    await page.get_by_role("tab", name="实时动态").click()

    # Something happens while connected: the feed shows it (and the client's last seq).
    agent = await stack.api(stack.users["agent"])
    try:
        first = await agent.post(
            "/api/v1/orders",
            {"hotline": "96111", "service_item": "W01", "description": "水表不准"},
            status=201,
        )
        feed = page.locator("[data-test=feed]")
        await expect(feed.locator("li", has_text=first["number"]).first).to_be_visible()

        blocked.set()
        for ws in sockets:
            await ws.close()  # both ends of every connection, as a cut cable would
        sockets.clear()
        await expect(page.locator("[data-test=live-state].connected")).to_have_count(0)
        missed = await agent.post(
            "/api/v1/orders",
            {"hotline": "96111", "service_item": "W05", "description": "阀门漏水"},
            status=201,
        )
        dispatched = "SELECT EXISTS (SELECT 1 FROM dispatches WHERE order_id = $1)"
        await until(
            lambda: stack.pool.fetchval(dispatched, missed["id"]),
            "the order is dispatched while the console is cut off",
            attempts=600,
        )
        blocked.clear()
    finally:
        await agent.client.close()

    await expect(page.locator("[data-test=live-state].connected")).to_be_visible(timeout=30000)
    replayed = feed.locator("li[data-replayed=true]", has_text=missed["number"])
    await expect(replayed.first).to_be_visible()
    assert await page.evaluate("window.__sameDocument") is True


async def test_the_public_form_works_under_the_policy(consoles: Stack) -> None:
    """The report form, its own script and style now files: the kinds load, the location
    is shared (the only page allowed to ask for it), a report is sent."""
    stack = consoles
    citizen = await stack.page(
        "citizen",
        viewport={"width": 420, "height": 900},
        permissions=["geolocation"],
        geolocation={"latitude": 36.0671, "longitude": 120.3826},
    )
    await citizen.goto(stack.base + "/report")
    await expect(citizen.locator("#service option")).not_to_have_count(1)  # kinds loaded
    assert await citizen.evaluate("document.featurePolicy.allowsFeature('geolocation')")
    await citizen.locator("#locate").click()
    await expect(citizen.locator("#where")).to_contain_text("36.0671")
    await citizen.locator("textarea[name=description]").fill("延安路路灯不亮，晚上很黑")
    await citizen.locator("input[name=address]").fill("延安路12号")
    await citizen.locator("input[name=phone]").fill(mobile())
    await citizen.locator("#send").click()
    await expect(citizen.locator("#number")).to_be_visible()
    await citizen.screenshot(path=ARTIFACTS / "public-form.png", full_page=True)
    # The consoles may not ask for the location, nor for camera or microphone.
    await citizen.goto(stack.base + "/")
    await expect(citizen.locator("input[name=username]")).to_be_visible()
    for feature in ("geolocation", "camera", "microphone"):
        allowed = await citizen.evaluate(f"document.featurePolicy.allowsFeature('{feature}')")
        assert allowed is False, feature


async def test_the_policy_refuses_injected_script_and_framing(consoles: Stack) -> None:
    """What the policy is for, and proof the violation watch the other tests rely on
    sees violations: an injected inline script does not run, and another site framing
    the console (to make a signed-in supervisor click) gets nothing. (That the console
    runs without eval the other tests show: the policy has no 'unsafe-eval'.)"""
    stack = consoles
    page = await stack.page("injected")
    await page.goto(stack.base + "/report")
    injected = """() => {
      const script = document.createElement("script");
      script.textContent = "window.__ran = true";
      document.body.append(script);
      return window.__ran === true;
    }"""
    assert await page.evaluate(injected) is False

    async def reported() -> bool:
        return any("CSP violation: script-src-elem" in text for text in stack.script_errors)

    await until(reported, "the violation reported")
    stack.script_errors.clear()

    attacker = await stack.page("attacker")
    refused: list[str] = []
    attacker.on("console", lambda message: refused.append(message.text))
    await attacker.set_content(f'<iframe src="{stack.base}/" width="800" height="600"></iframe>')

    async def refused_to_frame() -> bool:
        return any("frame-ancestors" in text for text in refused)

    await until(refused_to_frame, "Chromium refusing to frame the console")
    frame = attacker.frames[-1]
    assert await frame.evaluate("document.querySelector('#app')") is None
    # Those refusals were the point of this test, not errors of the consoles.
    stack.script_errors.clear()


async def test_the_other_screens_and_popups_work_under_the_policy(consoles: Stack) -> None:
    """The screens no other test opens, and Element Plus's dialogs and dropdowns (placed
    through style attributes): no violation, no error."""
    stack = consoles
    supervisor = await stack.console("supervisor")
    await supervisor.goto(f"{stack.base}/#/rules")
    await supervisor.locator(".rules-page .page-head .el-button--primary").click()
    dialog = supervisor.locator(".el-dialog").first
    await expect(dialog).to_be_visible()
    await dialog.locator(".el-select").first.click()
    await expect(supervisor.locator(".el-select-dropdown").first).to_be_visible()
    await supervisor.wait_for_timeout(400)  # the dropdown's fade-in settles
    await supervisor.screenshot(path=ARTIFACTS / "supervisor-rule-editor.png")
    await supervisor.keyboard.press("Escape")
    await supervisor.goto(f"{stack.base}/#/outages")
    await expect(supervisor.locator(".outages-page")).to_be_visible()
    await supervisor.screenshot(path=ARTIFACTS / "supervisor-outages.png", full_page=True)


async def test_the_coordination_dialog_marks_the_units_that_returned_the_order(
    consoles: Stack,
) -> None:
    """青岛水务集团 returns an order (the only unit its rule names) and the centre upholds:
    in coordination, the dialog lists the water group as having returned it, with its
    reason, ranks it last and does not propose it as the lead."""
    stack = consoles
    agent = await stack.api(stack.users["agent"])
    water = await stack.api(stack.users["water"])
    desk = await stack.api(stack.users["supervisor"])
    try:
        order = await agent.post(
            "/api/v1/orders",
            {
                "hotline": "96111",
                "service_item": "W05",
                "description": "小区内部管网漏水，物业称不归其管",
                "address": "燕儿岛路 10 号",
                "caller_phone": mobile(),
                "caller_name": "赵先生",
            },
            status=201,
        )
        found: list[dict[str, Any]] = []

        async def dispatched() -> bool:
            rows = (await water.get("/api/v1/inbox"))["items"]
            found[:] = [r for r in rows if r["order_id"] == order["id"]]
            return bool(found)

        await until(dispatched, "the order reaches the water group")
        await water.post(
            f"/api/v1/dispatches/{found[0]['id']}/return",
            {"reason_code": "other", "reason_text": "小区内部管网属物业自管"},
        )
        review = next(
            r for r in (await desk.get("/api/v1/returns"))["items"] if r["order_id"] == order["id"]
        )
        upheld = await desk.post(f"/api/v1/returns/{review['id']}/review", {"decision": "uphold"})
        assert upheld["status"] == "escalated"
    finally:
        for opened in (agent, water, desk):
            await opened.client.close()

    page = await stack.console("supervisor")
    await page.locator("#tab-coordination").click()
    row = page.locator("[data-test=coordination] tr", has_text=order["number"])
    await row.locator("[data-test=coordinate]").click()
    returned = page.locator("[data-test=returned-units]")
    await expect(returned).to_contain_text("青岛水务集团")
    await expect(returned).to_contain_text("已退单：其他（小区内部管网属物业自管）")
    lead = page.locator("[data-test=coordination-lead]")
    await expect(lead).not_to_contain_text("青岛水务集团")  # not proposed as the lead
    await lead.click()
    option = page.locator(".el-select-dropdown__item:visible", has_text="青岛水务集团")
    await expect(option).to_contain_text("已退单：其他")
    await option.scroll_into_view_if_needed()
    await page.screenshot(path=ARTIFACTS / "supervisor-coordination.png")

    # The water group leads after all, 青岛能源集团 assists and never signs: when the lead
    # completes, the assisting dispatch is withdrawn, and the order's history says why.
    desk = await stack.api(stack.users["supervisor"])
    water = await stack.api(stack.users["water"])
    try:
        ids = {e["code"]: e["id"] for e in (await desk.get("/api/v1/enterprises"))["items"]}
        await desk.post(
            f"/api/v1/orders/{order['id']}/coordinate",
            {
                "lead_enterprise_id": ids["qd-water"],
                "assisting": [ids["qd-energy"]],
                "due_at": "2099-01-01T00:00:00+08:00",
                "note": "管网移交前由水务集团牵头抢修",
            },
        )
        rows = (await water.get("/api/v1/inbox"))["items"]
        (lead,) = [r for r in rows if r["order_id"] == order["id"]]
        await water.post(f"/api/v1/dispatches/{lead['id']}/sign-for", {})
        await water.post(f"/api/v1/dispatches/{lead['id']}/complete", {"reply": "已抢修"})
    finally:
        await desk.client.close()
        await water.client.close()
    await page.goto(f"{stack.base}/#/orders/{order['id']}")
    withdrawn = page.locator("[data-test=timeline] [data-type='dispatch.withdrawn']")
    await expect(withdrawn).to_contain_text("撤回派单")
    await expect(page.locator("[data-test=timeline]")).to_contain_text(
        "订单已办结，协办任务随之撤回"
    )
    await page.screenshot(path=ARTIFACTS / "order-assisting-withdrawn.png", full_page=True)


async def test_the_board_follows_an_agents_status_live(consoles: Stack) -> None:
    """The board's agents list takes each status change as it is pushed, logging out
    included (docs/console.md, "Agent presence")."""
    stack = consoles
    supervisor = await stack.console("supervisor")
    await supervisor.evaluate("window.__sameDocument = true")
    await supervisor.locator("#tab-agents").click()
    row = supervisor.locator("[data-test=agent-states] tr", has_text="王芳")
    agent = await stack.console("agent")
    statuses = agent.locator("[data-test=agent-status]")
    for label in ("话后处理", "空闲"):  # at least one of them is a change, whatever came before
        await statuses.get_by_text(label, exact=True).click()
        await expect(row).to_contain_text(label)
    await supervisor.screenshot(path=ARTIFACTS / "board-agents.png", full_page=True)
    await agent.locator("button.logout").click()
    await expect(row).to_contain_text("离线")
    assert await supervisor.evaluate("window.__sameDocument") is True


# Counts what the inbox's alerts do: chimes (each plays two tones), desktop notifications
# raised, permission asked.
ALERTS_WATCH = """
window.__alerts = { tones: 0, notes: [], asks: 0 };
const makeTone = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.__alerts.tones += 1;
  return makeTone.call(this);
};
const Native = window.Notification;
window.Notification = class extends Native {
  constructor(title, options) {
    super(title, options);
    window.__alerts.notes.push(title);
  }
};
const ask = Native.requestPermission.bind(Native);
window.Notification.requestPermission = (...args) => {
  window.__alerts.asks += 1;
  return ask(...args);
};
"""
# A PNG as the server sniffs it, and something that only calls itself one.
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def photo(name: str, data: bytes = PHOTO) -> FilePayload:
    return {"name": name, "mimeType": "image/png", "buffer": data}


async def report_leak(agent: Desk, address: str) -> dict[str, Any]:
    """An order the demo's water rule sends to the water user's unit."""
    order: dict[str, Any] = await agent.post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W05",
            "area": "370203004",
            "description": "手机端测试：小区门口消防栓漏水，水流到人行道上",
            "address": address,
            "caller_phone": mobile(),
            "caller_name": "陈先生",
        },
        status=201,
    )
    return order


async def test_field_staff_work_an_order_from_a_phone(consoles: Stack) -> None:
    """At 390 px with touch: a new dispatch chimes and raises a notification, the worker
    signs for it, records progress with a photo from the camera (a refused file shows
    why), completes it with a photo and finds it in the history; in Chinese and English,
    and the desktop's table and history beside it."""
    stack = consoles
    shots = ARTIFACTS / "unit-phone"
    shots.mkdir(exist_ok=True)
    phone = await stack.console("water", **PHONE, permissions=["notifications"])
    await phone.add_init_script(ALERTS_WATCH)
    await phone.reload()
    await expect(phone.locator("[data-test=live-state].connected")).to_be_visible(timeout=10000)
    await expect(phone.locator(".unit-cards[data-test=inbox]")).to_be_visible()
    # Permission was granted beforehand: nothing to ask, and nothing asked.
    await expect(phone.locator("[data-test=ask-notify]")).to_have_count(0)

    agent = await stack.api(stack.users["agent"])
    order = await report_leak(agent, "辽源路88号")
    card = phone.locator("[data-test=inbox-card]", has_text=order["number"])
    await expect(card).to_be_visible(timeout=LIVE_WITHIN_MS)
    await phone.wait_for_function("window.__alerts.tones >= 2")
    assert await phone.evaluate("window.__alerts.notes") == [f"新工单 {order['number']}"]
    await no_sideways_scroll(phone)
    await shoot(phone, shots / "phone-inbox-zh.png")

    await card.locator("[data-test=sign-for]").tap()
    await expect(card).to_contain_text("已签收")
    await card.locator("[data-test=progress]").tap()
    dialog = phone.locator(".unit-dialog")
    await dialog.locator("[data-test=progress-text]").fill("已到现场关闭阀门，正在更换密封圈")
    camera = dialog.locator("[data-test=camera-input]")
    assert await camera.get_attribute("accept") == "image/*"
    assert await camera.get_attribute("capture") == "environment"
    await camera.set_input_files(
        [
            photo("现场.png"),
            photo("not-a-photo.png", b"<html>hi</html>"),
        ]
    )
    items = dialog.locator("[data-test=proof-list] li")
    await expect(items.nth(0)).to_have_attribute("data-state", "done")
    await expect(items.nth(1)).to_have_attribute("data-state", "error")
    await expect(items.nth(1).locator("[data-test=proof-error]")).not_to_be_empty()
    await no_sideways_scroll(phone)
    await shoot(phone, shots / "phone-progress-zh.png")
    await items.nth(1).get_by_role("button", name="移除").tap()
    await expect(items).to_have_count(1)
    await dialog.locator("[data-test=dialog-submit]").tap()
    await expect(dialog).to_be_hidden()

    await card.locator("[data-test=complete]").tap()
    await dialog.locator("[data-test=complete-reply]").fill("已更换密封圈，漏水已止")
    await dialog.locator("[data-test=camera-input]").set_input_files([photo("修好了.png")])
    await expect(items.nth(0)).to_have_attribute("data-state", "done")
    await dialog.locator("[data-test=dialog-submit]").tap()
    await expect(card).to_have_count(0)

    detail = await agent.get(f"/api/v1/orders/{order['id']}")
    assert detail["status"] == "completed"
    note = next(e for e in detail["events"] if e["type"] == "dispatch.note")
    assert note["data"]["text"] == "已到现场关闭阀门，正在更换密封圈"
    files = {a["id"]: a["filename"] for a in detail["attachments"]}
    assert [files[i] for i in note["data"]["attachment_ids"]] == ["现场.png"]
    complete = next(e for e in detail["events"] if e["type"] == "order.complete")
    assert [files[i] for i in complete["data"]["attachment_ids"]] == ["修好了.png"]

    # The order's page, opened from the card's number, shows the progress and its photo.
    await phone.goto(f"{stack.base}/#/orders/{order['id']}")
    await expect(phone.locator("body")).to_contain_text("已到现场关闭阀门，正在更换密封圈")
    await expect(phone.locator("a", has_text="现场.png")).to_be_visible()
    await shoot(phone, shots / "phone-order-zh.png", full_page=True)
    await no_sideways_scroll(phone)
    await phone.goto(f"{stack.base}/#/unit")

    await phone.locator("[data-test=tab-history]").tap()
    await phone.locator("[data-test=history-search]").fill(order["number"])
    found = phone.locator("[data-test=history-card]")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text("已更换密封圈，漏水已止")
    await no_sideways_scroll(phone)
    await shoot(phone, shots / "phone-history-zh.png")

    # The same screens in English.
    await phone.locator(".topbar [data-test=lang]").tap()
    await expect(phone.locator("[data-test=tab-history]")).to_contain_text("Completed")
    await phone.locator("[data-test=history-search]").fill("")
    await expect(found.first).to_be_visible()
    await no_sideways_scroll(phone)
    await shoot(phone, shots / "phone-history-en.png")
    await phone.locator("[data-test=tab-inbox]").tap()
    second = await report_leak(agent, "辽源路90号")
    await agent.client.close()
    card = phone.locator("[data-test=inbox-card]", has_text=second["number"])
    await expect(card).to_be_visible(timeout=LIVE_WITHIN_MS)
    await phone.wait_for_function("window.__alerts.notes.length === 2")
    assert await phone.evaluate("window.__alerts.notes[1]") == f"New order {second['number']}"
    await no_sideways_scroll(phone)
    await shoot(phone, shots / "phone-inbox-en.png")
    await card.locator("[data-test=sign-for]").tap()
    await card.locator("[data-test=progress]").tap()
    await expect(dialog.locator("[data-test=take-photo]")).to_contain_text("Take photo")
    await dialog.locator("[data-test=camera-input]").set_input_files([photo("site.png")])
    await expect(items.nth(0)).to_have_attribute("data-state", "done")
    await no_sideways_scroll(phone)
    await shoot(phone, shots / "phone-progress-en.png")
    await dialog.locator(".el-dialog__headerbtn").tap()

    # The switch turns the alerts off, and this browser remembers it.
    checked = re.compile(r"\bis-checked\b")
    toggle = phone.locator("[data-test=alerts-toggle]")
    await expect(toggle).to_have_class(checked)
    await toggle.tap()
    await phone.reload()
    await expect(phone.locator("[data-test=alerts-toggle]")).not_to_have_class(checked)
    assert await phone.evaluate("localStorage.getItem('hotline.unitAlerts')") == "off"
    assert await phone.evaluate("window.__alerts.asks") == 0

    # The desktop keeps its table; notifications are offered, not asked for.
    desk = await stack.console("water")
    await desk.add_init_script(ALERTS_WATCH)
    await desk.reload()
    await expect(desk.locator(".el-table[data-test=inbox]")).to_be_visible()
    await expect(desk.locator("[data-test=inbox] tr", has_text=second["number"])).to_be_visible()
    await expect(desk.locator("[data-test=ask-notify]")).to_be_visible()
    assert await desk.evaluate("window.__alerts.asks") == 0
    await desk.screenshot(path=shots / "desktop-inbox-zh.png")
    await desk.locator("[data-test=tab-history]").click()
    await desk.locator("[data-test=history-search]").fill(order["number"])
    await expect(desk.locator(".el-table[data-test=history] tbody tr")).to_have_count(1)
    await desk.screenshot(path=shots / "desktop-history-zh.png")
    await desk.locator(".topbar [data-test=lang]").click()
    await expect(desk.locator("[data-test=tab-history]")).to_contain_text("Completed")
    await desk.screenshot(path=shots / "desktop-history-en.png")
    await desk.locator("[data-test=tab-inbox]").click()
    await expect(desk.locator("[data-test=inbox] tr", has_text=second["number"])).to_be_visible()
    await desk.screenshot(path=shots / "desktop-inbox-en.png")


async def test_a_suspended_order_shows_its_stopped_clock_and_the_unit_resumes_it(
    consoles: Stack,
) -> None:
    """挂起 on the unit's inbox and the order page, in Chinese then English: the stopped
    clock with the time left, the suspensions so far; the unit resumes from its inbox."""
    stack = consoles
    agent = await stack.api(stack.users["agent"])
    desk = await stack.api(stack.users["supervisor"])
    unit = await stack.api(stack.users["water"])
    try:
        order = await agent.post(
            "/api/v1/orders",
            {
                "hotline": "96111",
                "service_item": "W01",
                "area": "370202003",
                "description": "水表走字异常，需入户校验",
                "address": "延安三路 18 号",
            },
            status=201,
        )

        async def dispatched() -> bool:
            rows = (await unit.get("/api/v1/inbox"))["items"]
            return any(r["order_id"] == order["id"] for r in rows)

        await until(dispatched, "the order reaches the water company")
        (lead,) = [
            r for r in (await unit.get("/api/v1/inbox"))["items"] if r["order_id"] == order["id"]
        ]
        await unit.post(f"/api/v1/dispatches/{lead['id']}/sign-for", {})
        request = await unit.post(
            f"/api/v1/dispatches/{lead['id']}/time-requests",
            {
                "kind": "suspension",
                "reason": "业主出差，无法入户",
                "requested_due_at": "2099-01-01T10:00:00+08:00",
            },
        )
        await desk.post(f"/api/v1/time-requests/{request['id']}/decision", {"decision": "approve"})
    finally:
        for opened in (agent, desk, unit):
            await opened.client.close()

    water = await stack.console("water")
    row = water.locator("[data-test=inbox] tr", has_text=order["number"])
    await expect(row.locator("[data-test=suspended]")).to_have_text("已挂起")
    await water.screenshot(path=ARTIFACTS / "unit-suspended-zh.png", full_page=True)
    await water.goto(f"{stack.base}/#/orders/{order['id']}")
    await expect(water.locator("[data-test=suspended]")).to_contain_text("个工作小时")
    await expect(water.locator("[data-test=suspensions]")).to_contain_text("共 1 次")
    await water.screenshot(path=ARTIFACTS / "order-suspended-zh.png", full_page=True)

    await water.locator(".topbar [data-test=lang]").click()
    await expect(water.locator("[data-test=suspended]")).to_contain_text("working hours left")
    await water.screenshot(path=ARTIFACTS / "order-suspended-en.png", full_page=True)
    await water.goto(f"{stack.base}/#/unit")
    await expect(row.locator("[data-test=suspended]")).to_have_text("Suspended")
    await water.screenshot(path=ARTIFACTS / "unit-suspended-en.png", full_page=True)
    await row.locator("[data-test=resume]").click()
    await expect(row.locator("[data-test=suspended]")).to_have_count(0)
    await expect(row.locator("[data-test=resume]")).to_have_count(0)


def street_photo(width: int = 240, height: int = 160) -> bytes:
    """A PNG that looks like something (sky, a street, a puddle), made here."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            if y < height * 0.45:
                pixel = (120 + y // 2, 170 + y // 3, 235)
            elif (x - width * 0.6) ** 2 / 2500 + (y - height * 0.75) ** 2 / 300 < 1:
                pixel = (70, 110, 160)
            else:
                pixel = (150 - y // 8, 150 - y // 8, 145 - y // 8)
            row += bytes(pixel)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


async def test_photos_recordings_and_proof_are_shown_where_the_order_is(
    consoles: Stack,
) -> None:
    """The form's photo and a recorded message on the agent's drafts, the photo and the
    unit's proof in the unit's inbox on a phone, all of it on the order page, with why
    each dispatch went there."""
    stack = consoles
    photo = street_photo()
    form = aiohttp.FormData()
    for name, value in (
        ("service_code", "W01"),
        ("description", "宁夏路路面积水，下水道井盖冒水"),
        ("address", "宁夏路88号"),
        ("phone", mobile()),
    ):
        form.add_field(name, value)
    form.add_field("photo", photo, filename="积水.png", content_type="image/png")
    async with stack.session.post(stack.base + "/api/v1/public/reports", data=form) as sent:
        assert sent.status == 201, await sent.text()
        number = (await sent.json())["number"]
    call_sid, recording_sid = sid("CA"), sid("RE")
    stack.rest.recordings[recording_sid] = MP3
    await stack.twilio("/twilio/voice", call_params(call_sid, "96111", mobile()))
    await stack.twilio("/twilio/voice/menu", gather_params(call_sid, "96111", "1"))
    await stack.twilio("/twilio/voice/queue-exit", queue_params(call_sid, "leave", 60))
    await stack.twilio("/twilio/recording", recording_params(call_sid, recording_sid))

    # The form's reports reach 12319 and this call 96111: a supervisor sees both hotlines'.
    agent = await stack.console("supervisor")
    await agent.goto(stack.base + "/#/agent")
    drafts = agent.locator("[data-test=drafts]")
    photo_draft = drafts.locator("li", has_text=number)
    await expect(photo_draft.locator("[data-test=media-photo] img")).to_be_visible()
    voice_draft = drafts.locator("li", has=agent.locator("[data-test=media-recording]")).first
    await expect(voice_draft).to_be_visible()
    # The player's source is ours and plays for this session; Twilio's is never seen.
    source = await voice_draft.locator("audio").get_attribute("src")
    assert source is not None and source.startswith("/api/v1/calls/")
    played = await agent.evaluate(
        "async (src) => { const r = await fetch(src);"
        " return [r.status, r.headers.get('content-type')]; }",
        source,
    )
    assert played == [200, "audio/mpeg"]
    assert "twilio" not in await agent.content()
    await photo_draft.locator(".draft-text").click()
    dialog = agent.locator(".el-dialog", has_text=number)
    await dialog.locator("[data-test=media-photo]").click()
    full = agent.locator("[data-test=media-full]")
    await expect(full).to_be_visible()
    assert await full.evaluate("(img) => img.naturalWidth") == 240
    await settled(agent)
    await agent.screenshot(path=ARTIFACTS / "media-draft-photo-zh.png")
    await agent.keyboard.press("Escape")
    await agent.keyboard.press("Escape")
    await switch_language(agent)
    await expect(voice_draft.locator("audio")).to_have_attribute("aria-label", "Voice message")
    await agent.screenshot(path=ARTIFACTS / "media-drafts-en.png", full_page=True)

    desk = await stack.api(stack.users["supervisor"])
    order_id = (await desk.get("/api/v1/orders", q=number))["items"][0]["id"]
    await desk.post(
        f"/api/v1/orders/{order_id}/confirm", {"service_item_code": "W01", "area_code": "370202"}
    )
    await desk.client.close()
    water_desk = await stack.api(stack.users["water"])

    async def dispatched() -> bool:
        items = (await water_desk.get("/api/v1/inbox"))["items"]
        return any(i["order_id"] == order_id for i in items)

    await until(dispatched, "the order reaches the water company")
    [row] = [i for i in (await water_desk.get("/api/v1/inbox"))["items"] if i["number"] == number]
    proof = aiohttp.FormData()
    proof.add_field("file", street_photo(160, 120), filename="site.png", content_type="image/png")
    async with water_desk.client.post(
        f"/api/v1/dispatches/{row['id']}/attachments",
        data=proof,
        headers={"X-CSRF-Token": water_desk.csrf},
    ) as uploaded:
        assert uploaded.status == 201, await uploaded.text()
    await water_desk.client.close()

    water = await stack.page("water-phone", viewport={"width": 390, "height": 844})
    await water.goto(stack.base + "/")
    await water.locator("input[name=username]").fill(stack.users["water"])
    await water.locator("input[name=password]").fill(PASSWORD)
    await water.locator("[data-test=login-submit]").click()
    # At 390 px the inbox is a list of cards.
    inbox_row = water.locator("[data-test=inbox-card]", has_text=number)
    await expect(inbox_row.locator("[data-test=media-photo] img")).to_have_count(2)
    await water.screenshot(path=ARTIFACTS / "media-inbox-390-zh.png", full_page=True)
    await inbox_row.locator("[data-test=media-photo]").last.click()
    await expect(water.locator("[data-test=media-full]")).to_be_visible()
    await settled(water)
    await water.screenshot(path=ARTIFACTS / "media-inbox-photo-390-zh.png")
    await water.keyboard.press("Escape")
    await switch_language(water)
    await expect(water.locator("[data-test=inbox]")).to_contain_text("Lead")
    await water.screenshot(path=ARTIFACTS / "media-inbox-390-en.png", full_page=True)

    await agent.goto(f"{stack.base}/#/orders/{order_id}")
    await expect(agent.locator("[data-test=dispatch-reason]")).not_to_have_text("—")
    await expect(agent.locator("[data-test=media-photo] img")).to_have_count(2)
    await agent.screenshot(path=ARTIFACTS / "media-order-en.png", full_page=True)
    await switch_language(agent)
    await expect(agent.locator(".order-page")).to_contain_text("照片与录音")
    await agent.screenshot(path=ARTIFACTS / "media-order-zh.png", full_page=True)


async def test_the_entry_form_offers_duplicates_and_registers_straight_into_one(
    consoles: Stack,
) -> None:
    stack = consoles
    desk = await stack.api(stack.users["agent"])
    try:
        first = await desk.post(
            "/api/v1/orders",
            {
                "hotline_code": "96111",
                "service_item_code": "W05",
                "address": "江西路 12 号 2 单元",
                "description": "楼道水管爆了",
            },
            status=201,
        )
    finally:
        await desk.client.close()
    agent = await stack.console("agent")
    await agent.locator("[data-test=description]").fill("江西路12号楼道水管漏水")
    await agent.locator("[data-test=suggestions] [data-code=W05]").click()
    await agent.locator("[data-test=address]").fill("江西路12号2单元")
    offered = agent.locator("[data-test=duplicate-candidates]")
    row = offered.locator(f"[data-order='{first['id']}']")
    await expect(row).to_contain_text(first["number"])
    await expect(row).to_contain_text("地址相似")
    await offered.scroll_into_view_if_needed()
    await agent.screenshot(path=ARTIFACTS / "agent-duplicate-candidates-zh.png")
    await agent.locator(".topbar [data-test=lang]").click()
    await expect(row).to_contain_text("alike")
    await expect(offered).to_contain_text("Register as its duplicate")
    await agent.screenshot(path=ARTIFACTS / "agent-duplicate-candidates-en.png")

    async with agent.expect_response(
        lambda r: r.url.endswith("/api/v1/orders") and r.request.method == "POST"
    ) as info:
        await row.locator("[data-test=register-into]").click()
    response = await info.value
    assert response.status == 201, await response.text()
    order = await response.json()
    assert order["status"] == "merged" and order["parent_id"] == first["id"]
    await expect(offered).to_have_count(0)  # the form starts again


async def test_hard_cases_are_flagged_and_listed_apart_on_the_board(consoles: Stack) -> None:
    """办不成事: the agent flags one on the entry form and the citizen on the public form
    (each saying where they already tried); the board lists it on its own tab with its
    figures, not in the coordination queue, and the coordination dialog shows where the
    citizen tried, in Chinese and in English."""
    stack = consoles
    tried = "3 月 1 日起三次到物业和区供水所反映，均称不归其管"
    citizen = await stack.page("citizen", viewport={"width": 390, "height": 844})
    await citizen.goto(stack.base + "/report")
    await citizen.locator("textarea[name=description]").fill("小区二次供水水压太低，高层无水")
    await citizen.locator("input[name=address]").fill("延安路12号")
    await citizen.locator("input[name=phone]").fill(mobile())
    await citizen.locator("#hard-case").check()
    await citizen.locator("textarea[name=tried_elsewhere]").fill(tried)
    await citizen.screenshot(
        path=ARTIFACTS / "public-form-hard-case.png", full_page=True, animations="disabled"
    )
    await citizen.locator("#send").click()
    await expect(citizen.locator("#number")).to_be_visible()

    agent = await stack.console("agent")
    await agent.locator("[data-test=description]").fill("小区内部管网漏水，多处反映无果")
    await expect(agent.locator("[data-test=suggestions] [data-code]").first).to_be_visible()
    await agent.keyboard.press("Alt+1")
    await agent.locator("[data-test=hard-case-toggle]").click()
    await expect(agent.locator("[data-test=resolve-toggle] input")).to_be_disabled()
    await agent.locator("[data-test=tried-elsewhere]").fill(tried)
    await agent.screenshot(
        path=ARTIFACTS / "agent-hard-case.png", full_page=True, animations="disabled"
    )
    async with agent.expect_response(
        lambda r: r.url.endswith("/api/v1/orders") and r.request.method == "POST"
    ) as info:
        await agent.locator("[data-test=register]").click()
    response = await info.value
    assert response.status == 201, await response.text()
    order = await response.json()
    assert order["hard_case"] is True and order["tried_elsewhere"] == tried

    page = await stack.page("supervisor-board", viewport={"width": 1440, "height": 900})
    await page.goto(stack.base + "/")
    await page.locator("input[name=username]").fill(stack.users["supervisor"])
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("[data-test=login-submit]").click()
    await page.locator("#tab-hardCases").click()
    # Routing takes it to coordination; the board reloads on the live event.
    row = page.locator(".el-tab-pane:visible [data-test=coordination] tr", has_text=order["number"])
    await expect(row.locator("[data-test=coordinate]")).to_be_visible(timeout=10000)
    await expect(row).to_contain_text(tried)
    await expect(
        page.locator("[data-test=hard-case-figures] [data-figure=open] b")
    ).not_to_have_text("0")
    queue = page.locator("#pane-coordination [data-test=coordination]")
    await expect(queue).not_to_contain_text(order["number"])
    await page.screenshot(path=ARTIFACTS / "board-hard-cases-zh.png", animations="disabled")
    await row.locator("[data-test=coordinate]").click()
    await expect(page.locator("[data-test=hard-case-tried]")).to_contain_text(tried)
    await page.screenshot(path=ARTIFACTS / "board-hard-case-dialog-zh.png", animations="disabled")
    await page.keyboard.press("Escape")

    await page.locator(".topbar [data-test=lang]").click()
    await expect(page.locator("#tab-hardCases")).to_contain_text("Hard cases")
    await expect(page.locator("[data-test=hard-case-figures]")).to_contain_text("on time")
    await page.screenshot(path=ARTIFACTS / "board-hard-cases-en.png", animations="disabled")
    await row.locator("[data-test=coordinate]").click()
    await expect(page.locator("[data-test=hard-case-tried]")).to_contain_text("Already tried")
    await page.screenshot(path=ARTIFACTS / "board-hard-case-dialog-en.png", animations="disabled")
    await agent.locator(".topbar [data-test=lang]").click()
    await agent.locator("[data-test=hard-case-toggle]").click()
    await expect(agent.locator("[data-test=hard-case-toggle]")).to_contain_text("Hard case")
    await agent.locator("[data-test=tried-elsewhere]").fill("The district water office, twice")
    await agent.screenshot(
        path=ARTIFACTS / "agent-hard-case-en.png", full_page=True, animations="disabled"
    )


SHOTS = Path(os.environ.get("HOTLINE_SHOTS_DIR", ARTIFACTS))


async def test_an_agent_edits_the_callers_profile_from_the_screen_pop(
    consoles: Stack, settings: Settings
) -> None:
    stack = consoles
    agent = await stack.console("agent")
    phone = mobile()
    async with stack.pool.acquire() as conn:  # the caller rang the energy hotline before
        _, admin = await make_user(conn, "admin")
        earlier = await register_order(
            conn,
            admin,
            settings,
            dt.datetime.now(dt.UTC),
            hotline="96556",
            service_item="G04",
            caller_phone=phone,
        )
    await stack.queue_caller("96111", phone)
    await agent.keyboard.press("F2")
    await expect(agent.locator("[data-test=caller-phone]")).to_have_text(phone)
    # The agent of 96111 sees that the order exists, not what it is about.
    other = agent.locator("[data-test=other-hotline-order]")
    await expect(other).to_contain_text(earlier["number"])
    await expect(other).to_contain_text("96556 热线工单")
    await expect(agent.locator("[data-test=screen-pop]")).not_to_contain_text(
        earlier["description"]
    )
    await agent.locator("[data-test=screen-pop]").screenshot(path=SHOTS / "screen-pop-zh.png")
    await agent.locator("[data-test=edit-profile]").click()
    dialog = agent.locator("[data-test=caller-profile]")
    await dialog.locator("[data-test=profile-name]").fill("李娜")
    await dialog.locator("[data-test=profile-key-account]").click()
    await dialog.locator("[data-test=profile-notes]").fill("听力不好，请大声说话")
    await dialog.locator("[data-test=profile-representative]").fill(stack.users["water"])
    await dialog.locator("[data-test=profile-language]").click()
    await agent.get_by_role("option", name="韩语").click()
    await dialog.locator("[data-test=profile-save]").click()
    await expect(agent.locator("[data-test=caller-notes]")).to_have_text("听力不好，请大声说话")
    await expect(agent.locator("[data-test=screen-pop]")).to_contain_text("重点客户")
    await expect(agent.locator("[data-test=caller-representative]")).to_have_text(
        "客户代表：刘洋（青岛水务集团）"
    )

    await agent.locator("[data-test=edit-profile]").click()
    history = dialog.locator("[data-test=profile-history]")
    await expect(history).to_contain_text("重点客户")
    await expect(history).to_contain_text("否 → 是")
    await expect(history).to_contain_text("王芳")
    await settled(agent)
    await agent.screenshot(path=SHOTS / "caller-profile-zh.png")
    await agent.set_viewport_size({"width": 390, "height": 844})
    await agent.screenshot(path=SHOTS / "caller-profile-zh-390.png")
    await agent.set_viewport_size({"width": 1600, "height": 1000})
    await agent.keyboard.press("Escape")
    await agent.locator(".topbar [data-test=lang]").click()
    await agent.locator("[data-test=edit-profile]").click()
    await expect(history).to_contain_text("Key account")
    await expect(history).to_contain_text("No → Yes")
    await expect(other).to_contain_text("an order of hotline 96556")
    await settled(agent)
    await agent.screenshot(path=SHOTS / "caller-profile-en.png")
