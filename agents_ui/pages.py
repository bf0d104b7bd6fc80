"""The pages people open in a browser: the consoles' single page, the public report
form, the public service guide, the progress lookup, and their static files (no build
step: ES modules and vendored libraries)."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from agents_ui.views import suggestions
from integrations.guide import views as guide
from integrations.tracking import views as tracking
from web.security import allow_inline_script

STATIC_DIR = Path(__file__).parent / "static"
# The console's import map is inline: Chromium loads no external import maps, so the CSP
# allows exactly this script by its hash, read from the page when the app is built.
IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)


def import_map() -> str:
    match = IMPORT_MAP.search((STATIC_DIR / "index.html").read_text())
    if match is None:
        raise RuntimeError("index.html has no import map")
    return match.group(1)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def report_form(request: web.Request) -> web.FileResponse:
    """The public report form (integrations/open311/views/form.py takes what it sends)."""
    return web.FileResponse(STATIC_DIR / "report.html")


async def favicon(request: web.Request) -> web.FileResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (a JSON answer, an error
    page): the same SVG the pages link to."""
    return web.FileResponse(STATIC_DIR / "favicon.svg")


def setup(app: web.Application) -> None:
    """The pages and their static files, and what the console's views keep per app."""
    suggestions.setup(app)
    allow_inline_script(app, import_map())
    app.router.add_get("/", index)
    app.router.add_get("/report", report_form)
    guide.setup(app)
    tracking.setup(app)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static/", STATIC_DIR)
