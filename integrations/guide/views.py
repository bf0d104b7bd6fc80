"""HTTP: the public service guide, without sign-in. The JSON is declared here
(``GET /api/v1/public/guide``, ``GET /api/v1/public/guide/{hotline}``); the pages
``/guide`` and ``/guide/{hotline}`` are served with the other pages
(``agents_ui/pages.py``), by the handlers below.

Every answer is built once per version of its hotline's guide (``service.Snapshot``)
and kept (``service.cache``); browsers and proxies may store it but must ask again
(``no-cache``): while the version holds they get 304, and a published article or a new
outage reaches them on the next request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.errors import NotFound
from hotline.reference.cache import reference
from integrations.guide import page, service
from integrations.guide.service import Language, Snapshot
from web.api import Routes, dumps, json_response, read_query
from web.keys import CLOCK, POOL, SETTINGS

routes = Routes()

CACHE_CONTROL = "public, no-cache"
HTML = "text/html"
JSON = "application/json"
# A hotline's code as the page's path takes it; anything else is no page.
CODE_PATTERN = "[0-9A-Za-z_-]{1,32}"

Render = Callable[[Snapshot, Sequence[asyncpg.Record]], bytes]


class GuideQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: Literal["zh", "en"] | None = Field(
        default=None, description="zh or en: the guide in that language; absent: both"
    )


def _matches(request: web.Request, etag: str) -> bool:
    """Whether the client's If-None-Match names ``etag`` (weakly, as GET may)."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def _not_modified_since(request: web.Request, built: service.Built | None) -> bool:
    """If-Modified-Since, for clients that send no If-None-Match (which wins)."""
    since = request.if_modified_since
    return (
        "If-None-Match" not in request.headers
        and built is not None
        and since is not None
        and built.built_at <= since
    )


def _headers(etag: str, built: service.Built | None) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if built is not None:
        # When this process first built this version: never before the change it shows.
        headers["Last-Modified"] = built.built_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return headers


async def _answer(
    request: web.Request, code: str, variant: str, content_type: str, render: Render
) -> web.Response | None:
    """The guide of hotline ``code`` as ``render`` makes it, from the cache while its
    version holds, or 304; None for no such hotline."""
    now = request.app[CLOCK]()
    async with request.app[POOL].acquire() as conn:
        snap = await service.snapshot(conn, code, now=now, settings=request.app[SETTINGS])
        if snap is None:
            return None
        etag = service.etag(snap, variant)
        built = service.cache.get(snap, variant)
        if _matches(request, etag) or _not_modified_since(request, built):
            return web.Response(status=304, headers=_headers(etag, built))
        if built is None:
            published = await service.articles(conn, snap)
            built = service.cache.put(snap, variant, render(snap, published), now)
    return web.Response(
        body=built.body,
        content_type=content_type,
        charset="utf-8",
        headers=_headers(built.etag, built),
    )


@routes.route(
    "GET",
    "/api/v1/public/guide",
    summary="The hotlines' public service guides (numbers and where their guides are)",
    tag="public",
    public=True,
)
async def list_guides(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        hotlines = await reference.hotlines(conn)
    return json_response(
        {
            "items": [
                {
                    "code": h["code"],
                    "name_zh": h["name_zh"],
                    "name_en": h["name_en"],
                    "number": h["number"],
                    "page": f"/guide/{h['code']}",
                }
                for h in hotlines
            ]
        }
    )


@routes.route(
    "GET",
    "/api/v1/public/guide/{hotline}",
    summary=(
        "A hotline's public service guide: services and time limits with their guides, "
        "questions, running outages by area, numbers and hours (ETag; 304 on If-None-Match)"
    ),
    tag="public",
    query=GuideQuery,
    public=True,
    statuses={200: "the guide", 304: "not modified since the ETag sent"},
)
async def guide_json(request: web.Request) -> web.Response:
    query = read_query(request, GuideQuery)
    code = request.match_info["hotline"]
    language = query.lang

    def render(snap: Snapshot, published: Sequence[asyncpg.Record]) -> bytes:
        if language is not None:
            return dumps(service.build(snap, published, language)).encode()
        both = {lang: service.build(snap, published, lang) for lang in service.LANGUAGES}
        return dumps({"hotline": code, "version": snap.version, **both}).encode()

    answer = await _answer(request, code, f"json-{language or 'both'}", JSON, render)
    if answer is None:
        raise NotFound("no hotline {hotline}", hotline=code)
    return answer


def _language(request: web.Request) -> Language:
    """The page's language: English with ``?lang=en``, else Chinese (a citizen's odd
    query is no error)."""
    return "en" if request.query.get("lang") == "en" else "zh"


def _page(body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=body,
        status=status,
        content_type=HTML,
        charset="utf-8",
        headers={"Cache-Control": CACHE_CONTROL},
    )


async def _index(request: web.Request, language: Language, missing: str | None) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        hotlines = service.hotline_entries(await reference.hotlines(conn), language)
    body = page.render_index(hotlines, language, missing=missing)
    return _page(body, status=200 if missing is None else 404)


async def guide_index(request: web.Request) -> web.Response:
    """``/guide``: the hotlines, each a link to its guide."""
    return await _index(request, _language(request), None)


async def guide_page(request: web.Request) -> web.Response:
    """``/guide/{hotline}``: the hotline's guide; an unknown one is 404 with the list."""
    language = _language(request)
    code = request.match_info["hotline"]

    def render(snap: Snapshot, published: Sequence[asyncpg.Record]) -> bytes:
        return page.render(service.build(snap, published, language), language).encode()

    answer = await _answer(request, code, f"html-{language}", HTML, render)
    return answer if answer is not None else await _index(request, language, code)


def setup(app: web.Application) -> None:
    """The pages (the JSON is in ``routes``)."""
    app.router.add_get("/guide", guide_index)
    app.router.add_get(f"/guide/{{hotline:{CODE_PATTERN}}}", guide_page)
