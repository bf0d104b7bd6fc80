"""The integrations' HTTP views: Twilio's webhooks and the calls API, Open311 and the
public report form, enterprise webhook subscriptions, the public service guide, the
status notifications' settings, the progress lookup, the exchange with platforms."""

from __future__ import annotations

from integrations.enterprise_webhooks import views as enterprise_webhooks
from integrations.exchange import views as exchange
from integrations.guide import views as guide
from integrations.notifications import views as notifications
from integrations.open311 import views as open311
from integrations.open311.views import form as open311_form
from integrations.telephony import views as telephony
from integrations.tracking import views as tracking
from web.api import Api


def register(api: Api) -> None:
    api.include(
        enterprise_webhooks.routes,
        open311.routes,
        open311_form.routes,
        telephony.routes,
        guide.routes,
        notifications.routes,
        tracking.routes,
        exchange.routes,
    )
