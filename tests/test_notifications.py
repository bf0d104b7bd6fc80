"""Status notifications (issue 19, item 2): an SMS to the caller when the order is
dispatched, completed and before the callback, sent through the outbound queue and
Twilio's real client (to testkit's fake REST API), each one in the order's history;
quiet hours, the per-order cap, repeated deliveries, the settings' API."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.settings import Settings
from integrations.notifications import service
from integrations.notifications.settings import NotificationConfig, allowed_at
from integrations.telephony import opt_out
from testkit.twilio import FakeTwilioRest, sid
from tests.callback_support import completed_order, sign_and_complete
from tests.factories import Clock
from tests.routing_support import Desk, desk, enterprise_ids, open_desks, settle
from tests.test_twilio_intake import Twilio, sms_params, twilio  # noqa: F401 (the fixture)
from tests.waiting import until, waiting_on_a_lock
from wiring.jobs import job_context

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Always outside the quiet hours, whatever hour the tests run at.
NEVER_QUIET = {"quiet_start": "00:00", "quiet_end": "00:00"}


def mobile() -> str:
    return f"+86137{random.randrange(10**8):08d}"


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "water") as opened:
        opened["admin"] = await desk(str(server.make_url("/")), pool, "admin")
        try:
            yield opened
        finally:
            await opened["admin"].client.close()


async def call(
    who: Desk, method: str, path: str, body: dict[str, Any] | None = None, status: int = 200
) -> Any:
    response = await who.client.request(
        method, path, json=body, headers={"X-CSRF-Token": who.csrf, "Accept-Language": "en"}
    )
    text = await response.text()
    assert response.status == status, f"{method} {path}: {response.status} {text}"
    return await response.json() if text else None


@pytest.fixture
async def configure(desks: dict[str, Desk]) -> AsyncIterator[Any]:
    """Sets 96111's notifications (its default, or one channel's) through the API; the
    tests share one database, so every setting made is removed afterwards."""
    made: set[str] = set()

    async def put(channel: str = "default", **config: Any) -> Any:
        made.add(channel)
        body = {"enabled": True, **NEVER_QUIET, **config}
        return await call(
            desks["admin"], "PUT", f"/api/v1/notification-settings/96111/{channel}", body
        )

    yield put
    for channel in made:
        await call(
            desks["admin"], "DELETE", f"/api/v1/notification-settings/96111/{channel}", status=204
        )


def texts_to(rest: FakeTwilioRest, phone: str) -> list[str]:
    return [m["Body"] for m in rest.messages if m["To"] == phone]


async def notices(pool: asyncpg.Pool, order_id: int) -> list[tuple[str, dict[str, Any]]]:
    rows = await pool.fetch(
        "SELECT type, data FROM order_events WHERE order_id = $1 AND type LIKE 'notify.%'"
        " ORDER BY seq",
        order_id,
    )
    return [(r["type"], r["data"]) for r in rows]


async def test_dispatch_completion_and_callback_each_send_one_sms_through_twilio(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    fake_twilio: FakeTwilioRest,
    configure: Any,
) -> None:
    await configure(callback_notice_minutes=90)
    phone = mobile()

    async def run() -> None:
        await settle(pool, settings)

    order_id, _ = await completed_order(desks, "370283003", phone, settle=run)
    await run()
    order = await desks["agent"].get(f"/api/v1/orders/{order_id}")
    dispatched, completed = texts_to(fake_twilio, phone)
    assert order["number"] in dispatched and "青岛水务" in dispatched and "转交" in dispatched
    assert order["number"] in completed and "办结" in completed
    assert all(m["From"] for m in fake_twilio.messages if m["To"] == phone)

    # The notice before the callback is queued for 90 minutes before its first attempt.
    first_attempt = await pool.fetchval(
        "SELECT a.due_at FROM callback_attempts a JOIN callback_surveys s ON s.id = a.survey_id"
        " WHERE s.order_id = $1",
        order_id,
    )
    before = await pool.fetchrow(
        "SELECT * FROM outbound_messages WHERE effect_key = $1",
        f"notify:before_callback:{order_id}:0",
    )
    ahead = first_attempt - dt.timedelta(minutes=90)
    if ahead > before["created_at"]:
        assert before["due_at"] == ahead
    else:  # the callback comes sooner than that: the notice goes at once
        assert before["due_at"] <= before["created_at"]
    assert before["to_phone"] == phone and order["number"] in before["body"]
    local = first_attempt.astimezone(SHANGHAI)
    assert f"{local.month}月{local.day}日{local.hour}:{local.minute:02d}" in before["body"]
    # The relay sends it once it is due (made due here rather than waited for).
    await pool.execute("UPDATE outbound_messages SET due_at = now() WHERE id = $1", before["id"])
    await run()
    assert texts_to(fake_twilio, phone)[2] == before["body"]

    # Each message is in the order's history: decided, then sent by the provider.
    history = await notices(pool, order_id)
    kinds = [(t, d["notice"]) for t, d in history]
    for kind in ("dispatched", "completed"):
        assert ("notify.queued", kind) in kinds and ("notify.sent", kind) in kinds
    assert ("notify.sent", "before_callback") in kinds
    assert {t for t, _ in kinds} <= {"notify.queued", "notify.deferred", "notify.sent"}
    queued = next(d for t, d in history if d["notice"] == "dispatched")
    assert queued["body"] == dispatched and queued["to"].endswith(phone[-4:])
    assert phone not in str(history)  # the number is masked in the history
    assert len(texts_to(fake_twilio, phone)) == 3


async def completed_in_the_past(
    desks: dict[str, Desk], pool: asyncpg.Pool, area: str, phone: str
) -> tuple[int, dict[str, Any]]:
    """An order completed by the unit whose ``order.completed`` has not been handled yet;
    the order and the outbox row's payload."""
    water = (await enterprise_ids(desks["supervisor"]))["qd-water"]
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "W01", "area": area, "candidates": [water]},
        status=201,
    )
    order = await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W01",
            "area": area,
            "description": "水压太低",
            "address": "测试路 9 号",
            "caller_phone": phone,
        },
        status=201,
    )
    return order["id"], order


async def test_quiet_hours_defer_to_their_end_and_a_repeated_delivery_sends_once(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    clock: Clock,
    fake_twilio: FakeTwilioRest,
    configure: Any,
) -> None:
    await configure(dispatched=False, before_callback=False, quiet_start="21:00", quiet_end="08:00")
    phone = mobile()
    order_id, order = await completed_in_the_past(desks, pool, "370283004", phone)
    await settle(pool, settings)
    await sign_and_complete(desks["water"], order_id)
    payload = await pool.fetchval(
        "SELECT payload FROM outbox WHERE key = $1", f"order.completed:{order_id}:0"
    )
    # The completion is handled at 23:10 local time two days ago: the SMS waits for 08:00.
    day = (dt.datetime.now(SHANGHAI) - dt.timedelta(days=2)).date()
    clock.set(dt.datetime.combine(day, dt.time(23, 10), tzinfo=SHANGHAI))
    ctx = job_context(settings, clock=clock)
    async with pool.acquire() as conn, conn.transaction():
        await service.on_order_completed(conn, payload, ctx)
    morning = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8, 0), tzinfo=SHANGHAI)
    message = await pool.fetchrow(
        "SELECT * FROM outbound_messages WHERE effect_key = $1", f"notify:completed:{order_id}:0"
    )
    assert message["due_at"] == morning and message["state"] == "pending"
    ((kind, data),) = await notices(pool, order_id)
    assert kind == "notify.deferred"
    assert dt.datetime.fromisoformat(data["send_at"]) == morning
    clock.reset()

    # The outbox delivers order.completed again (its own run): nothing more is decided;
    # the deferred message, due since that morning, goes once.
    await settle(pool, settings)
    assert texts_to(fake_twilio, phone) == [message["body"]]
    assert [t for t, _ in await notices(pool, order_id)] == ["notify.deferred", "notify.sent"]
    async with pool.acquire() as conn, conn.transaction():
        await service.on_order_completed(conn, payload, ctx)
    assert len(await notices(pool, order_id)) == 2
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM outbound_messages WHERE effect_key LIKE $1",
            f"notify:%:{order_id}:%",
        )
        == 1
    )
    assert order["number"] in message["body"]


def test_quiet_hours_over_midnight_and_within_a_day() -> None:
    night = NotificationConfig(quiet_start=dt.time(21), quiet_end=dt.time(8))
    noon = NotificationConfig(quiet_start=dt.time(12), quiet_end=dt.time(13, 30))
    at = dt.datetime(2026, 12, 7, 22, 30, tzinfo=SHANGHAI)
    assert allowed_at(night, at, SHANGHAI) == dt.datetime(2026, 12, 8, 8, 0, tzinfo=SHANGHAI)
    early = dt.datetime(2026, 12, 8, 6, 0, tzinfo=SHANGHAI)
    assert allowed_at(night, early, SHANGHAI) == dt.datetime(2026, 12, 8, 8, 0, tzinfo=SHANGHAI)
    day = dt.datetime(2026, 12, 8, 8, 0, tzinfo=SHANGHAI)
    assert allowed_at(night, day, SHANGHAI) == day
    lunch = dt.datetime(2026, 12, 8, 12, 5, tzinfo=SHANGHAI)
    assert allowed_at(noon, lunch, SHANGHAI) == dt.datetime(2026, 12, 8, 13, 30, tzinfo=SHANGHAI)
    assert allowed_at(noon, early, SHANGHAI) == early


async def test_the_cap_holds_when_two_notices_of_one_order_are_decided_at_once(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, configure: Any
) -> None:
    await configure(dispatched=False, completed=False, before_callback=False)
    order_id, _ = await completed_in_the_past(desks, pool, "370283005", mobile())
    await settle(pool, settings)
    await configure(max_per_order=1)
    ctx = job_context(settings)
    first = await pool.acquire()
    try:
        async with first.transaction():
            assert (
                await service.notify(
                    first, ctx, order_id=order_id, kind="dispatched", subject="cap-1"
                )
                == "queued"
            )

            async def second() -> str | None:
                async with pool.acquire() as conn, conn.transaction():
                    return await service.notify(
                        conn, ctx, order_id=order_id, kind="completed", subject="cap-2"
                    )

            # The second waits on the count the first holds until it commits, then sees it.
            task = asyncio.create_task(second())
            await until(
                lambda: waiting_on_a_lock(pool, "order_notification_counts"), "the second waits"
            )
    finally:
        await pool.release(first)
    assert await task == "skipped"
    history = await notices(pool, order_id)
    assert [(t, d["notice"], d.get("why")) for t, d in history] == [
        ("notify.queued", "dispatched", None),
        ("notify.skipped", "completed", "cap"),
    ]
    assert (
        await pool.fetchval(
            "SELECT messages FROM order_notification_counts WHERE order_id = $1", order_id
        )
        == 1
    )


async def test_a_disabled_channel_or_hotline_sends_nothing_and_a_landline_is_skipped(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    fake_twilio: FakeTwilioRest,
    configure: Any,
) -> None:
    # The hotline notifies, but not orders an agent registered (channel "agent").
    await configure()
    await configure("agent", enabled=False)
    phone = mobile()

    async def run() -> None:
        await settle(pool, settings)

    order_id, _ = await completed_order(desks, "370281005", phone, settle=run)
    await run()
    assert texts_to(fake_twilio, phone) == []
    assert await notices(pool, order_id) == []

    # Back on for agents' orders: a landline takes no SMS, and says so in the history.
    await configure("agent", dispatched=True, completed=False, before_callback=False)
    landline = "+8653288886666"
    order_id, _ = await completed_order(desks, "370281006", landline, settle=run)
    history = await notices(pool, order_id)
    assert [(t, d["why"]) for t, d in history] == [("notify.skipped", "no_mobile")]
    assert texts_to(fake_twilio, landline) == []

    # The whole hotline off (its default), whatever the channel's own said before.
    await call(desks["admin"], "DELETE", "/api/v1/notification-settings/96111/agent", status=204)
    await configure(enabled=False)
    phone = mobile()
    order_id, _ = await completed_order(desks, "370285003", phone, settle=run)
    await run()
    assert texts_to(fake_twilio, phone) == []
    assert await notices(pool, order_id) == []


async def test_the_settings_api_is_for_administrators_validates_and_records_changes(
    desks: dict[str, Desk], configure: Any
) -> None:
    admin = desks["admin"]
    listed = await call(admin, "GET", "/api/v1/notification-settings")
    defaults = {i["hotline"] for i in listed["items"] if i["channel"] == "default"}
    assert {"96111", "96556", "12319"} <= defaults
    off = next(i for i in listed["items"] if i["hotline"] == "96556")
    assert off["stored"] is False and off["config"]["enabled"] is False
    assert "{number}" in off["config"]["templates"]["dispatched"]

    for who in ("supervisor", "agent"):
        refused = await call(desks[who], "GET", "/api/v1/notification-settings", status=403)
        assert refused["error"]["code"] == "role_forbidden"
        refused = await call(
            desks[who], "PUT", "/api/v1/notification-settings/96111/default", {}, status=403
        )
        assert refused["error"]["code"] == "role_forbidden"

    path = "/api/v1/notification-settings/96111/default"
    bad: list[tuple[dict[str, Any], str]] = [
        ({"templates": {"dispatched": "工单{number}由{nobody}办理"}}, "templates.dispatched"),
        ({"templates": {"completed": "已办结"}}, "templates.completed"),
        ({"templates": {"completed": "工单{number:>9}已办结"}}, "templates.completed"),
        ({"templates": {"dispatched": "{time}工单{number}"}}, "templates.dispatched"),
        ({"templates": {"completed": "工单{number}查询{link}"}}, "body"),
        ({"quiet_start": "21:00:30"}, "quiet_start"),
        ({"max_per_order": 0}, "max_per_order"),
        ({"link_base": "ftp://example.org/track"}, "link_base"),
        ({"colour": "red"}, "colour"),
    ]
    for body, field in bad:
        answer = await call(admin, "PUT", path, body, status=422)
        assert answer["error"]["code"] == "invalid", body
        assert field in answer["error"]["fields"], (body, answer)
    unknown = await call(admin, "PUT", "/api/v1/notification-settings/99999/default", {}, 422)
    assert unknown["error"]["code"] == "unknown_hotline"
    unknown = await call(admin, "PUT", "/api/v1/notification-settings/96111/fax", {}, 422)
    assert unknown["error"]["code"] == "unknown_channel"

    linked = {
        "link_base": "https://hotline.example.cn/track",
        "templates": {"completed": "工单{number}已办结，进度查询{link}"},
    }
    saved = await configure(**linked)
    assert saved["config"]["link_base"] == linked["link_base"]
    changes = await call(admin, "GET", "/api/v1/notification-settings/changes?hotline=96111")
    latest = changes["items"][0]
    assert latest["old_config"] is None and latest["new_config"]["enabled"] is True
    assert latest["actor"].endswith("(admin)") and latest["changed_at"]
    config = NotificationConfig.model_validate(latest["new_config"])
    assert config.link("96111-20261206-0001") == (
        "https://hotline.example.cn/track?number=96111-20261206-0001"
    )


async def test_a_caller_who_replies_td_gets_no_notices_until_they_reply_subscribe(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    fake_twilio: FakeTwilioRest,
    configure: Any,
    twilio: Twilio,  # noqa: F811
) -> None:
    await configure()
    phone = mobile()

    async def run() -> None:
        await settle(pool, settings)

    async def reply(body: str) -> str:
        return await twilio.post("/twilio/sms", sms_params(sid("SM"), phone, "96111", body))

    drafts = "SELECT count(*) FROM work_orders WHERE caller_phone = $1 AND channel = 'sms'"
    stopped = "SELECT count(*) FROM sms_opt_outs WHERE phone = $1"
    answer = await reply(" td。")
    assert opt_out.OPTED_OUT in answer
    assert await reply("退订") == answer  # again: nothing more, the same answer
    assert await pool.fetchval(stopped, phone) == 1
    assert await pool.fetchval(drafts, phone) == 0  # not a report

    order_id, _ = await completed_order(desks, "370215004", phone, settle=run)
    await run()
    history = await notices(pool, order_id)
    assert history and {(t, d["why"]) for t, d in history} == {("notify.skipped", "opted_out")}
    # Only the callback survey the hotline owes may text them: no notice.
    assert [b for b in texts_to(fake_twilio, phone) if "回访】" not in b] == []

    assert opt_out.OPTED_IN in await reply("订阅")
    assert await pool.fetchval(stopped, phone) == 0
    order_id, _ = await completed_order(desks, "370215005", phone, settle=run)
    await run()
    assert ("notify.queued", None) in {(t, d.get("why")) for t, d in await notices(pool, order_id)}
    assert await pool.fetchval(drafts, phone) == 0


@pytest.mark.parametrize(
    ("body", "stop"),
    [("TD", True), ("td", True), ("R", True), ("退订！", True), ("订阅", False), ("START", False)],
)
def test_opt_out_words_are_recognised(body: str, stop: bool) -> None:
    assert opt_out.parse(body) is stop


@pytest.mark.parametrize("body", ["我要退订短信但是水管还在漏", "TDS", "", "查询", "1"])
def test_reports_and_answers_are_no_opt_out(body: str) -> None:
    assert opt_out.parse(body) is None
