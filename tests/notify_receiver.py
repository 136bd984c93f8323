"""A JSON webhook receiver on loopback, as Apprise's json:// posts to one: it records each body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crisis_tui.server.background import BackgroundServer


class Receiver:
    """`/ok/NAME` takes a notification, `/down/NAME` answers 500 (a target that fails)."""

    def __init__(self) -> None:
        self.got: dict[str, list[dict[str, Any]]] = {}

        async def ok(request: Request) -> JSONResponse:
            self.got.setdefault(request.path_params["name"], []).append(json.loads(await request.body()))
            return JSONResponse({"ok": True})

        async def down(request: Request) -> JSONResponse:
            return JSONResponse({"error": "down"}, status_code=500)

        self.server = BackgroundServer(Starlette(routes=[Route("/ok/{name}", ok, methods=["POST"]),
                                                          Route("/down/{name}", down, methods=["POST"])]))

    def start(self) -> str:
        return self.server.start()

    def url(self, path: str) -> str:
        """The Apprise URL of a path here (json:// posts the message as JSON)."""
        return f"json://127.0.0.1:{self.server.port}/{path}"

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A started Receiver, stopped after the test (import it with Receiver)."""
    made = Receiver()
    made.start()
    try:
        yield made
    finally:
        made.stop()
