"""Domain errors. Each carries a stable code; the web layer maps the class to a status.

The message and the fields' messages are English templates (``hotline.i18n``) filled
with ``values`` (a field's message may be an ``i18n.Text`` with values of its own):
``message`` is the English sentence for logs, ``text(language)`` the sentence a person
reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotline import i18n


class DomainError(Exception):
    code = "domain_error"

    def __init__(
        self,
        template: str,
        *,
        code: str | None = None,
        fields: Mapping[str, str | i18n.Text] | None = None,
        **values: Any,
    ) -> None:
        self.template = template
        self.values = values
        self.message = i18n.translate(template, i18n.ENGLISH, **values)
        super().__init__(self.message)
        if code:
            self.code = code
        self.fields = dict(fields or {})

    def text(self, language: str) -> str:
        return i18n.translate(self.template, language, **self.values)

    def field_texts(self, language: str) -> dict[str, str]:
        """Each field's message: a plain template takes the error's values, a ``Text``
        its own."""
        return {
            name: m.render(language)
            if isinstance(m, i18n.Text)
            else i18n.translate(m, language, **self.values)
            for name, m in self.fields.items()
        }


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request is valid but the current state does not allow it."""

    code = "conflict"


class InvalidInput(DomainError):
    """The request refers to things that do not exist or are not allowed."""

    code = "invalid"


class InvalidQuery(DomainError):
    """A search's parameters are not ones it takes (answered 400, naming them)."""

    code = "invalid_query"


class NotAuthenticated(DomainError):
    code = "not_authenticated"


class Forbidden(DomainError):
    code = "forbidden"


class TooManyRequests(DomainError):
    """A public endpoint's rate limit was reached; ``retry_after`` is in seconds."""

    code = "too_many_requests"

    def __init__(self, template: str, *, retry_after: int, **values: Any) -> None:
        super().__init__(template, retry_after=retry_after, **values)
        self.retry_after = retry_after


class IllegalTransition(Conflict):
    code = "illegal_transition"
