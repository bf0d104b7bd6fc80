"""The administrators' API for reference data: areas, enterprises and their service
windows, the service catalogue, the GB/T 39666 classification codes (docs/core.md,
"Administering reference data", "Classification codes (GB/T 39666)").

Each change commits with its record in ``admin_changes`` and is then announced, so every
web and worker process uses it at once (hotline/reference/versions.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from agents_ui.views.admin import ADMIN
from hotline.db import transaction
from hotline.reference import admin, versions
from hotline.reference import queries as ref
from hotline.users.models import Actor
from routing.units import do_retire_unit
from web.api import Routes, json_response, read_body
from web.auth import require_actor
from web.keys import CLOCK, POOL, REDIS

routes = Routes()
TAG = "admin"
Change = Callable[[asyncpg.Connection, Actor], Awaitable[asyncpg.Record]]


async def _change(request: web.Request, change: Change, status: int = 200) -> web.Response:
    """One administrator's change: its transaction, then the announcement."""
    actor = require_actor(request)
    async with transaction(request.app[POOL]) as conn:
        row = await change(conn, actor)
    await versions.announce(request.app[REDIS], "reference")
    return json_response(admin.document(row), status=status)


def _code(request: web.Request) -> str:
    return request.match_info["code"]


# Areas


@routes.route("GET", "/api/v1/admin/areas", summary="Every area, retired too", tag=TAG, roles=ADMIN)
async def list_areas(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await ref.list_areas(conn)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    "/api/v1/admin/areas",
    summary="Create a district or a street",
    tag=TAG,
    body=admin.AreaInput,
    roles=ADMIN,
    statuses={201: "created", 409: "`duplicate`: the code is taken"},
)
async def create_area(request: web.Request) -> web.Response:
    body = await read_body(request, admin.AreaInput)
    return await _change(request, lambda c, a: admin.do_create_area(c, a, body), 201)


@routes.route(
    "PUT",
    "/api/v1/admin/areas/{code}",
    summary="Rename an area",
    tag=TAG,
    body=admin.AreaChange,
    roles=ADMIN,
)
async def update_area(request: web.Request) -> web.Response:
    body = await read_body(request, admin.AreaChange)
    return await _change(request, lambda c, a: admin.do_update_area(c, a, _code(request), body))


# Enterprises and windows


@routes.route(
    "GET",
    "/api/v1/admin/enterprises",
    summary="Every enterprise and branch, retired too, with its windows' count",
    tag=TAG,
    roles=ADMIN,
)
async def list_enterprises(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await ref.list_enterprises(conn)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    "/api/v1/admin/enterprises",
    summary="Create an enterprise or a branch",
    tag=TAG,
    body=admin.EnterpriseInput,
    roles=ADMIN,
    statuses={201: "created", 409: "`duplicate`: the code is taken"},
)
async def create_enterprise(request: web.Request) -> web.Response:
    body = await read_body(request, admin.EnterpriseInput)
    return await _change(request, lambda c, a: admin.do_create_enterprise(c, a, body), 201)


@routes.route(
    "PUT",
    "/api/v1/admin/enterprises/{code}",
    summary="Change an enterprise's names, kind, domains, parent or hotline",
    tag=TAG,
    body=admin.EnterpriseChange,
    roles=ADMIN,
)
async def update_enterprise(request: web.Request) -> web.Response:
    body = await read_body(request, admin.EnterpriseChange)
    return await _change(
        request, lambda c, a: admin.do_update_enterprise(c, a, _code(request), body)
    )


class RetireUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    move_to: str | None = Field(
        default=None, description="the code of the unit the retired one's routing rules name"
    )


@routes.route(
    "POST",
    "/api/v1/admin/enterprises/{code}/disable",
    summary="Retire a unit; its routing rules can be moved to another unit",
    tag=TAG,
    body=RetireUnit,
    roles=ADMIN,
    statuses={
        409: "`enterprise_in_use`: orders to handle, active branches or routing rules"
        " (without `move_to`) still need it"
    },
)
async def disable_enterprise(request: web.Request) -> web.Response:
    body = await read_body(request, RetireUnit)
    now = request.app[CLOCK]()
    return await _change(
        request, lambda c, a: do_retire_unit(c, a, _code(request), body.move_to, now)
    )


@routes.route(
    "GET",
    "/api/v1/admin/enterprises/{code}/windows",
    summary="An enterprise's service windows, retired too",
    tag=TAG,
    roles=ADMIN,
)
async def list_windows(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        unit = await admin.enterprise(conn, _code(request))
        rows = await ref.list_windows(conn, int(unit["id"]))
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    "/api/v1/admin/enterprises/{code}/windows",
    summary="Open a service window of an enterprise",
    tag=TAG,
    body=admin.WindowInput,
    roles=ADMIN,
    statuses={201: "created", 409: "`duplicate`: the code is taken"},
)
async def create_window(request: web.Request) -> web.Response:
    body = await read_body(request, admin.WindowInput)
    return await _change(
        request, lambda c, a: admin.do_create_window(c, a, _code(request), body), 201
    )


@routes.route(
    "PUT",
    "/api/v1/admin/windows/{code}",
    summary="Change a service window's names or area",
    tag=TAG,
    body=admin.WindowChange,
    roles=ADMIN,
)
async def update_window(request: web.Request) -> web.Response:
    body = await read_body(request, admin.WindowChange)
    return await _change(request, lambda c, a: admin.do_update_window(c, a, _code(request), body))


# The catalogue


@routes.route(
    "GET",
    "/api/v1/admin/service-items",
    summary="The whole catalogue, retired items too",
    tag=TAG,
    roles=ADMIN,
)
async def list_items(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await ref.list_service_items(conn, retired=True)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    "/api/v1/admin/service-items",
    summary="Add a service item",
    tag=TAG,
    body=admin.ItemInput,
    roles=ADMIN,
    statuses={201: "created", 409: "`duplicate`: the code is taken"},
)
async def create_item(request: web.Request) -> web.Response:
    body = await read_body(request, admin.ItemInput)
    return await _change(request, lambda c, a: admin.do_create_item(c, a, body), 201)


@routes.route(
    "PUT",
    "/api/v1/admin/service-items/{code}",
    summary="Change an item's names, kind, domain, limits, keywords or classification code"
    " (orders registered before keep their limits)",
    tag=TAG,
    body=admin.ItemChange,
    roles=ADMIN,
)
async def update_item(request: web.Request) -> web.Response:
    body = await read_body(request, admin.ItemChange)
    return await _change(request, lambda c, a: admin.do_update_item(c, a, _code(request), body))


# The GB/T 39666 classification codes


@routes.route(
    "GET",
    "/api/v1/admin/classifications",
    summary="Every GB/T 39666 classification code, retired too, by code, with its classes'"
    " names and how many active service items are mapped to it",
    tag=TAG,
    roles=ADMIN,
)
async def list_classifications(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await ref.list_classifications(conn)
    return json_response({"items": [dict(r) for r in rows]})


@routes.route(
    "POST",
    "/api/v1/admin/classifications",
    summary="Add a major, middle or minor class (its class must exist)",
    tag=TAG,
    body=admin.ClassificationInput,
    roles=ADMIN,
    statuses={201: "created", 409: "`duplicate`: the code is taken"},
)
async def create_classification(request: web.Request) -> web.Response:
    body = await read_body(request, admin.ClassificationInput)
    return await _change(request, lambda c, a: admin.do_create_classification(c, a, body), 201)


@routes.route(
    "PUT",
    "/api/v1/admin/classifications/{code}",
    summary="Rename a classification code",
    tag=TAG,
    body=admin.ClassificationChange,
    roles=ADMIN,
)
async def update_classification(request: web.Request) -> web.Response:
    body = await read_body(request, admin.ClassificationChange)
    return await _change(
        request, lambda c, a: admin.do_update_classification(c, a, _code(request), body)
    )


@routes.route(
    "POST",
    "/api/v1/admin/classifications/import",
    summary="Add and rename codes from a CSV file (code,name_zh,name_en), all or none;"
    " with dry_run only check it",
    tag=TAG,
    body=admin.ClassificationImport,
    roles=ADMIN,
    statuses={
        422: "`invalid_classification_file`: the bad lines under `fields` (`rows.N`, N the"
        " file's line), nothing stored"
    },
)
async def import_classifications(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = await read_body(request, admin.ClassificationImport)
    async with transaction(request.app[POOL]) as conn:
        result = await admin.do_import_classifications(conn, actor, body)
    if not body.dry_run:
        await versions.announce(request.app[REDIS], "reference")
    return json_response(result)


# Retiring and bringing back: the same two operations for each kind of row (an
# enterprise's retirement, which can move its rules, is above).

_PATHS: dict[admin.Entity, str] = {
    "area": "areas",
    "window": "windows",
    "service_item": "service-items",
    "enterprise": "enterprises",
    "classification": "classifications",
}
_IN_USE = {
    "area": "`area_in_use`: open orders, active streets, windows or routing rules need it",
    "service_item": "`item_in_use`: open orders are of this item",
    "classification": "`classification_in_use`: active service items are mapped to it or to"
    " a class in it (named in the message), or active classes sit in it",
}
_ENABLE_REFUSED = {
    "classification": "`classification_parent_retired`: the class it sits in is retired",
}


def _set_active(
    entity: admin.Entity, active: bool
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return await _change(
            request, lambda c, a: admin.do_set_active(c, a, entity, _code(request), active)
        )

    handler.__name__ = f"{'enable' if active else 'disable'}_{entity}"
    return handler


for _entity, _path in _PATHS.items():
    routes.route(
        "POST",
        f"/api/v1/admin/{_path}/{{code}}/enable",
        summary=f"Bring a retired {_entity.replace('_', ' ')} back",
        tag=TAG,
        roles=ADMIN,
        statuses={409: _ENABLE_REFUSED[_entity]} if _entity in _ENABLE_REFUSED else None,
    )(_set_active(_entity, True))
    if _entity != "enterprise":
        routes.route(
            "POST",
            f"/api/v1/admin/{_path}/{{code}}/disable",
            summary=f"Retire a {_entity.replace('_', ' ')}",
            tag=TAG,
            roles=ADMIN,
            statuses={409: _IN_USE[_entity]} if _entity in _IN_USE else None,
        )(_set_active(_entity, False))
