"""`GET /openapi.json`: the API as an OpenAPI 3.1 document, built from the routes themselves.

Every ApiRoute says its role, body, answer and query (crisis_tui.server.route_doc);
the schemas of bodies and answers are msgspec's own JSON Schema of the
crisis_tui.wire and crisis_tui.model structs, which is exactly what the server
decodes and encodes. docs/API.md is the prose of the same table
(tests/test_openapi.py checks that every route is in both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec
from starlette.routing import BaseRoute

from crisis_tui.server.paths import ID_DIGITS
from crisis_tui.server.route_doc import PAGE, ApiRoute, Doc, Query
from crisis_tui.server.settings import ServerSettings
from crisis_tui.wire import MAX_ID

_REF = "#/components/schemas/{name}"
_PARAM = re.compile(r"\{([a-z_]+)(?::([a-z]+))?\}")
_ERROR: dict[str, Any] = {
    "title": "Error",
    "description": "Every error: a code, one line saying what is wrong, and the fields its code adds.",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "unauthorized, forbidden, not_found, claim_conflict, "
                                                   "draft_conflict, too_large, invalid, rate_limited, unavailable, ..."},
        "detail": {"type": "string"},
        "field": {"type": "string", "description": "invalid: the field, e.g. comments[2].posted_at"},
        "problem": {"type": "string", "description": "invalid: what is wrong with it"},
        "retry_after": {"type": "number", "description": "rate_limited: seconds to wait"},
        "comment_id": {"type": "integer"},
        "holder": {"type": ["string", "null"]},
        "status": {"type": "string"},
        "based_on": {"type": "integer"},
        "current": {"$ref": "#/components/schemas/Draft"},
    },
}
_ERRORS = {
    401: "no token, not Bearer, or an unknown or revoked token",
    403: "the token's role or seats may not do this, or the store's own guard refuses",
    404: "no such incident, comment, draft or decision",
    409: "the comment is held by someone else, or the draft changed since the version read",
    413: "the body is over the server's max_body",
    422: "bad JSON, a missing, unknown or wrong field, or a number out of range",
    429: "over the token's request rate, or its cap of open event streams",
    503: "the server is stopping, or its file is busy, full, read-only or damaged",
}
_RETRY_AFTER = {"Retry-After": {"required": True, "description": "seconds to wait before retrying",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}


def _api_routes(routes: Iterable[BaseRoute]) -> list[ApiRoute]:
    return [r for r in routes if isinstance(r, ApiRoute)]


def _types(doc: Doc) -> list[Any]:
    found = [t for t in (doc.body, doc.answer, *doc.other_bodies.values()) if t is not None and not isinstance(t, dict)]
    return found


def _number(q: Query, settings: ServerSettings, where: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": q.low,
                              "maximum": settings.page_max if q.high == PAGE else (q.high if q.high is not None
                                                                                   else MAX_ID)}
    return {"name": q.name, "in": where, "required": False, "description": q.description, "schema": schema}


def _parameters(route: ApiRoute, settings: ServerSettings) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, convertor in _PARAM.findall(route.path):
        if convertor == "id":
            schema: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 10**ID_DIGITS - 1}
        else:
            schema = {"type": "string", "minLength": 1}
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    out.extend(_number(q, settings, "query") for q in route.doc.query)
    for h in route.doc.headers:
        out.append({"name": h.name, "in": "header", "required": False, "description": h.description,
                    "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"}})
    return out


def _error_codes(doc: Doc, route: ApiRoute) -> list[int]:
    codes: list[int] = []
    if doc.role is not None:
        codes += [401, 403]
    if doc.incident or "{" in route.path:
        codes.append(404)
    if doc.conflict:
        codes.append(409)
    if doc.body is not None:
        codes.append(413)
    if doc.role is not None:
        codes += [422, 429, 503]
    return codes


def _operation(route: ApiRoute, schema_of: dict[Any, Any], settings: ServerSettings) -> dict[str, Any]:
    doc = route.doc
    answer = doc.answer if isinstance(doc.answer, dict) else schema_of[doc.answer]
    content: dict[str, Any] = {"application/json": {"schema": answer}}
    if doc.stream:
        content["text/event-stream"] = {"schema": {"type": "string"},
                                        "description": "with Accept: text/event-stream, the live stream"}
    responses: dict[str, Any] = {str(doc.status): {"description": doc.summary, "content": content}}
    for code in _error_codes(doc, route):
        responses[str(code)] = {"description": _ERRORS[code],
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        if code in (429, 503):
            responses[str(code)]["headers"] = _RETRY_AFTER
    op: dict[str, Any] = {
        "summary": doc.summary + (f" ({doc.role} token)" if doc.role else " (no token)"),
        "operationId": route.method.lower() + re.sub(r"[^a-z]+", "_", openapi_path(route.path)).rstrip("_"),
        "security": [{"bearer": []}] if doc.role else [],
        "parameters": _parameters(route, settings),
        "responses": responses,
    }
    if doc.body is not None:
        bodies = {"application/json": {"schema": schema_of[doc.body]}}
        bodies.update({media: {"schema": schema_of[t]} for media, t in doc.other_bodies.items()})
        op["requestBody"] = {"required": True, "content": bodies}
    return op


def openapi_path(path: str) -> str:
    """A Starlette path as OpenAPI writes it: `{comment_id:id}` -> `{comment_id}`."""
    return _PARAM.sub(r"{\1}", path)


def document(routes: Iterable[BaseRoute], settings: ServerSettings) -> dict[str, Any]:
    api = _api_routes(routes)
    types = list(dict.fromkeys(t for r in api for t in _types(r.doc)))
    schemas, components = msgspec.json.schema_components(types, ref_template=_REF)
    schema_of = dict(zip(types, schemas, strict=True))
    components["Error"] = _ERROR
    paths: dict[str, dict[str, Any]] = {}
    for route in api:
        paths.setdefault(openapi_path(route.path), {})[route.method.lower()] = _operation(route, schema_of, settings)
    return {
        "openapi": "3.1.0",
        "info": {"title": "crisis-tui serve", "version": "1",
                 "description": "The HTTP API of `crisis-tui serve` (docs/API.md says the same in prose)."},
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "a token from crisis-tui token create"}}},
    }
