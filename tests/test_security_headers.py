"""Browser security headers on every kind of answer, and the production checks behind
them (issue 14, item 6). The consoles working under the policy in Chromium is
tests/test_console_browser.py's part; that the templates are precompiled is
tests/test_console_templates.py's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from agents_ui.pages import import_map
from hotline.settings import Settings, SettingsError
from web.security import script_hash
from wiring.app import create_app

# Every kind of answer: pages, static files (the console's own and vendored), an API
# answer, API errors (401, 404, 405), an unknown path, the health check, socket.io.
ANSWERS = (
    ("GET", "/", 200),
    ("GET", "/report", 200),
    ("GET", "/static/app/main.js", 200),
    ("GET", "/static/vendor/vue/vue.runtime.esm-browser.prod.js", 200),
    ("GET", "/static/report.js", 200),
    ("GET", "/static/no-such-file.js", 404),
    ("GET", "/health", 200),
    ("GET", "/api/v1/openapi.json", 200),
    ("GET", "/api/v1/auth/me", 200),
    ("GET", "/api/v1/orders", 401),
    ("GET", "/api/v1/no-such-route", 404),
    ("DELETE", "/health", 405),
    # socket.io (an unknown transport: a handshake would leave a session open).
    ("GET", "/socket.io/?EIO=4&transport=carrier-pigeon", 400),
)


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


@pytest.mark.parametrize(("method", "path", "status"), ANSWERS)
async def test_every_answer_carries_the_headers(
    client: aiohttp.ClientSession, method: str, path: str, status: int
) -> None:
    async with client.request(method, path) as response:
        assert response.status == status, await response.text()
        headers = response.headers
        host = f"{response.url.host}:{response.url.port}"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers  # the test server's URL is http
    csp = directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    # Scripts: this site and the console's import map by its hash; no inline script
    # otherwise, no eval.
    assert csp["script-src"] == ["'self'", script_hash(import_map())]
    assert csp["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]
    policy = headers["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy
    geolocation = "geolocation=(self)" if path == "/report" else "geolocation=()"
    assert geolocation in policy.split(", ")


async def test_the_import_map_hash_is_of_the_page_served(client: aiohttp.ClientSession) -> None:
    async with client.get("/") as response:
        page = await response.text()
        csp = directives(response.headers["Content-Security-Policy"])
    start = page.index('<script type="importmap">') + len('<script type="importmap">')
    assert script_hash(page[start : page.index("</script>", start)]) in csp["script-src"]
    # The page has no other inline script, and the report form none at all.
    assert page.count("<script") == 2 and '<script type="module" src=' in page
    async with client.get("/report") as response:
        form = await response.text()
    assert "<script>" not in form and "<style>" not in form


async def test_a_forged_host_header_stays_out_of_the_policy(
    client: aiohttp.ClientSession,
) -> None:
    async with client.get("/health", headers={"Host": "evil; script-src *"}) as response:
        csp = directives(response.headers["Content-Security-Policy"])
    assert csp["connect-src"] == ["'self'"] and csp["script-src"][0] == "'self'"
    assert len(csp["script-src"]) == 2


@pytest.fixture
async def https_client(settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    """The system configured with an https public URL (TLS ends at a proxy in front)."""
    server = TestServer(
        create_app(settings.model_copy(update={"public_url": "https://hotline.example"}))
    )
    await server.start_server()
    try:
        async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
            yield session
    finally:
        await server.close()


async def test_hsts_when_the_public_url_is_https(https_client: aiohttp.ClientSession) -> None:
    for path in ("/", "/api/v1/auth/me", "/static/app/main.js"):
        async with https_client.get(path) as response:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def production(**changes: object) -> Settings:
    values: dict[str, object] = {
        "env": "production",
        "secret_key": SecretStr("s" * 40),
        "database_url": "postgresql://db/hotline",
        "redis_url": "redis://redis:6379/0",
        "public_url": "https://hotline.example.cn",
        "metrics_token": SecretStr("m" * 40),
    }
    return Settings.model_validate(values | changes)


def test_production_refuses_a_plain_http_public_url() -> None:
    production().check_production()
    with pytest.raises(SettingsError, match="HOTLINE_PUBLIC_URL must start with https://"):
        production(public_url="http://hotline.example.cn").check_production()


def test_production_needs_a_metrics_token() -> None:
    with pytest.raises(SettingsError, match="HOTLINE_METRICS_TOKEN"):
        production(metrics_token=None).check_production()
    # Development keeps /metrics open, for a laptop's Prometheus.
    production(env="development", metrics_token=None, public_url=None).check_production()
