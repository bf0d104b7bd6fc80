"""Telephony: Twilio voice and SMS intake, call records, outbound messages.

``views`` takes Twilio's signed webhooks (``webhooks`` checks signatures and keeps each
delivery once) and the agents' call API; ``intake`` does what each webhook means
(calls, the menu, the queue, recorded messages and SMS become call rows and draft
orders), answering with TwiML from ``voice``. Other subsystems queue SMS and calls with
``outbound``; the relay's ``outbound`` source and ``jobs`` send them through a
``provider`` (Twilio, a log, or a domestic carrier later). All SQL is in ``queries``.
"""
