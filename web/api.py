"""One registry of API operations: it builds the route table and the OpenAPI document
from the same declarations, so the two cannot drift apart."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.errors import InvalidInput
from hotline.users.models import Role
from hotline.vocabulary import OLD_NAME_NOTE, api_name, renamings
from web.auth import require_actor
from web.errors import BadRequest
from web.keys import REPLAYABLE

ViewHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)

_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]+)?\}")

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


async def read_body(request: web.Request, model: type[M]) -> M:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(reason="send the body as application/json")
    try:
        raw = await request.read()
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("bad_json", "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("bad_json", "the body must be a JSON object")
    return model.model_validate(data)


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
    return model.model_validate(data)


def path_int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError as exc:
        raise web.HTTPNotFound() from exc


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
    ) -> Callable[[ViewHandler], ViewHandler]:
        """``replayable``: running the operation twice for one request does it once (the
        deliveries it takes are deduplicated), so it may be run again even when its
        connection was lost during the commit (``web/reconnect.py``)."""

        def register(handler: ViewHandler) -> ViewHandler:
            async def guarded(request: web.Request) -> web.StreamResponse:
                if not public:
                    require_actor(request, roles)
                return await handler(request)

            self.operations.append(
                Operation(
                    method,
                    path,
                    guarded,
                    summary,
                    tag,
                    body,
                    query,
                    public,
                    roles,
                    statuses or {200: "OK"},
                    replayable,
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
        schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            spec: dict[str, Any] = {
                "summary": op.summary,
                "tags": [op.tag],
                "operationId": f"{op.method.lower()}_{op.openapi_path}",
            }
            params = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in _PATH_PARAM.findall(op.path)
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
                            "schema": {"type": "string"},
                        }
                    )
                    params += [
                        {
                            "name": old,
                            "in": "query",
                            "required": False,
                            "deprecated": True,
                            "description": OLD_NAME_NOTE.format(canonical=canonical),
                            "schema": {"type": "string"},
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
            responses: dict[str, Any] = {
                str(code): {"description": text} for code, text in op.statuses.items()
            }
            errors = [400, 413, 422] if op.body else [400]
            if not op.public:
                errors += [401, 403]
            if "{" in op.path or op.body:
                errors += [404, 409]
            for code in errors:
                responses[str(code)] = {
                    "description": "error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
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


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    return schema
