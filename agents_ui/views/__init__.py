"""The consoles' HTTP views: sign-in, orders and the order page, reference lists for
forms, the agents' console, the area suggested from an address, the knowledge base
and the supervisors' board."""

from __future__ import annotations

from agents_ui.views import areas, auth, console, knowledge, orders, reference, suggestions
from web.api import Api


def register(api: Api) -> None:
    api.include(
        auth.routes,
        orders.routes,
        reference.routes,
        console.routes,
        suggestions.routes,
        areas.routes,
        knowledge.routes,
    )
