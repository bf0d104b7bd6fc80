"""紧急 suggested from the citizen's words (issue 16, item 5): the rules of
config/suggest/urgency.json on real phrasings that must and must not fire, clauses,
the rules file's errors, the suggest API's ``urgency`` in both languages, and the entry
form's notice whose button sets the priority, in a real browser."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import ConsoleMessage, Page, async_playwright, expect

from hotline.suggest.urgency import RULES, RULES_FILE, RulesError, clauses, load_rules
from hotline.suggest.urgency import suggest_urgency as suggest
from tests.browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, CSP_WATCH
from tests.factories import PASSWORD, make_user
from tests.routing_support import Desk, open_desks

# The radio button chosen (Element Plus).
ACTIVE = re.compile(r"\bis-active\b")
RAW = json.loads(RULES_FILE.read_text("utf-8"))
BY_CODE = {rule.code: rule for rule in RULES.rules}


def fired(text: str, language: str = "zh-CN") -> dict[str, str]:
    """Rule code → the words it fired on."""
    found = suggest(text, language, RULES)
    if found is None:
        return {}
    assert found["urgent"] is True and found["reasons"]
    return {reason["code"]: reason["matched"] for reason in found["reasons"]}


# ---------------------------------------------------------------- what fires

MUST_FIRE = [
    # gas: the smell (臭鸡蛋 is the odorant), a leak, the alarm
    ("gas_leak", "闻着有股臭鸡蛋味"),
    ("gas_leak", "煤气味儿老大了"),
    ("gas_leak", "报警器一直在叫"),
    ("gas_leak", "进门就一股天然气味道，呛得慌"),
    ("gas_leak", "厨房燃气管子呲呲的响"),
    ("gas_leak", "燃气表那块好像漏气了"),
    ("gas_leak", "不知道是不是煤气味，挺冲的"),
    ("gas_leak", "受不了这煤气味"),
    ("gas_leak", "俺家厨房跑气了你们快来看看"),
    ("gas_leak", "厨房那个报警的东西一直响"),
    ("gas_leak", "施工把燃气管子挖断了，呼呼往外冒气"),
    ("gas_leak", "俺把总阀关了，屋里那个味还是散不掉"),  # a bare smell, with the valve
    ("gas_leak", "楼外那根立管好像泄漏了"),
    # poisoning: symptoms with a gas appliance, often in another clause
    ("gas_poisoning", "家里老人头晕恶心，燃气热水器开着"),
    ("gas_poisoning", "洗澡洗着洗着头晕想吐，用的是燃气热水器"),
    ("gas_poisoning", "怀疑是煤气中毒，人已经送医院了"),
    ("gas_poisoning", "没关煤气灶，孩子说头疼"),
    # water pouring: burst mains, flats, stairs, ceilings, roads
    ("flooding", "楼上漏水顺着灯往下滴"),
    ("flooding", "路上水冒得跟喷泉似的"),
    ("flooding", "供水管道漏水，路面大量积水"),
    ("flooding", "楼下水管爆了"),
    ("flooding", "屋里跑水了"),
    ("flooding", "家里进水了，地板都泡了"),
    ("flooding", "水顺着楼梯往下流"),
    ("flooding", "天花板一直往下滴水"),
    ("flooding", "小区里水管子崩了"),
    ("flooding", "表井那一直在冒水"),
    ("flooding", "供暖管子漏了，热水淌了一楼梯"),
    ("flooding", "一下大雨就往屋里灌"),
    # no heating with someone frail at home, said in either order
    ("no_heat_vulnerable", "家里八十多的老人，暖气一点不热"),
    ("no_heat_vulnerable", "俺家宝宝才三个月，屋里才十四度"),
    ("no_heat_vulnerable", "老母亲瘫痪在床，暖气冰凉的"),
    ("no_heat_vulnerable", "到现在还没来暖，家里有孕妇"),
    ("no_heat_vulnerable", "老年人独居，屋里才12℃"),
    ("no_heat_vulnerable", "暧气一点都不热，老伴有病"),  # 暧: a common typo
    ("no_heat_vulnerable", "屋里冷得伸不出手，孩子都冻感冒了"),
    # no water beyond one flat
    ("area_no_water", "整栋楼都没水了"),
    ("area_no_water", "小区一片都停水了"),
    ("area_no_water", "楼上楼下也都没水"),
    ("area_no_water", "整个单元从早上就停水"),
    ("area_no_water", "我们这一片从中午断水到现在"),
    ("area_no_water", "高层住户从中午起无水"),
    ("area_no_water", "五楼以上都上不去水"),
    # sewage into homes
    ("sewage_into_home", "马桶往上冒脏水"),
    ("sewage_into_home", "地漏返水，屋里全是臭味"),
    ("sewage_into_home", "下水道污水倒灌进一楼住户家"),
    # danger to life
    ("danger_to_life", "水漫到电箱了有点漏电"),
    ("danger_to_life", "车都陷进去了"),
    ("danger_to_life", "井盖没了，小孩放学都从这走"),
    ("danger_to_life", "路面塌陷了一个坑"),
    ("danger_to_life", "路口井盖子松动了"),
    ("danger_to_life", "这样太危险了，早晚出人命"),
]


@pytest.mark.parametrize(("code", "text"), MUST_FIRE)
def test_real_phrasings_fire_their_rule(code: str, text: str) -> None:
    found = fired(text)
    assert code in found, found
    assert found[code].split("…")[0] in text  # the words the citizen said


MUST_NOT_FIRE = [
    # negations and hedges in the clause that names it
    "没有燃气味",
    "没闻到味",
    "没闻到煤气味",
    "不是漏气，就是打不着火",
    "不是漏气就是打不着火",
    "报警器没响",
    "报警器一直不响，是不是坏了",
    "热水器打不着火",
    "暖气片漏气",
    "万一漏气了找谁",
    "如果闻到燃气味该怎么办",
    "应该不会有危险",
    "地漏没有返水，就是下得慢",
    "人没有头晕，就是想问问",
    "老人头晕，家里没有燃气热水器",
    # past events, already repaired
    "上次漏气已经修好了，想问问安检",
    "去年漏过一回气",
    "楼上漏水已经修好了",
    # one tap, one flat: not urgent
    "厨房水龙头不出水",
    "从昨天晚上开始家里水龙头一点水都没有",
    "就我家没水，邻居家都有水",
    "家里没水了",
    "小区贴了通知明天停水",
    # cold without anyone frail, or not cold at all
    "供暖以后屋里还是冰凉的",
    "家里暖气不热，室温只有十四度",
    "家里二十度，老人说还行",
    # everyday business
    "新房子想开通天然气，需要带什么材料",
    "我家水表不准，这个月水费太高",
    "想问一下燃气费怎么交",
    "下水道堵了",
    "下水道一股臭味，厨房地漏也有味",
    "水里有股漂白粉味儿特别重",
    "家里一股怪味，不知道哪来的",
    "报警电话打不通",
    "我反映过下水的问题",
    "回访电话说我满意，我根本没接到过电话",
    "早上起来做饭灶打不着，问了邻居也都没有",
    "家里暖气进水的那个阀门拧不开",
    # thanks for an emergency already handled, wherever the thanks stand
    "俺家燃气漏了，你们的人十几分钟就到了，真是救了俺一家",
    "半夜水管崩了，打了电话一个多小时就来人了，必须给他们点个赞",
]


@pytest.mark.parametrize("text", MUST_NOT_FIRE)
def test_negations_hedges_past_events_and_one_tap_do_not_fire(text: str) -> None:
    assert suggest(text, "zh-CN", RULES) is None, fired(text)


# ---------------------------------------------------------------- clauses


def test_clauses_are_cut_at_punctuation_spaces_and_turns() -> None:
    assert clauses("没有燃气味，但是报警器一直在叫。") == ["没有燃气味", "报警器一直在叫"]
    assert clauses("不是漏气就是打不着火") == ["不是漏气", "打不着火"]
    assert clauses("  楼上漏水 顺着灯往下滴!!") == ["楼上漏水", "顺着灯往下滴"]
    assert clauses("") == []


def test_a_negation_cancels_its_own_clause_only() -> None:
    assert fired("没有燃气味，但是报警器一直在叫") == {"gas_leak": "报警器一直在叫"}
    assert fired("报警器没响，煤气味特别冲") == {"gas_leak": "煤气味特别冲"}
    assert fired("上次漏气修好了，这回又闻到一股臭鸡蛋味") == {"gas_leak": "臭鸡蛋味"}
    assert fired("报警器没响") == {}


def test_a_pattern_said_apart_needs_its_companion() -> None:
    assert fired("家里老人头晕恶心") == {}
    assert fired("燃气热水器开着") == {}
    assert fired("家里老人头晕恶心，燃气热水器开着") == {"gas_poisoning": "头晕恶心…燃气热水器"}
    assert fired("家里八十多的老人") == {}
    assert fired("家里八十多的老人，暖气一点不热") == {
        "no_heat_vulnerable": "暖气一点不热…八十多的老人"
    }


def test_every_rule_that_fired_gives_its_reason_in_the_requests_language() -> None:
    text = "煤气味儿老大了，楼道里也全是水"
    chinese = suggest(text, "zh-CN", RULES)
    english = suggest(text, "en", RULES)
    assert chinese is not None and english is not None
    assert chinese["reasons"] == [
        {"code": "gas_leak", "text": "疑似燃气泄漏", "matched": "煤气味儿老大了"},
        {"code": "flooding", "text": "爆管或跑水", "matched": "楼道里也全是水"},
    ]
    assert [r["text"] for r in english["reasons"]] == [
        "Suspected gas leak",
        "Burst pipe or flooding",
    ]
    assert [r["matched"] for r in english["reasons"]] == ["煤气味儿老大了", "楼道里也全是水"]


# ---------------------------------------------------------------- the rules file


def test_every_pattern_and_negation_matches_its_example() -> None:
    """The file's examples are its documentation: each must still be true."""
    for negation in RAW["common_negations"]:
        assert any(n.search(negation["example"]) for n in RULES.rules[0].negations), negation
    for thanks, regex in zip(RAW["thanks"], RULES.thanks, strict=True):
        assert regex.search(thanks["example"]), thanks
    for raw in RAW["rules"]:
        rule = BY_CODE[raw["code"]]
        assert raw["reason"]["zh-CN"] and raw["reason"]["en"] and raw["about"]
        for entry, pattern in zip(raw["patterns"], rule.patterns, strict=True):
            assert pattern.regex.search(entry["example"]), (rule.code, entry)
            for other, regex in zip(entry.get("with", ()), pattern.together, strict=True):
                assert regex.search(other["example"]), (rule.code, other)
        for entry in raw["negations"]:
            assert any(n.search(entry["example"]) for n in rule.negations), (rule.code, entry)


def write_rules(tmp_path: Path, rule: dict[str, Any], **changes: Any) -> Path:
    data = {
        "words": {"GAS": "(?:燃气|煤气)"},
        "thanks": [{"re": "感谢", "example": "感谢"}],
        "common_negations": [],
        "rules": [rule],
        **changes,
    }
    path = tmp_path / "urgency.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def a_rule(code: str = "gas_leak", pattern: str = "{GAS}.{0,3}味") -> dict[str, Any]:
    return {
        "code": code,
        "reason": {"zh-CN": "疑似燃气泄漏", "en": "Suspected gas leak"},
        "patterns": [{"re": pattern, "example": "煤气味"}],
        "negations": [],
    }


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        (a_rule("broken", "{GAS}.{0,3}(味"), r"'broken'.*'\{GAS\}\.\{0,3\}\(味' does not compile"),
        (a_rule("unknown", "{SMELL}味"), r"'unknown'.*unknown word \{SMELL\}"),
        (a_rule("empty", "(?:煤气)?"), r"'empty'.*matches empty text"),
        (
            {**a_rule("mute"), "reason": {"zh-CN": "疑似燃气泄漏"}},
            r"'mute'.*needs 'zh-CN' and 'en'",
        ),
        ({**a_rule("idle"), "patterns": []}, r"'idle'.*no patterns"),
    ],
)
def test_a_rule_that_does_not_load_is_named(
    tmp_path: Path, rule: dict[str, Any], says: str
) -> None:
    with pytest.raises(RulesError, match=says):
        load_rules(write_rules(tmp_path, rule))


def test_a_rule_twice_bad_thanks_and_an_unreadable_file_are_refused(tmp_path: Path) -> None:
    path = write_rules(tmp_path, a_rule(), thanks=[{"re": "(感谢", "example": "感谢"}])
    with pytest.raises(RulesError, match=r"thanks: pattern '\(感谢' does not compile"):
        load_rules(path)
    path = write_rules(tmp_path, a_rule(), rules=[a_rule(), a_rule()])
    with pytest.raises(RulesError, match="'gas_leak' appears twice"):
        load_rules(path)
    path.write_text("{", "utf-8")
    with pytest.raises(RulesError, match="cannot read the urgency rules"):
        load_rules(path)
    rules = load_rules(write_rules(tmp_path, a_rule()))
    assert suggest("煤气味很大", "en", rules) == {
        "urgent": True,
        "reasons": [{"code": "gas_leak", "text": "Suspected gas leak", "matched": "煤气味"}],
    }
    assert suggest("煤气味很大，感谢你们来得快", "en", rules) is None


# ---------------------------------------------------------------- the API


@pytest.fixture
async def agent(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[Desk]:
    async with open_desks(server, pool, "agent") as opened:
        yield opened["agent"]


async def suggest_api(agent: Desk, text: str, language: str) -> Any:
    response = await agent.client.get(
        "/api/v1/service-items/suggest",
        params={"text": text},
        headers={"Accept-Language": language},
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def test_the_suggest_api_answers_urgency_in_the_requests_language(agent: Desk) -> None:
    text = "家里老人头晕恶心，燃气热水器开着，煤气味儿老大了"
    chinese = await suggest_api(agent, text, "zh-CN")
    assert chinese["items"]  # the item suggestion is still there
    assert chinese["urgency"] == {
        "urgent": True,
        "reasons": [
            {"code": "gas_leak", "text": "疑似燃气泄漏", "matched": "煤气味儿老大了"},
            {
                "code": "gas_poisoning",
                "text": "疑似燃气（一氧化碳）中毒",
                "matched": "头晕恶心…燃气热水器",
            },
        ],
    }
    english = await suggest_api(agent, text, "en")
    assert [r["text"] for r in english["urgency"]["reasons"]] == [
        "Suspected gas leak",
        "Suspected gas (carbon monoxide) poisoning",
    ]
    assert (await suggest_api(agent, "没有燃气味，就是打不着火", "zh-CN"))["urgency"] is None
    assert (await suggest_api(agent, "我家水表不准", "en"))["urgency"] is None


# ---------------------------------------------------------------- the console


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
async def test_the_entry_form_suggests_urgent_and_one_click_sets_it(
    server: TestServer, pool: asyncpg.Pool
) -> None:
    """The notice names the reason and the words; its button sets 紧急; it goes when the
    words no longer match; nothing is set without the agent."""
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "agent", hotline_code="96556")
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context(viewport={"width": 1600, "height": 1000})
            await context.add_init_script(CSP_WATCH)
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda m: errors.append(m.text) if unexpected(m) else None)
            await sign_in(page, str(server.make_url("/")), username)
            await check_the_notice(page)
        finally:
            await browser.close()
    assert errors == []


def unexpected(message: ConsoleMessage) -> bool:
    """An error the page logged that the test fails on. Not a 4xx (the API's to judge) and
    not the live socket's: the shared test server's base URL is not this page's origin, so
    it refuses the socket, which the entry form does not need."""
    return message.type == "error" and not message.text.startswith(
        ("Failed to load resource", "WebSocket connection to")
    )


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(base)
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("[data-test=login-submit]").click()
    await expect(page.locator("[data-test=description]")).to_be_visible(timeout=10000)


async def check_the_notice(page: Page) -> None:
    description = page.locator("[data-test=description]")
    hint = page.locator("[data-test=urgency-hint]")
    urgent = page.locator("[data-test=priority] .el-radio-button").nth(1)

    await description.fill("热水器打不着火，没有燃气味")
    await expect(
        page.locator("[data-test=suggestions] [data-test=suggestion]").first
    ).to_be_visible()
    await expect(hint).to_have_count(0)

    await description.fill("俺家厨房煤气味儿老大了，报警器一直在叫")
    await expect(hint).to_have_text("建议紧急：疑似燃气泄漏（“煤气味儿老大了”）设为紧急")
    await expect(urgent).not_to_have_class(ACTIVE)  # never set silently
    ARTIFACTS.mkdir(exist_ok=True)
    await page.locator(".entry").screenshot(path=ARTIFACTS / "agent-urgency-hint-zh.png")

    await description.fill("热水器打不着火")  # the words no longer match: the notice goes
    await expect(hint).to_have_count(0)
    await description.fill("煤气味儿老大了")
    await page.locator("[data-test=set-urgent]").click()
    await expect(urgent).to_have_class(ACTIVE)
    await expect(hint).to_have_count(0)  # urgent already chosen: nothing to suggest
