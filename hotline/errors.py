"""Domain errors. Each carries a stable code; the web layer maps the class to a status."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request is valid but the current state does not allow it."""

    code = "conflict"


class InvalidInput(DomainError):
    """The request refers to things that do not exist or are not allowed."""

    code = "invalid"


class NotAuthenticated(DomainError):
    code = "not_authenticated"


class Forbidden(DomainError):
    code = "forbidden"


class TooManyRequests(DomainError):
    """A public endpoint's rate limit was reached; ``retry_after`` is in seconds."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IllegalTransition(Conflict):
    code = "illegal_transition"
