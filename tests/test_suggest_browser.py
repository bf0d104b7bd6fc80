"""The service-item suggestions in a real browser (issue 16): the entry form's panel
before and after a model is trained, the suggestion the registration records, and the
supervisors' page of model versions with its retrain button.

The stack is browser_support's (its own database: the model trained here must not
change what that module's tests are suggested). Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from hotline.settings import Settings
from hotline.suggest.runs import do_request_training
from hotline.suggest.training import run_training
from testkit.twilio import sid
from tests.browser_support import (
    ARTIFACTS,
    Stack,
    needs_chromium,
    no_sideways_scroll,
    register_with_keys,
    shoot,
    switch_language,
)
from tests.suggest_support import small_corpus
from tests.test_twilio_intake import mobile, sms_params
from tests.waiting import until
from wiring.jobs import job_context

pytestmark = needs_chromium

LEAK = "楼下那个水管子裂了，水呲得满地都是，楼道里全是水"
# A training run fits two models on the corpus: seconds, more on a busy machine.
TRAINING_ATTEMPTS = 2400


async def run_to_the_end(system: Stack, settings: Settings, training_id: int) -> None:
    """Run the training job as the worker would. The stack's relay may hand the same run
    to its worker first; the job's lock and state make it run once either way."""
    small = small_corpus(settings, Path(tempfile.mkdtemp(prefix="hotline-suggest-")))
    async with system.pool.acquire() as conn:
        await run_training(conn, training_id, job_context(small))

    async def ended() -> bool:
        state = await system.pool.fetchval(
            "SELECT state FROM suggest_trainings WHERE id = $1", training_id
        )
        return state in ("done", "failed")

    await until(ended, f"training {training_id} ended", attempts=TRAINING_ATTEMPTS)


async def train(system: Stack, settings: Settings) -> int:
    """A model version from a run the test requests and runs itself; its id."""
    async with system.pool.acquire() as conn, conn.transaction():
        run = await do_request_training(conn, None, dt.datetime.now(dt.UTC))
    await run_to_the_end(system, settings, run["id"])
    model_id: int = await system.pool.fetchval(
        "SELECT model_id FROM suggest_trainings WHERE id = $1", run["id"]
    )
    assert model_id is not None
    return model_id


@pytest.fixture
async def agent(consoles: Stack) -> AsyncIterator[Page]:
    yield await consoles.console("agent")


async def test_without_a_model_the_panel_is_not_sure_and_picks_nothing_itself(
    consoles: Stack,
    agent: Page,
) -> None:
    """Before a first version the catalogue's keywords answer, always "not sure": the
    panel says so, shows no probability, and nothing is chosen until the agent chooses
    (Alt+1 is still the agent's own choice)."""
    await agent.locator("[data-test=description]").fill("宁夏路201号楼下水管漏水，水流到马路上")
    panel = agent.locator("[data-test=suggestions]")
    await expect(panel.locator("[data-code=W05]")).to_be_visible()
    await expect(panel).to_have_attribute("data-not-sure", "true")
    await expect(panel.locator("[data-test=not-sure]")).to_have_text("不确定，请选择")
    await expect(panel.locator("[data-test=suggestion-probability]")).to_have_count(0)
    await expect(panel.locator(".suggest-item.chosen")).to_have_count(0)
    await shoot(agent, ARTIFACTS / "suggest-not-sure-zh.png")
    first = panel.locator("[data-test=suggestion]").first
    await agent.locator("[data-test=description]").focus()
    await agent.keyboard.press("Alt+1")
    await expect(first).to_have_class(re.compile("chosen"))
    await expect(agent.locator("[data-test=item-select]")).to_contain_text("供水设施维修调试")
    await switch_language(agent)
    await expect(panel.locator("[data-test=not-sure]")).to_have_text("Not sure — please choose")
    await shoot(agent, ARTIFACTS / "suggest-not-sure-en.png")


async def test_the_panel_shows_probabilities_words_and_units_and_the_order_records_it(
    consoles: Stack,
    settings: Settings,
    agent: Page,
) -> None:
    """With a trained version: each suggestion's probability, the words that weighed and
    the unit routing would choose (the centre for a general item). The agent takes the
    second one instead of the first: the order records the first as the suggestion (a
    correction, for training). The draft's confirmation records it too."""
    system = consoles
    version = await train(system, settings)
    description = agent.locator("[data-test=description]")
    await description.fill(LEAK)
    panel = agent.locator("[data-test=suggestions]")
    items = panel.locator("[data-test=suggestion]")
    await expect(items).to_have_count(3)
    await expect(panel).to_have_attribute("data-not-sure", "false")
    await expect(panel).to_contain_text(f"模型 v{version}")
    first = items.first
    await expect(first).to_have_attribute("data-code", "W05")
    await expect(first.locator("[data-test=suggestion-probability]")).to_have_text(
        re.compile(r"^\d{1,3}%$")
    )
    await expect(first.locator("[data-test=suggestion-words]")).to_have_text(
        re.compile(r"^依据：\S+")
    )
    await expect(first.locator("[data-test=suggestion-unit]")).to_have_text("→ 青岛水务集团")
    await expect(first).to_have_class(re.compile("lead"))
    await expect(panel.locator(".suggest-item.chosen")).to_have_count(0)  # none taken for the agent
    await shoot(agent, ARTIFACTS / "suggest-panel-zh.png")
    await switch_language(agent)
    await expect(first.locator("[data-test=suggestion-words]")).to_have_text(re.compile(r"^Why: "))
    await expect(first.locator("[data-test=suggestion-unit]")).to_have_text("→ Qingdao Water Group")
    await shoot(agent, ARTIFACTS / "suggest-panel-en.png")
    await switch_language(agent)

    second = await items.nth(1).get_attribute("data-code")
    await description.focus()
    await agent.keyboard.press("Alt+2")
    await expect(items.nth(1)).to_have_class(re.compile("chosen"))
    order = await register_with_keys(agent)
    row = await system.pool.fetchrow(
        "SELECT service_item_code, suggested_item_code FROM work_orders WHERE id = $1",
        order["id"],
    )
    assert dict(row) == {"service_item_code": second, "suggested_item_code": "W05"}

    # A general question: no unit of a domain takes it, the centre would coordinate.
    await description.fill("想问问你们营业厅周六上不上班，几点开门")
    await expect(items.first).to_have_attribute("data-code", re.compile("^G-"))
    await expect(items.first.locator("[data-test=suggestion-unit]")).to_have_text("→ 中心协调")

    # A draft from an SMS, confirmed as suggested: the suggestion is recorded there too.
    text = "我家厨房的水龙头这两天滴滴答答关不严，想找人来修修"
    await system.twilio("/twilio/sms", sms_params(sid("SM"), mobile(), "96111", text))
    await agent.locator("[data-test=drafts] [data-test=draft-text]", has_text=text).click()
    dialog = agent.locator(".el-dialog", has=agent.locator("[data-test=draft-dialog-text]"))
    suggested = dialog.locator("[data-test=suggestion]").first
    await expect(suggested).to_be_visible()
    code = await suggested.get_attribute("data-code")
    await expect(suggested.locator("[data-test=suggestion-probability]")).to_be_visible()
    await shoot(agent, ARTIFACTS / "suggest-draft-zh.png")
    await suggested.click()
    async with agent.expect_response(lambda r: r.url.endswith("/confirm")) as info:
        await dialog.locator("[data-test=confirm-draft]").click()
    response = await info.value
    assert response.status == 200, await response.text()
    confirmed = await response.json()
    assert (
        await system.pool.fetchval(
            "SELECT suggested_item_code FROM work_orders WHERE id = $1", confirmed["id"]
        )
        == code
    )


async def test_the_panel_fits_a_phone(consoles: Stack) -> None:
    agent = await consoles.console(
        "agent", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    await agent.locator("[data-test=description]").fill(LEAK)
    panel = agent.locator("[data-test=suggestions]")
    await expect(panel.locator("[data-test=suggestion-probability]")).to_have_count(3)
    await panel.scroll_into_view_if_needed()
    box = await panel.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    await shoot(agent, ARTIFACTS / "suggest-panel-390.png")
    await no_sideways_scroll(agent)


async def test_supervisors_see_the_versions_and_retrain_one(
    consoles: Stack,
    settings: Settings,
) -> None:
    """The versions with their figures, the promoted one's figures by item, the runs;
    "retrain now" asks for a run, the page follows it until it ends and shows the new
    version."""
    system = consoles
    before = await system.pool.fetchval("SELECT max(id) FROM suggest_models")
    page = await system.console("supervisor")
    await page.locator(".nav a", has_text="事项建议").click()
    versions = page.locator("[data-test=model-versions]")
    await expect(versions.locator(f"[data-model='{before}']")).to_be_visible()
    await expect(versions).to_contain_text("已启用")
    await expect(page.locator("[data-test=per-item]")).to_contain_text("W05")
    await expect(page.locator("[data-test=trainings]")).to_contain_text("完成")

    async with page.expect_response(
        lambda r: r.url.endswith("/api/v1/suggest/trainings") and r.request.method == "POST"
    ) as info:
        await page.locator("[data-test=retrain]").click()
    response = await info.value
    assert response.status == 202, await response.text()
    run = await response.json()
    assert run["reason"] == "requested" and run["state"] in ("pending", "enqueued")
    state = page.locator("[data-test=run-state]")
    await expect(state).to_contain_text(f"训练 #{run['id']}")
    await run_to_the_end(system, settings, run["id"])
    await expect(state).to_have_attribute("data-state", "done", timeout=15000)
    made = await system.pool.fetchval(
        "SELECT model_id FROM suggest_trainings WHERE id = $1", run["id"]
    )
    assert made is not None and made > before
    await expect(versions.locator(f"[data-model='{made}']")).to_be_visible()
    await expect(state).to_contain_text(f"生成 v{made}")
    await shoot(page, ARTIFACTS / "suggest-models-zh.png", full_page=True)
    await switch_language(page)
    await expect(page.locator("[data-test=retrain]")).to_have_text("Retrain now")
    await expect(versions).to_contain_text("Promoted")
    await shoot(page, ARTIFACTS / "suggest-models-en.png", full_page=True)
