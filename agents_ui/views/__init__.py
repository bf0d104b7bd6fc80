"""The consoles' HTTP views: sign-in, orders and the order page, reference lists for
forms, the agents' console, the area suggested from an address, the knowledge base,
the supervisors' board, each user's saved searches and the administrators' screens."""

from __future__ import annotations

from agents_ui.views import (
    admin,
    admin_calendar,
    areas,
    auth,
    console,
    knowledge,
    orders,
    reference,
    reference_admin,
    saved_filters,
    suggestions,
)
from web.api import Api


def register(api: Api) -> None:
    api.include(
        auth.routes,
        orders.routes,
        reference.routes,
        console.routes,
        suggestions.routes,
        areas.routes,
        saved_filters.routes,
        knowledge.routes,
        admin.routes,
        reference_admin.routes,
        admin_calendar.routes,
    )
