"""Answers and errors as JSON, encoded with msgspec (structs go out unchanged)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from crisis_tui.errors import CrisisError
from crisis_tui.wire.errors import error_headers

_encode = msgspec.json.Encoder().encode


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encode(content)


def ok(content: Any, status_code: int = 200) -> Response:
    return JSONResponse(content, status_code=status_code)


def error(exc: CrisisError) -> Response:
    """{"error": code, "detail": one line, ...the error's own fields} with its status."""
    return JSONResponse(exc.to_json(), status_code=exc.status_code, headers=error_headers(exc))


def plain_error(status_code: int, code: str, detail: str) -> Response:
    return JSONResponse({"error": code, "detail": detail}, status_code=status_code)
