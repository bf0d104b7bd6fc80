"""The core's port for outbound SMS and calls: what a job asks of a carrier.

The carriers themselves (Twilio, the log provider) live in ``integrations.telephony``;
a job reaches the configured one through its context (``hotline.context``).
"""

from __future__ import annotations

from typing import Protocol


class PermanentSendError(RuntimeError):
    """The provider refused the message for good (a bad number, a blocked recipient):
    retrying cannot help."""


class TelephonyProvider(Protocol):
    name: str

    def send_sms(self, to: str, from_: str, body: str, effect_key: str) -> str:
        """Send one SMS; returns the provider's id for it.

        ``effect_key`` names the effect (the same for every retry of it): a provider
        that accepts a client-side message id should pass it, so that a retry after a
        lost answer is not sent twice. Raises ``PermanentSendError`` when retrying cannot
        help; any other exception means "try again later"."""
        ...

    def place_call(
        self, to: str, from_: str, twiml_url: str, effect_key: str, *, status_url: str | None = None
    ) -> str:
        """Place one call that plays the TwiML (or the carrier's equivalent) at
        ``twiml_url``; returns the provider's id. Errors as for ``send_sms``.

        With ``status_url`` the provider reports the call's end there (completed, busy,
        no-answer, failed, canceled) and tells whether a machine answered."""
        ...
