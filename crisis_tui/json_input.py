"""Untrusted JSON in: decoded with the limits every source shares.

msgspec decodes nesting until Python's recursion limit and then raises
RecursionError, which is not a DecodeError: a body nested a few thousand deep
escaped every `except DecodeError` as a traceback (ingest) or a 500 (webhook).
Values that decode but sit deeper than `MAX_DEPTH` would fail later, when the
store encodes them into an event, so the comment shape checks `depth` too.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

#: Deepest nesting kept in a comment's unknown keys; real platform payloads stay under 10.
MAX_DEPTH = 32
T = TypeVar("T")
_decode = msgspec.json.Decoder().decode


class TooDeep(msgspec.DecodeError):
    """JSON nested deeper than msgspec (or we) will follow: a DecodeError like any other bad JSON."""


def decode(data: bytes | str) -> Any:
    """Decode untrusted JSON; nesting too deep is a DecodeError, never a RecursionError."""
    try:
        return _decode(data)
    except RecursionError:
        raise TooDeep("JSON nested too deep to read") from None


def decode_as(data: bytes | str, type_: type[T]) -> T:
    """Decode untrusted JSON into `type_` (msgspec validation errors pass through)."""
    try:
        return msgspec.json.decode(data, type=type_)
    except RecursionError:
        raise TooDeep("JSON nested too deep to read") from None


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests lists/objects more than `limit` deep (stops at the first too-deep branch)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return False
