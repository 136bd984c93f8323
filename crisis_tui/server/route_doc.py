"""What each route is, for the OpenAPI document: its role, body, answer and query.

The routes carry their own description (an `ApiRoute` is a Starlette Route
with a `Doc`), so a route cannot be added without saying what it takes and
answers, and `/openapi.json` is built from the very table the app serves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

#: `high` of a page size: the server's page_max, known only when the document is built.
PAGE = -1


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    low: int = 0
    high: int | None = None


@dataclass(frozen=True)
class Doc:
    summary: str
    #: The least token role; None for a route that takes no token.
    role: str | None = "viewer"
    #: The request body's type (a crisis_tui.wire struct), or None.
    body: Any = None
    #: Other media types of the body, with their types.
    other_bodies: dict[str, Any] = field(default_factory=dict)
    #: The answer's type (a crisis_tui.model struct, a list of them, ...), or an inline JSON schema.
    answer: Any = None
    status: int = 200
    query: Sequence[Query] = ()
    headers: Sequence[Query] = ()
    #: Also answers `text/event-stream` (the live stream).
    stream: bool = False
    #: Also answers 409 (someone holds the comment, the draft moved on).
    conflict: bool = False
    #: Touches an incident (so an unknown one is 404).
    incident: bool = True


class ApiRoute(Route):
    """A Route that says what it is (see Doc)."""

    def __init__(self, path: str, endpoint: Callable[[Request], Awaitable[Response]], *, method: str, doc: Doc) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.method = method
        self.doc = doc
