"""The OpenAPI document lists every route the application really serves."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession, web

from hotline.settings import Settings
from web.keys import API
from wiring.app import create_app


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if (
            route.method == "HEAD"
            or not path
            or not (
                path.startswith(("/api/", "/open311/", "/twilio/", "/exchange/"))
                or path in ("/health", "/ready")
            )
        ):
            continue
        routes.add((route.method.lower(), path))
    return routes


def test_every_api_route_is_documented(settings: Settings) -> None:
    app = create_app(settings)
    served = served_routes(app)
    document = app[API].openapi("http://localhost")
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert served, "the app serves API routes"
    assert served <= documented
    assert documented <= served  # and nothing documented that is not served


async def test_the_document_is_served_and_names_the_error_shape(client: ClientSession) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    document: dict[str, Any] = await response.json()
    assert document["openapi"].startswith("3.")
    post = document["paths"]["/api/v1/orders"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Registering"
    )
    assert "parent_id" in document["components"]["schemas"]["Registering"]["properties"]
    assert post["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Error"
    )
