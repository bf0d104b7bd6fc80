"""One vocabulary in the API: a request field carries the name its response gives the same
thing; a renamed field's old name is accepted until the next release (deprecated in the
OpenAPI document), and giving both names is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline.orders.models import NewDraft
from hotline.orders.service import do_register_draft
from hotline.settings import Settings
from tests.factories import free_major_class, unique
from tests.routing_support import Desk, desk, enterprise_ids, open_desks, settle
from tests.test_rankings import two_weeks
from web.keys import API
from wiring.app import create_app

CLOCKS = ("sign_for", "first_contact", "resolution")
ITEM_LIMITS = {
    **{f"{clock}_{key}": clock for clock in CLOCKS for key in ("amount", "unit")},
    **{f"urgent_{clock}_hours": "urgent" for clock in CLOCKS},
}
# Each renamed field, by operation: its name in the API → its old name (or the old
# object it was a key of).
RENAMED: dict[tuple[str, str], dict[str, str]] = {
    ("post", "/api/v1/routing/rules"): {"service_item_code": "service_item", "area_code": "area"},
    ("put", "/api/v1/routing/rules/{rule_id}"): {
        "service_item_code": "service_item",
        "area_code": "area",
    },
    ("post", "/api/v1/orders"): {
        "hotline_code": "hotline",
        "service_item_code": "service_item",
        "area_code": "area",
    },
    ("post", "/api/v1/orders/resolved-on-call"): {
        "hotline_code": "hotline",
        "service_item_code": "service_item",
        "area_code": "area",
    },
    ("post", "/api/v1/orders/{order_id}/confirm"): {
        "service_item_code": "service_item",
        "area_code": "area",
    },
    ("post", "/api/v1/outages"): {"area_codes": "areas"},
    ("post", "/api/v1/orders/{order_id}/coordinate"): {"lead_enterprise_id": "lead"},
    ("post", "/api/v1/callback-campaigns"): {"hotline_code": "hotline", "sample_share": "share"},
    ("post", "/api/v1/admin/areas"): {"parent_code": "parent"},
    ("post", "/api/v1/admin/enterprises"): {"parent_code": "parent", "hotline_code": "hotline"},
    ("put", "/api/v1/admin/enterprises/{code}"): {
        "parent_code": "parent",
        "hotline_code": "hotline",
    },
    ("post", "/api/v1/admin/enterprises/{code}/windows"): {"area_code": "area"},
    ("put", "/api/v1/admin/windows/{code}"): {"area_code": "area"},
    # An item's limits were objects: {amount, unit} for each clock, the urgent hours
    # together; flat now, as the item answers them, the old objects still read.
    ("post", "/api/v1/admin/service-items"): ITEM_LIMITS,
    ("put", "/api/v1/admin/service-items/{code}"): ITEM_LIMITS,
}
# Query parameters renamed the same way.
RENAMED_QUERY: dict[tuple[str, str], dict[str, str]] = {
    ("get", "/api/v1/orders"): {
        "hotline_code": "hotline",
        "service_item_code": "service_item",
        "area_code": "area",
    },
}

# Operations whose body describes the resource they answer: every name of the body is a
# name of the answer, but for those listed (written, never answered as such).
SAME_RESOURCE: dict[tuple[str, str], set[str]] = {
    ("post", "/api/v1/routing/rules"): set(),
    ("put", "/api/v1/routing/rules/{rule_id}"): set(),
    ("post", "/api/v1/orders"): set(),
    ("post", "/api/v1/saved-filters"): set(),
    # The knowledge base's article answered with is answered as `article` {id, ...}.
    ("post", "/api/v1/orders/resolved-on-call"): {"article_id"},
    ("post", "/api/v1/orders/{order_id}/confirm"): set(),
    ("post", "/api/v1/orders/{order_id}/resolve-on-call"): {"article_id"},
    ("post", "/api/v1/orders/{order_id}/merge"): set(),
    ("post", "/api/v1/outages"): set(),
    # The phones become the campaign's surveys (phone, contact_name).
    ("post", "/api/v1/callback-campaigns"): {"phones"},
    # The order answers with its lead unit; the assisting units and the deadline are the
    # dispatches' (enterprise_id, role, due_at), the note the history's.
    ("post", "/api/v1/orders/{order_id}/coordinate"): {"assisting", "due_at", "note"},
    ("post", "/api/v1/orders/{order_id}/priority"): set(),
    ("put", "/api/v1/agents/me/status"): set(),
    # Administration (tests below).
    ("patch", "/api/v1/admin/users/{user_id}"): set(),
    ("post", "/api/v1/admin/classifications"): set(),
    ("put", "/api/v1/admin/classifications/{code}"): set(),
    # A notice answers its units with their rank and value (unit_list), its orders
    # with theirs.
    ("patch", "/api/v1/notices/{notice_id}"): {"units"},
    ("put", "/api/v1/enterprises/{enterprise_id}/webhook"): set(),
    # A platform is answered with its key and secret once, never with them again.
    ("post", "/api/v1/exchange/platforms"): set(),
    ("patch", "/api/v1/exchange/platforms/{code}"): set(),
    ("post", "/api/v1/admin/areas"): set(),
    ("put", "/api/v1/admin/areas/{code}"): set(),
    ("post", "/api/v1/admin/enterprises"): set(),
    ("put", "/api/v1/admin/enterprises/{code}"): set(),
    ("post", "/api/v1/admin/enterprises/{code}/windows"): set(),
    ("put", "/api/v1/admin/windows/{code}"): set(),
    ("post", "/api/v1/admin/service-items"): set(),
    ("put", "/api/v1/admin/service-items/{code}"): set(),
}
# Operations whose body is a command or a decision: they answer another resource (the
# order, a session, a result) or a standard names their fields (GeoReport v2).
ANSWERS_ANOTHER = {
    ("post", "/api/v1/dispatches/{dispatch_id}/return"),
    ("post", "/api/v1/dispatches/{dispatch_id}/notes"),
    ("post", "/api/v1/dispatches/{dispatch_id}/time-requests"),
    ("post", "/api/v1/dispatches/{dispatch_id}/part"),
    ("post", "/api/v1/dispatches/{dispatch_id}/complete"),
    ("post", "/api/v1/dispatches/{dispatch_id}/visit"),
    ("post", "/api/v1/returns/{return_id}/review"),
    ("post", "/api/v1/time-requests/{request_id}/decision"),
    ("post", "/api/v1/open311/clients"),
    ("post", "/open311/v2/requests.json"),
    ("post", "/api/v1/callbacks/manual/{attempt_id}/answer"),
    ("post", "/api/v1/orders/{order_id}/ruling"),
    ("post", "/api/v1/dispatches/{dispatch_id}/appeals"),
    ("post", "/api/v1/rating-appeals/{appeal_id}/decision"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/unlock"),
    # The caller's whole profile (history, orders, prefill); the fields sent are the
    # same names under its `citizen`.
    ("patch", "/api/v1/callers/{phone}"),
    # A knowledge base article with its history; the version written is answered under
    # its `version` with the same names. The reviews are decisions on a version.
    ("post", "/api/v1/knowledge/articles"),
    ("put", "/api/v1/knowledge/articles/{article_id}"),
    ("post", "/api/v1/knowledge/articles/{article_id}/versions/{version}/approve"),
    ("post", "/api/v1/knowledge/articles/{article_id}/versions/{version}/reject"),
    ("post", "/api/v1/knowledge/articles/{article_id}/archive"),
    # Decisions and requests that make something else: a calendar year confirmed on a
    # notice, a year's days from a file, a key for a name (its secret answered once),
    # a new password, a ranking's query drafted into a notice, a period made into a
    # report, a list or report made into a file.
    ("post", "/api/v1/admin/calendar/{year}/confirm"),
    # Retiring a unit (its rules moved to another) answers the unit.
    ("post", "/api/v1/admin/enterprises/{code}/disable"),
    # A hotline's SMS notices are answered under its `setting`, with hotline and channel.
    ("put", "/api/v1/notification-settings/{hotline}/{channel}"),
    # A day entered answers the year it is in, with the year's check.
    ("put", "/api/v1/admin/calendar/{year}/days/{day}"),
    ("post", "/api/v1/admin/calendar/{year}/import"),
    # A classification file answers what it added and renamed.
    ("post", "/api/v1/admin/classifications/import"),
    ("post", "/api/v1/admin/enterprises/{enterprise_id}/api-keys"),
    ("post", "/api/v1/admin/users/{user_id}/password"),
    ("post", "/api/v1/notices"),
    ("post", "/api/v1/reports/periodic"),
    ("post", "/api/v1/exports"),
    # A new user is answered under its `user`, with the generated password once.
    ("post", "/api/v1/admin/users"),
    # The public lookup's forms: a number and a phone answer the order's public status;
    # a citizen's words are the order's history.
    ("post", "/api/v1/public/track"),
    ("post", "/api/v1/public/track/follow-up"),
    # The 12345 platform's order is answered with its number and ours (docs/exchange.md);
    # a transfer answers the order, now transferred.
    ("post", "/exchange/v1/{platform}/orders"),
    ("post", "/api/v1/orders/{order_id}/transfer"),
}


def body_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    ref = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    name = ref["schema"]["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def names(schema: dict[str, Any]) -> set[str]:
    """A body's names in the API: its properties but the deprecated old names."""
    return {n for n, p in schema["properties"].items() if not p.get("deprecated")}


@pytest.fixture
def document(settings: Settings) -> dict[str, Any]:
    document: dict[str, Any] = create_app(settings)[API].openapi("http://localhost")
    return document


def test_every_body_is_classified(document: dict[str, Any]) -> None:
    """A new operation with a JSON body says whether it answers what it writes (uploads,
    multipart forms, name files and form fields, not the resource's fields)."""
    with_body = {
        (method, path)
        for path, operations in document["paths"].items()
        for method, spec in operations.items()
        if "application/json" in spec.get("requestBody", {}).get("content", {})
    }
    assert with_body == set(SAME_RESOURCE) | ANSWERS_ANOTHER
    assert not set(SAME_RESOURCE) & ANSWERS_ANOTHER


def test_the_document_shows_the_new_names_and_the_old_ones_deprecated(
    document: dict[str, Any],
) -> None:
    for (method, path), renamed in RENAMED.items():
        properties = body_schema(document, method, path)["properties"]
        for new, old in renamed.items():
            assert not properties[new].get("deprecated"), (path, new)
            assert properties[old]["deprecated"] is True, (path, old)
            assert new in properties[old]["description"]
    for (method, path), renamed in RENAMED_QUERY.items():
        parameters = {p["name"]: p for p in document["paths"][path][method]["parameters"]}
        for new, old in renamed.items():
            assert not parameters[new].get("deprecated")
            assert parameters[old]["deprecated"] is True and new in parameters[old]["description"]
    # A campaign's phones: each becomes a survey, which calls its name contact_name.
    entry = document["components"]["schemas"]["PhoneEntry"]["properties"]
    assert entry["name"]["deprecated"] is True and "contact_name" in names({"properties": entry})
    # Nothing else is deprecated.
    for schema in document["components"]["schemas"].values():
        for name, spec in schema.get("properties", {}).items():
            if spec.get("deprecated"):
                assert "accepted until the next release" in spec["description"], name


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor") as opened:
        yield opened


async def send(
    desk: Desk, method: str, path: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    response = await desk.client.request(
        method, path, json=body, headers={"X-CSRF-Token": desk.csrf}
    )
    text = await response.text()
    assert response.status == status, f"{method} {path}: {response.status} {text}"
    answer: dict[str, Any] = await response.json()
    return answer


async def test_what_a_request_names_its_answer_names_alike(
    desks: dict[str, Desk], document: dict[str, Any], pool: asyncpg.Pool, settings: Settings
) -> None:
    """Each operation that answers what it writes, sent with the new names: the body's
    names are among the answer's. The session's tests share one database: these orders
    and rules are in districts no other test uses (370285, 370283)."""
    agent, sup = desks["agent"], desks["supervisor"]
    ids = await enterprise_ids(sup)
    now = dt.datetime.now(dt.UTC)
    answered: dict[tuple[str, str], dict[str, Any]] = {}

    async def call(
        method: str, template: str, path: str, body: dict[str, Any], status: int = 200
    ) -> dict[str, Any]:
        # The supervisor may do each of them (and registers orders as an agent does).
        answered[(method, template)] = await send(sup, method.upper(), path, body, status)
        return answered[(method, template)]

    rule_body = {
        "service_item_code": "W01",
        "area_code": "370285001",
        "candidates": [ids["qd-water"]],
    }
    rule = await call("post", "/api/v1/routing/rules", "/api/v1/routing/rules", rule_body, 201)
    assert (rule["service_item_code"], rule["area_code"]) == ("W01", "370285001")
    await call(
        "put",
        "/api/v1/routing/rules/{rule_id}",
        f"/api/v1/routing/rules/{rule['id']}",
        {**rule_body, "note": "改"},
    )
    order_body = {
        "hotline_code": "96111",
        "service_item_code": "W01",
        "area_code": "370285001",
        "description": "水表漏水",
    }
    order = await call("post", "/api/v1/orders", "/api/v1/orders", order_body, 201)
    assert (order["hotline_code"], order["service_item_code"], order["area_code"]) == (
        "96111",
        "W01",
        "370285001",
    )
    await call(
        "post",
        "/api/v1/orders/resolved-on-call",
        "/api/v1/orders/resolved-on-call",
        {**order_body, "reply": "已告知"},
        201,
    )
    other = await send(agent, "POST", "/api/v1/orders", {**order_body, "address": "宁夏路"}, 201)
    await call(
        "post",
        "/api/v1/orders/{order_id}/merge",
        f"/api/v1/orders/{other['id']}/merge",
        {"parent_id": order["id"]},
    )
    lone = await send(agent, "POST", "/api/v1/orders", order_body, 201)
    await call(
        "post",
        "/api/v1/orders/{order_id}/resolve-on-call",
        f"/api/v1/orders/{lone['id']}/resolve-on-call",
        {"reply": "已告知"},
    )
    async with pool.acquire() as conn, conn.transaction():
        draft = await do_register_draft(
            conn, NewDraft(hotline="96111", channel="sms", description="停水了"), now
        )
    confirmed = await call(
        "post",
        "/api/v1/orders/{order_id}/confirm",
        f"/api/v1/orders/{draft['id']}/confirm",
        {"service_item_code": "W05", "area_code": "370285002"},
    )
    assert (confirmed["service_item_code"], confirmed["area_code"]) == ("W05", "370285002")
    outage = await call(
        "post",
        "/api/v1/outages",
        "/api/v1/outages",
        {
            "domain": "water",
            "kind": "planned",
            "title": "管网检修",
            "area_codes": ["370285003"],
            "starts_at": (now + dt.timedelta(days=1)).isoformat(),
            "ends_at": (now + dt.timedelta(days=1, hours=4)).isoformat(),
        },
        201,
    )
    assert outage["area_codes"] == ["370285003"]
    campaign = await call(
        "post",
        "/api/v1/callback-campaigns",
        "/api/v1/callback-campaigns",
        {
            "kind": "proactive",
            "name": "营商环境专席",
            "channel": "manual",
            "hotline_code": "12319",
            "phones": [{"phone": "13912340001", "contact_name": "某公司"}],
        },
        201,
    )
    assert campaign["hotline_code"] == "12319"
    # Held: its survey waits for nobody while the other tests run on this database.
    await send(sup, "POST", f"/api/v1/callback-campaigns/{campaign['id']}/pause", {})
    spot = await send(
        sup,
        "POST",
        "/api/v1/callback-campaigns",
        {"kind": "spot_check", "name": "抽查", "week_start": "2021-03-01", "sample_share": 0.5},
        201,
    )
    assert spot["sample_share"] == 0.5
    # No rule covers B05 here: the order goes to coordination.
    stray = await send(
        agent,
        "POST",
        "/api/v1/orders",
        {**order_body, "service_item_code": "B05", "area_code": "370283001"},
        201,
    )
    await settle(pool, settings)
    coordinated = await call(
        "post",
        "/api/v1/orders/{order_id}/coordinate",
        f"/api/v1/orders/{stray['id']}/coordinate",
        {
            "lead_enterprise_id": ids["qd-billing"],
            "due_at": (now + dt.timedelta(days=3)).isoformat(),
            "note": "收费中心牵头",
        },
    )
    assert coordinated["lead_enterprise_id"] == ids["qd-billing"]
    urgent = await call(
        "post",
        "/api/v1/orders/{order_id}/priority",
        f"/api/v1/orders/{stray['id']}/priority",
        {"priority": "urgent"},
    )
    assert urgent["priority"] == "urgent"
    await call("put", "/api/v1/agents/me/status", "/api/v1/agents/me/status", {"status": "offline"})
    saved = await call(
        "post",
        "/api/v1/saved-filters",
        "/api/v1/saved-filters",
        {"name": "本区超期", "params": {"area": "370285", "overdue": True}},
        201,
    )
    assert saved["params"] == {"area": "370285", "overdue": True}

    for (method, path), answer in answered.items():
        written = names(body_schema(document, method, path)) - SAME_RESOURCE[(method, path)]
        assert written <= set(answer), f"{method} {path}: {written - set(answer)} not answered"
    # The enterprise webhook answers the url it was given (tests/test_enterprise_webhooks.py);
    # the administration's are sent by the test below.
    assert set(answered) | {("put", "/api/v1/enterprises/{enterprise_id}/webhook")} | set(
        ADMINISTRATION
    ) == set(SAME_RESOURCE)


ADMINISTRATION = [
    ("patch", "/api/v1/admin/users/{user_id}"),
    ("post", "/api/v1/admin/classifications"),
    ("put", "/api/v1/admin/classifications/{code}"),
    ("patch", "/api/v1/notices/{notice_id}"),
    ("post", "/api/v1/exchange/platforms"),
    ("patch", "/api/v1/exchange/platforms/{code}"),
    ("post", "/api/v1/admin/areas"),
    ("put", "/api/v1/admin/areas/{code}"),
    ("post", "/api/v1/admin/enterprises"),
    ("put", "/api/v1/admin/enterprises/{code}"),
    ("post", "/api/v1/admin/enterprises/{code}/windows"),
    ("put", "/api/v1/admin/windows/{code}"),
    ("post", "/api/v1/admin/service-items"),
    ("put", "/api/v1/admin/service-items/{code}"),
]


async def test_the_administrations_bodies_name_what_they_answer(
    server: TestServer, pool: asyncpg.Pool, document: dict[str, Any]
) -> None:
    """The same for the administrators' and supervisors' writes: a user of the test's own,
    a classification code of a major class no other test uses, a street, units, a window
    and a service item of codes of the test's own, and a draft notice of the rankings'
    own week (a draft reaches no unit)."""
    answered: dict[tuple[str, str], dict[str, Any]] = {}
    url = str(server.make_url("/"))
    admin, supervisor = await desk(url, pool, "admin"), await desk(url, pool, "supervisor")
    try:

        async def call(
            who: Desk, method: str, template: str, path: str, body: Any, status: int = 200
        ) -> Any:
            answered[(method, template)] = await send(who, method.upper(), path, body, status)
            return answered[(method, template)]

        made = await send(
            admin,
            "POST",
            "/api/v1/admin/users",
            {
                "username": unique("vocab"),
                "display_name": "话务员",
                "role": "agent",
                "hotline_code": "96111",
                "password": "a long enough password 1",
            },
            201,
        )
        await call(
            admin,
            "patch",
            "/api/v1/admin/users/{user_id}",
            f"/api/v1/admin/users/{made['user']['id']}",
            {"display_name": "话务员甲"},
        )
        major = await free_major_class(pool)
        code = {"code": major, "name_zh": "词汇测试", "name_en": "Vocabulary"}
        classifications = "/api/v1/admin/classifications"
        await call(admin, "post", classifications, classifications, code, 201)
        await call(
            admin,
            "put",
            "/api/v1/admin/classifications/{code}",
            f"/api/v1/admin/classifications/{major}",
            {"name_zh": "词汇测试甲", "name_en": "Vocabulary A"},
        )
        platform = {
            "code": unique("vocab-"),
            "name_zh": "词汇平台",
            "name_en": "Vocabulary platform",
            "hotline_code": "96111",
        }
        platforms = "/api/v1/exchange/platforms"
        await call(admin, "post", platforms, platforms, platform, 201)
        await call(
            admin,
            "patch",
            "/api/v1/exchange/platforms/{code}",
            f"{platforms}/{platform['code']}",
            {"name_en": "Vocabulary platform A", "active": False},
        )
        await reference_data(admin, call)
        await two_weeks(pool)  # units ranked in the rankings' own week
        notice = await send(
            supervisor,
            "POST",
            "/api/v1/notices",
            {"period": "week", "date": "2023-05-10", "worst": 1},
            201,
        )
        await call(
            supervisor,
            "patch",
            "/api/v1/notices/{notice_id}",
            f"/api/v1/notices/{notice['id']}",
            {"title": "通报", "body": "正文"},
        )
    finally:
        await admin.client.close()
        await supervisor.client.close()
    for (method, path), answer in answered.items():
        written = names(body_schema(document, method, path)) - SAME_RESOURCE[(method, path)]
        assert written <= set(answer), f"{method} {path}: {written - set(answer)} not answered"
    assert set(answered) == set(ADMINISTRATION)


async def reference_data(admin: Desk, call: Any) -> None:
    """The reference administration's writes, each with its new names: a street of
    370202, a company with its branch and window, a service item (codes of its own)."""
    street = unique("vocab-s")
    areas = "/api/v1/admin/areas"
    body = {"code": street, "parent_code": "370202", "name_zh": "词汇街道", "name_en": "Vocab"}
    made = await call(admin, "post", areas, areas, body, 201)
    assert made["parent_code"] == "370202"
    await call(
        admin,
        "put",
        f"{areas}/{{code}}",
        f"{areas}/{street}",
        {"name_zh": "词汇街道甲", "name_en": "V"},
    )
    company, branch = unique("vocab-c"), unique("vocab-b")
    units = "/api/v1/admin/enterprises"
    await send(
        admin,
        "POST",
        units,
        {"code": company, "kind": "company", "name_zh": "词汇公司", "name_en": "Vocab"},
        201,
    )
    unit = {
        "kind": "branch",
        "parent_code": company,
        "name_zh": "词汇分公司",
        "name_en": "Vocab branch",
        "domains": ["water"],
        "hotline_code": "96111",
    }
    made = await call(admin, "post", units, units, {**unit, "code": branch}, 201)
    assert (made["parent_code"], made["hotline_code"]) == (company, "96111")
    await call(admin, "put", f"{units}/{{code}}", f"{units}/{branch}", {**unit, "name_en": "VB"})
    window = {"name_zh": "词汇窗口", "name_en": "Vocab window", "area_code": street}
    window_code = unique("vocab-w")
    made = await call(
        admin,
        "post",
        f"{units}/{{code}}/windows",
        f"{units}/{company}/windows",
        {**window, "code": window_code},
        201,
    )
    assert made["area_code"] == street
    windows = "/api/v1/admin/windows"
    await call(admin, "put", f"{windows}/{{code}}", f"{windows}/{window_code}", window)
    item = {
        "domain": "water",
        "kind": "repair",
        "name_zh": "词汇事项",
        "name_en": "Vocab item",
        "sign_for_amount": 2,
        "sign_for_unit": "working_hours",
        "first_contact_amount": 1,
        "first_contact_unit": "working_days",
        "resolution_amount": 5,
        "resolution_unit": "working_days",
        "urgent_sign_for_hours": 1,
        "urgent_first_contact_hours": 2,
        "urgent_resolution_hours": 24,
        "keywords": ["词汇"],
        "visit_after_bad_rating": False,
        "classification_code": None,
    }
    code = unique("vocab-i")
    items = "/api/v1/admin/service-items"
    made = await call(admin, "post", items, items, {**item, "code": code}, 201)
    assert (made["resolution_amount"], made["urgent_resolution_hours"]) == ("5", "24")
    # Edited in the old shape, still read until the next release.
    old = {k: v for k, v in item.items() if not k.startswith(("sign_for", "first", "res", "urg"))}
    old |= {c: {"amount": 3, "unit": "working_days"} for c in CLOCKS}
    made = await send(admin, "PUT", f"{items}/{code}", {**old, "urgent": None})
    assert (made["sign_for_amount"], made["urgent_resolution_hours"]) == ("3", None)
    await call(admin, "put", f"{items}/{{code}}", f"{items}/{code}", item)
    # Both shapes of a clock, or both names of a field, are refused.
    for path, both in (
        (f"{items}/{code}", {**item, "sign_for": {"amount": 2, "unit": "hours"}}),
        (f"{units}/{branch}", {**unit, "hotline": "96111"}),
        (f"{windows}/{window_code}", {**window, "area": street}),
    ):
        error = (await send(admin, "PUT", path, both, 422))["error"]
        assert len(error["fields"]) == 1, error
        [(old_name, message)] = error["fields"].items()
        assert message.startswith(f"{old_name} 是 "), message


# Each: the new name, then the old one.
BOTH_NAMES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/routing/rules", {"service_item_code": "W01", "service_item": "W01"}),
    ("POST", "/api/v1/orders", {"hotline_code": "96111", "hotline": "96111"}),
    ("POST", "/api/v1/orders/resolved-on-call", {"area_code": "370202", "area": "370202"}),
    ("POST", "/api/v1/orders/1/confirm", {"service_item_code": "W01", "service_item": "W01"}),
    ("POST", "/api/v1/outages", {"area_codes": ["370202"], "areas": ["370202"]}),
    ("POST", "/api/v1/orders/1/coordinate", {"lead_enterprise_id": 1, "lead": 1}),
    ("POST", "/api/v1/callback-campaigns", {"sample_share": 0.5, "share": 0.5}),
]


async def test_both_names_at_once_are_refused(desks: dict[str, Desk]) -> None:
    for method, path, body in BOTH_NAMES:
        new, old = list(body)
        error = (await send(desks["supervisor"], method, path, body, 422))["error"]
        assert error["fields"][old] == f"{old} 是 {new} 的旧名称，请只填写 {new}", path
    phones = await send(
        desks["supervisor"],
        "POST",
        "/api/v1/callback-campaigns",
        {
            "kind": "proactive",
            "name": "专席",
            "phones": [{"phone": "13912340001", "contact_name": "甲", "name": "甲"}],
        },
        422,
    )
    assert "phones.0.name" in phones["error"]["fields"]
    query = await desks["agent"].client.get(
        "/api/v1/orders", params={"area_code": "370202", "area": "370202"}
    )
    # The search answers each bad parameter so: 400 invalid_query, naming it.
    assert query.status == 400
    refused = (await query.json())["error"]
    assert refused["code"] == "invalid_query" and "area" in refused["fields"]


async def test_old_names_still_work_and_errors_name_the_field_as_sent(
    desks: dict[str, Desk],
) -> None:
    agent, sup = desks["agent"], desks["supervisor"]
    water = (await enterprise_ids(sup))["qd-water"]

    async def rule(body: dict[str, Any], status: int) -> dict[str, Any]:
        return await send(
            sup, "POST", "/api/v1/routing/rules", {**body, "candidates": [water]}, status
        )

    old = await rule({"service_item": "W02", "area": "370285002"}, 201)
    assert (old["service_item_code"], old["area_code"]) == ("W02", "370285002")
    unknown = await rule({"service_item_code": "NOPE", "area": "999"}, 422)
    assert set(unknown["error"]["fields"]) == {"service_item_code", "area"}
    refused = await send(
        agent,
        "POST",
        "/api/v1/orders",
        {"hotline_code": "NOPE", "service_item": "W01", "description": "漏水"},
        422,
    )
    assert set(refused["error"]["fields"]) == {"hotline_code"}

    order = await send(
        agent,
        "POST",
        "/api/v1/orders",
        {"hotline": "96111", "service_item": "W03", "area": "370285002", "description": "漏"},
        201,
    )
    for query in (
        {"service_item_code": "W03", "area_code": "370285"},
        {"service_item": "W03", "area": "370285"},
    ):
        found = await agent.get("/api/v1/orders", **query, limit="200")
        assert order["id"] in [o["id"] for o in found["items"]], query


async def test_the_signed_in_user_names_the_hotline_as_orders_do(
    desks: dict[str, Desk],
) -> None:
    user = (await desks["agent"].get("/api/v1/auth/me"))["user"]
    # The old key stays while the console reads it (until the next release).
    assert user["hotline_code"] == user["hotline"]
