"""The web application as deployed: every package's operations in one ``Api``, and the
consoles' pages. Each package names what it serves in one ``register`` function; this is
the one place that calls them."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from agents_ui import pages
from agents_ui import views as console_views
from callbacks import views as callback_views
from hotline.context import Clock, utcnow
from hotline.settings import Settings
from integrations import views as integration_views
from reports import views as report_views
from routing import views as routing_views
from web.api import Api
from web.app import create_app as create_web_app
from web.views import register as register_web
from wiring.subscriptions import subscribe_web

REGISTRARS: tuple[Callable[[Api], None], ...] = (
    register_web,
    routing_views.register,
    integration_views.register,
    callback_views.register,
    report_views.register,
    console_views.register,
)


def build_api() -> Api:
    api = Api()
    for register in REGISTRARS:
        register(api)
    return api


def create_app(settings: Settings, *, clock: Clock = utcnow) -> web.Application:
    subscribe_web()
    return create_web_app(settings, build_api(), clock=clock, setup=(pages.setup,))
