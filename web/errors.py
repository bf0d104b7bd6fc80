"""Every error leaves as ``{"error": {"code", "message", "fields"}}`` with a fitting status."""

from __future__ import annotations

import json
import logging
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from hotline import db, i18n
from hotline.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from web.keys import SETTINGS

log = logging.getLogger(__name__)

# What a client is told to wait after the database connection was lost.
DATABASE_RETRY_SECONDS = 2


class BadRequest(Exception):
    """The request itself cannot be read (for example a body that is not JSON); the
    message is a template with its values, as a domain error's."""

    def __init__(self, code: str, template: str, **values: Any) -> None:
        super().__init__(i18n.translate(template, i18n.ENGLISH, **values))
        self.code = code
        self.template = template
        self.values = values


_STATUS: list[tuple[type[DomainError], int]] = [
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
]


def status_of(exc: DomainError) -> int:
    """The HTTP status a domain error is answered with."""
    return next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}

LANGUAGE: web.RequestKey[str] = web.RequestKey("language", str)


def language(request: web.Request) -> str:
    """The language the request asked for (``Accept-Language``), Chinese by default."""
    if LANGUAGE not in request:
        request[LANGUAGE] = i18n.negotiate(request.headers.get("Accept-Language"))
    return request[LANGUAGE]


def error_response(
    request: web.Request,
    status: int,
    code: str,
    template: str,
    fields: dict[str, str] | None = None,
    **values: Any,
) -> web.Response:
    """The error body, its message and fields' messages in the request's language."""
    lang = language(request)
    fields = {name: i18n.translate(message, lang) for name, message in (fields or {}).items()}
    return _error(status, code, i18n.translate(template, lang, **values), fields)


def _error(status: int, code: str, message: str, fields: dict[str, str]) -> web.Response:
    body = {"error": {"code": code, "message": message, "fields": fields}}
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def validation_fields(exc: ValidationError, lang: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(name, i18n.ValidationText(error).render(lang))
    return fields


def _domain_error_response(request: web.Request, status: int, exc: DomainError) -> web.Response:
    lang = language(request)
    return _error(status, exc.code, exc.text(lang), exc.field_texts(lang))


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except TooManyRequests as exc:
        response = _domain_error_response(request, 429, exc)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except DomainError as exc:
        return _domain_error_response(request, status_of(exc), exc)
    except BadRequest as exc:
        return error_response(request, 400, exc.code, exc.template, **exc.values)
    except ValidationError as exc:
        lang = language(request)
        message = i18n.translate("the request has invalid fields", lang)
        return _error(422, "invalid", message, validation_fields(exc, lang))
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SETTINGS].max_body_bytes
        return error_response(
            request,
            413,
            "body_too_large",
            "the request body is larger than {limit} bytes",
            limit=limit,
        )
    except web.HTTPException as exc:
        # The API's callers and the exchange's platforms are programs: they get JSON.
        if exc.status < 400 or not request.path.startswith(("/api/", "/exchange/")):
            raise
        return error_response(
            request, exc.status, _HTTP_CODES.get(exc.status, "http_error"), exc.reason
        )
    except HttpProcessingError as exc:
        # A body aiohttp cannot parse while the handler reads it (a multipart part's
        # headers with control characters, say): the client's fault, not a 500.
        return error_response(
            request, 400, "bad_request", "the request cannot be read: {detail}", detail=exc.message
        )
    except asyncpg.exceptions.UniqueViolationError as exc:
        # A race the checks could not see (two requests at once): a conflict, not a 500.
        return error_response(
            request, 409, "conflict", "that already exists", {"detail": exc.detail or ""}
        )
    except Exception as exc:
        if not db.lost_connection(exc):
            raise
        # web/reconnect.py tried once already, or the request had asked for a commit.
        log.warning("%s %s: the database connection was lost", request.method, request.path)
        response = error_response(
            request,
            503,
            "database_unavailable",
            "the database could not be reached; try again shortly",
        )
        response.headers["Retry-After"] = str(DATABASE_RETRY_SECONDS)
        return response


class _MalformedRequestFilter(logging.Filter):
    """aiohttp logs a request its HTTP parser refuses (an overlong line, a bad header) at
    error level with a traceback, before any middleware runs: one line at warning level
    is enough, and keeps a flood of them from flooding the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg, record.args = "refused a malformed request: %s", (exc.message,)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_malformed_requests() -> None:
    """Install the filter on aiohttp's server log (once per process)."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _MalformedRequestFilter) for f in server_log.filters):
        server_log.addFilter(_MalformedRequestFilter())
