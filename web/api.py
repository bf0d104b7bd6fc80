"""One registry of API operations: it builds the route table and the OpenAPI document
from the same declarations, so the two cannot drift apart."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar, get_args

from aiohttp import hdrs, web
from aiohttp.helpers import parse_mimetype
from aiohttp.multipart import MultipartReader
from multidict import MultiDict
from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from hotline.errors import InvalidInput
from hotline.users.models import Role
from hotline.vocabulary import OLD_NAME_NOTE, api_name, renamings
from web.auth import require_actor
from web.errors import BadRequest
from web.keys import REPLAYABLE

ViewHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)

_PATH_PARAM = re.compile(r"\{(\w+)(?::([^}]+))?\}")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}


@dataclass(frozen=True)
class ErrorShape:
    """How an operation's refusals look: the schema the OpenAPI document names for its
    4xx answers, and the wrapper that makes them (None: the error middleware's)."""

    name: str
    schema: dict[str, Any]
    wrap: Callable[[ViewHandler], ViewHandler] | None = None
    invalid_status: int = 422  # the status of invalid input


API_ERRORS = ErrorShape("Error", ERROR_SCHEMA)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


# PostgreSQL's bigint, the type of every id: a larger number can name nothing.
MAX_ID = 2**63 - 1


def _out_of_range(where: str) -> InvalidInput:
    return InvalidInput(
        "a value is out of range", code="out_of_range", fields={where or "body": "out of range"}
    )


def check_values(data: Any, where: str = "") -> None:
    """Refuse what PostgreSQL cannot store before it reaches the database: a NUL
    character in any text (``text`` refuses it), an integer outside ``bigint``, a
    datetime that has no year in UTC.
    ``data`` is a decoded body, query or form (dicts, lists, strings, numbers)."""
    if isinstance(data, str):
        if "\x00" in data:
            raise InvalidInput(
                "text may not contain NUL characters",
                code="nul_character",
                fields={where or "body": "contains a NUL character"},
            )
    elif isinstance(data, bool):
        return
    elif isinstance(data, int):
        if not -MAX_ID - 1 <= data <= MAX_ID:
            raise _out_of_range(where)
    elif isinstance(data, dt.datetime) and data.tzinfo is not None:
        try:  # stored in UTC: 9999-12-31T23:00-05:00 is in no year PostgreSQL takes
            data.astimezone(dt.UTC)
        except OverflowError as exc:
            raise _out_of_range(where) from exc
    elif isinstance(data, dict):
        for key, value in data.items():
            name = f"{where}.{key}" if where else str(key)
            check_values(str(key), name)
            check_values(value, name)
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            check_values(value, f"{where}.{index}" if where else str(index))


def parse_json(raw: bytes) -> Any:
    """``raw`` decoded as JSON; ``BadRequest`` for anything else, including nesting too
    deep for the parser (which would otherwise be a ``RecursionError``)."""
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("bad_json", "the body is not valid JSON") from exc
    except RecursionError as exc:
        raise BadRequest("bad_json", "the body is nested too deeply") from exc


async def read_body(request: web.Request, model: type[M]) -> M:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(reason="send the body as application/json")
    data = parse_json(await request.read())
    if not isinstance(data, dict):
        raise BadRequest("bad_json", "the body must be a JSON object")
    check_values(data)
    body = model.model_validate(data)
    # Again after validation: a number sent as a string is an int only now.
    check_values(body.model_dump(by_alias=True))
    return body


def _check_boundary(request: web.Request) -> None:
    """400 for a multipart body whose boundary is missing or unusable: aiohttp's reader
    would raise a bare ``KeyError`` or ``ValueError`` (a 500)."""
    boundary = parse_mimetype(request.headers.get(hdrs.CONTENT_TYPE, "")).parameters.get(
        "boundary", ""
    )
    if not 0 < len(boundary) <= 70:
        raise BadRequest("bad_form", "a multipart/form-data body needs a boundary")


async def multipart_reader(request: web.Request) -> MultipartReader:
    """The body's parts; 415 for another content type, 400 without a boundary. Reading
    the parts can still raise ``ValueError`` on a malformed body (see ``bad_form``)."""
    if request.content_type != "multipart/form-data":
        raise web.HTTPUnsupportedMediaType(reason="send the form as multipart/form-data")
    _check_boundary(request)
    return await request.multipart()


def bad_form(exc: ValueError) -> BadRequest:
    """The answer to a multipart body aiohttp cannot read."""
    return BadRequest("bad_form", "the form cannot be read: {detail}", detail=str(exc))


async def read_form(request: web.Request) -> MultiDict[str]:
    """A posted form's text fields (urlencoded or multipart; files are dropped), checked
    with ``check_values``."""
    if request.content_type.startswith("multipart/"):
        _check_boundary(request)
    try:
        posted = await request.post()  # bounded by the app's body limit (413 above it)
    except ValueError as exc:  # UnicodeDecodeError is one
        raise bad_form(exc) from exc
    form: MultiDict[str] = MultiDict((k, v) for k, v in posted.items() if isinstance(v, str))
    check_values(list(form.keys()), "form")
    for name, value in form.items():
        check_values(value, name)
    return form


def query_names(model: type[BaseModel]) -> dict[str, list[str]]:
    """Each query parameter of ``model``: the API's name → its old names (a renamed one's,
    accepted until the next release)."""
    old = {canonical: names for canonical, names in renamings(model).values()}
    return {
        name: old.get(name, [])
        for name in (api_name(model, attribute) for attribute in model.model_fields)
    }


def read_query(request: web.Request, model: type[M]) -> M:
    names = query_names(model)
    data: dict[str, Any] = {}
    for attribute, info in model.model_fields.items():
        canonical = api_name(model, attribute)
        is_list = getattr(info.annotation, "__origin__", None) is list
        for name in (canonical, *names[canonical]):
            values = request.query.getall(name, [])
            if values:
                data[name] = (
                    [v for raw in values for v in raw.split(",") if v] if is_list else values[-1]
                )
    unknown = set(request.query) - {
        n for canonical, old in names.items() for n in (canonical, *old)
    }
    if unknown:
        raise InvalidInput(
            "unknown query parameters",
            code="invalid",
            fields={name: "not a parameter here" for name in sorted(unknown)},
        )
    query = model.model_validate(data)
    check_values(query.model_dump(by_alias=True))
    return query


def check_url(request: web.Request) -> None:
    """No NUL character in the path's parameters or the query (both arrive decoded)."""
    for name, value in request.match_info.items():
        check_values(value, name)
    for name, value in request.query.items():
        check_values(name, name)
        check_values(value, name)


def path_int(request: web.Request, name: str) -> int:
    """The path's id ``name``; 404 for one that no row can have (not a number, zero, or
    beyond ``bigint``), as for any id that names nothing."""
    try:
        value = int(request.match_info[name])
    except ValueError as exc:
        raise web.HTTPNotFound() from exc
    if not 1 <= value <= MAX_ID:
        raise web.HTTPNotFound()
    return value


class ListLimit(BaseModel):
    """The query of a list that takes only a page size."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=100, ge=1, le=500)


@dataclass
class Operation:
    method: str
    path: str
    handler: ViewHandler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    public: bool = False
    roles: frozenset[Role] | None = None
    statuses: dict[int, str] = field(default_factory=dict)
    replayable: bool = False
    errors: ErrorShape = API_ERRORS
    uploads: dict[str, Any] | None = None

    @property
    def openapi_path(self) -> str:
        return _PATH_PARAM.sub(r"{\1}", self.path)


class Routes:
    """The operations one views module declares with ``@routes.route(...)``. Declaring
    serves nothing: an application serves the tables its composition root includes in
    its ``Api`` (``wiring/app.py``)."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        public: bool = False,
        roles: frozenset[Role] | None = None,
        statuses: dict[int, str] | None = None,
        replayable: bool = False,
        errors: ErrorShape = API_ERRORS,
        uploads: dict[str, Any] | None = None,
    ) -> Callable[[ViewHandler], ViewHandler]:
        """``replayable``: running the operation twice for one request does it once (the
        deliveries it takes are deduplicated), so it may be run again even when its
        connection was lost during the commit (``web/reconnect.py``). ``errors``' wrapper,
        if any, wraps the whole operation (the URL check and the role check too).
        ``uploads``: the body is multipart/form-data, this JSON schema its fields (read by
        hand with ``multipart_reader``)."""

        def register(handler: ViewHandler) -> ViewHandler:
            async def guarded(request: web.Request) -> web.StreamResponse:
                check_url(request)
                if not public:
                    require_actor(request, roles)
                return await handler(request)

            self.operations.append(
                Operation(
                    method,
                    path,
                    guarded if errors.wrap is None else errors.wrap(guarded),
                    summary,
                    tag,
                    body,
                    query,
                    public,
                    roles,
                    statuses or {200: "OK"},
                    replayable,
                    errors,
                    uploads,
                )
            )
            return handler

        return register


class Api:
    """The operations one application serves: its route table and its OpenAPI document."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def include(self, *tables: Routes) -> None:
        for table in tables:
            self.operations.extend(table.operations)

    def add_routes(self, app: web.Application) -> None:
        replayable = set()
        for op in self.operations:
            route = app.router.add_route(op.method, op.path, op.handler)
            if op.replayable:
                replayable.add(route)
        app[REPLAYABLE] = frozenset(replayable)

    def openapi(self, base_url: str) -> dict[str, Any]:
        schemas: dict[str, Any] = {}
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            spec: dict[str, Any] = {
                "summary": op.summary,
                "tags": [op.tag],
                "operationId": f"{op.method.lower()}_{op.openapi_path}",
            }
            params = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", **({"pattern": f"^{regex}$"} if regex else {})},
                }
                for name, regex in _PATH_PARAM.findall(op.path)
            ]
            if op.query is not None:
                names = query_names(op.query)
                for attribute, info in op.query.model_fields.items():
                    canonical = api_name(op.query, attribute)
                    params.append(
                        {
                            "name": canonical,
                            "in": "query",
                            "required": False,
                            "description": info.description or "",
                            "schema": _query_schema(info),
                        }
                    )
                    params += [
                        {
                            "name": old,
                            "in": "query",
                            "required": False,
                            "deprecated": True,
                            "description": OLD_NAME_NOTE.format(canonical=canonical),
                            "schema": _query_schema(info),
                        }
                        for old in names[canonical]
                    ]
            if params:
                spec["parameters"] = params
            if op.body is not None:
                schemas[op.body.__name__] = _schema(op.body, schemas)
                spec["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}
                        }
                    },
                }
            if op.uploads is not None:
                spec["requestBody"] = {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": op.uploads}},
                }
            schemas[op.errors.name] = op.errors.schema
            error = {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{op.errors.name}"}}
            }
            responses: dict[str, Any] = {
                str(code): {"description": text, **({"content": error} if code >= 400 else {})}
                for code, text in op.statuses.items()
            }
            for code, text in _errors(op).items():
                responses.setdefault(str(code), {"description": text, "content": error})
            if not op.public:
                spec["security"] = [{"session": []}, {"apiKey": []}]
            spec["responses"] = responses
            paths.setdefault(op.openapi_path, {})[op.method.lower()] = spec
        return {
            "openapi": "3.1.0",
            "info": {"title": "hotline API", "version": "1"},
            "servers": [{"url": base_url}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "session": {"type": "apiKey", "in": "cookie", "name": "hotline_session"},
                    "apiKey": {"type": "http", "scheme": "bearer"},
                },
            },
        }


def _query_schema(info: FieldInfo) -> dict[str, Any]:
    """A query parameter's schema: an integer (with its bounds) or a boolean where the
    model reads one, else a string (lists are comma-separated strings)."""
    kinds = set(get_args(info.annotation)) - {type(None)} or {info.annotation}
    if kinds == {bool}:
        return {"type": "boolean"}
    if kinds != {int}:
        return {"type": "string"}
    schema: dict[str, Any] = {"type": "integer"}
    for bound in info.metadata:  # Field(ge=..., le=...) keeps them as Ge and Le
        if (low := getattr(bound, "ge", None)) is not None:
            schema["minimum"] = low
        if (high := getattr(bound, "le", None)) is not None:
            schema["maximum"] = high
    return schema


def _errors(op: Operation) -> dict[int, str]:
    """The refusals ``op`` can answer besides its own ``statuses``."""
    errors = {
        400: "the request cannot be read",
        op.errors.invalid_status: "invalid input (a NUL character in the path or query too)",
        503: "the database connection was lost mid-request (`Retry-After`)",
    }
    if op.body or op.uploads is not None:
        errors |= {413: "the body is too large", 415: "the body's content type is wrong"}
    if not op.public or op.path.startswith("/api/"):
        errors[401] = "not signed in, or an unknown API key"
    if not op.public or op.method != "GET":
        # A public POST too: another site's Origin, or a session without its CSRF token.
        errors[403] = "not allowed (role, user, CSRF token or Origin)"
    if "{" in op.path:
        errors[404] = "not found (or not yours: the same answer)"
    if op.body or op.uploads is not None or op.method != "GET":
        errors |= {404: "something named in the request is not found", 409: "conflict"}
    return errors


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    return schema
