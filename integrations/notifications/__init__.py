"""Status notifications: SMS to the caller when the order is dispatched, completed and
before the callback, configured per hotline and channel.

``settings`` the configuration and its checks, the quiet hours; ``service`` the
decisions (outbox handlers, the callbacks' call before a survey, the outbound job's
outcome) and the administrators' changes; ``queries`` all SQL; ``views`` the admin API.
"""
