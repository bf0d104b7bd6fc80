"""GeoReport v2 errors: ``[{"code": <HTTP status>, "description": "..."}]`` with that status.

The application's error middleware speaks ``{"error": {...}}``; Open311 clients expect
the spec's list, so Open311 handlers are wrapped in ``spec_errors`` instead.
"""

from __future__ import annotations

import functools
import json

from aiohttp import web
from pydantic import ValidationError

from hotline import i18n
from hotline.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from web.api import ErrorShape, ViewHandler
from web.errors import BadRequest, language, validation_fields

# Everything else a domain error can be (invalid input above all) is the spec's 400.
_STATUS: list[tuple[type[DomainError], int]] = [
    (NotAuthenticated, 403),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
]


class BodyTooLarge(Exception):
    """The request body is larger than an Open311 request may be."""


def spec_error(status: int, descriptions: list[str]) -> web.Response:
    body = [{"code": status, "description": text} for text in descriptions]
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _descriptions(exc: DomainError, lang: str) -> list[str]:
    fields = exc.field_texts(lang)
    return [f"{name}: {text}" for name, text in fields.items()] or [exc.text(lang)]


def spec_errors(handler: ViewHandler) -> ViewHandler:
    """Answer every refusal of ``handler`` in the spec's error format."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        lang = language(request)
        try:
            return await handler(request)
        except TooManyRequests as exc:
            response = spec_error(429, [exc.text(lang)])
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except DomainError as exc:
            status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)
            return spec_error(status, _descriptions(exc, lang))
        except BadRequest as exc:
            return spec_error(400, [i18n.translate(exc.template, lang, **exc.values)])
        except ValidationError as exc:
            fields = validation_fields(exc, lang)
            return spec_error(400, [f"{name}: {text}" for name, text in fields.items()])
        except BodyTooLarge as exc:
            return spec_error(413, [str(exc)])
        except web.HTTPRequestEntityTooLarge:
            return spec_error(413, ["the request body is too large"])
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return spec_error(exc.status, [exc.reason])

    return wrapped


SPEC_ERRORS = ErrorShape(
    "GeoReportErrors",
    {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        },
    },
    spec_errors,
    invalid_status=400,
)
