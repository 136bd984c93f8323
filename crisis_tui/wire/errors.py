"""Errors as they cross the wire: the server's side of an error answer, and the client's.

The body is the CrisisError's own `to_json()` (`{"error": code, "detail": ...,
...its fields}`) with its `status_code`; `error_headers` adds what the body
cannot say, and `error_from_response` rebuilds the same error on the client,
so a ClaimConflict still names the holder and a DraftConflict still carries
the current draft.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from crisis_tui.errors import (
    ClaimConflict,
    CrisisError,
    DraftConflict,
    Forbidden,
    InvalidInput,
    NotFound,
    NoticeTaken,
    PayloadTooLarge,
    PublishFailed,
    RateLimited,
    StoreUnavailable,
    Unauthorized,
)
from crisis_tui.model import Draft

#: Seconds a client is told to wait after a 503 (a busy file, a full disk, a server stopping).
UNAVAILABLE_RETRY = 2

_SIMPLE: dict[str, type[CrisisError]] = {
    Unauthorized.code: Unauthorized,
    Forbidden.code: Forbidden,
    NotFound.code: NotFound,
    PayloadTooLarge.code: PayloadTooLarge,
    StoreUnavailable.code: StoreUnavailable,
    PublishFailed.code: PublishFailed,
}
_BY_STATUS: dict[int, type[CrisisError]] = {
    401: Unauthorized, 403: Forbidden, 404: NotFound, 413: PayloadTooLarge,
}


def error_headers(exc: CrisisError) -> dict[str, str]:
    """What an error answer says besides its body: when to retry, how to authenticate."""
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    elif exc.status_code == 503:
        headers["Retry-After"] = str(UNAVAILABLE_RETRY)
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="crisis-tui"'
    return headers


def error_from_response(status: int, content: bytes, where: str) -> CrisisError:
    """The CrisisError a JSON error body describes (or the closest one for its status)."""
    data: dict[str, Any] = {}
    try:
        decoded = msgspec.json.decode(content)
        if isinstance(decoded, dict):
            data = decoded
    except msgspec.DecodeError:
        pass
    code = data.get("error")
    detail = str(data.get("detail") or f"{where} answered HTTP {status}")
    try:
        if code == InvalidInput.code:
            return InvalidInput(str(data["field"]), str(data["problem"]))
        if code == ClaimConflict.code:
            return ClaimConflict(int(data["comment_id"]), data.get("holder"), str(data["status"]))
        if code == NoticeTaken.code:
            after = data.get("retry_after")
            return NoticeTaken(int(data["about_seq"]), detail, None if after is None else float(after))
        if code == DraftConflict.code:
            return DraftConflict(msgspec.convert(data["current"], Draft), int(data["based_on"]))
        if code == RateLimited.code or status == 429:
            return RateLimited(detail, float(data.get("retry_after", 1.0)))
    except (KeyError, TypeError, ValueError, msgspec.ValidationError):
        pass
    if isinstance(code, str) and code in _SIMPLE:
        return _SIMPLE[code](detail)
    if status in _BY_STATUS:
        return _BY_STATUS[status](detail)
    if status == 422:
        return InvalidInput("body", detail)
    if status >= 500:
        return StoreUnavailable(f"{where} failed: {detail}")
    return CrisisError(detail)
