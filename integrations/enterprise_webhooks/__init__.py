"""Signed outbound webhooks to enterprise systems, delivered once per effect.

The outbox handler (``handlers``) turns a ``dispatch.created`` effect into a
``webhook_deliveries`` row inside the outbox transaction; the relay claims due rows
(``delivery.webhook_source``) and the job (``delivery.deliver_webhook``) sends each one,
outside any transaction, to a destination ``addresses`` allows, signed by ``signing``.
``views`` lets an administrator configure an enterprise's URL and see its deliveries.
"""
