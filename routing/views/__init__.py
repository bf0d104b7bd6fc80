"""Routing's HTTP views: the rule editor, the enterprises' inbox and the centre's review
(returns, time requests, coordination, notices, duplicates, outages)."""

from __future__ import annotations

from routing.views import inbox, review, rules
from web.api import Api


def register(api: Api) -> None:
    api.include(rules.routes, inbox.routes, review.routes)
