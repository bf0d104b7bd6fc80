"""HTTP: the reports package's operations, one table per module."""

from __future__ import annotations

from reports.views import exports, hot, periodic, rankings, reading
from web.api import Api


def register(api: Api) -> None:
    """Every reports operation, for wiring/app.py."""
    api.include(reading.routes)
    api.include(rankings.routes)
    api.include(periodic.routes)
    api.include(hot.routes)
    api.include(exports.routes)
