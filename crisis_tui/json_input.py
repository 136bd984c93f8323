"""Untrusted JSON in: decoded with the limits every source shares.

msgspec decodes nesting until Python's recursion limit and then raises
RecursionError, which is not a DecodeError: a body nested a few thousand deep
escaped every `except DecodeError` as a traceback (ingest) or a 500 (webhook).
Values that decode but sit deeper than `MAX_DEPTH` would fail later, when the
store encodes them into an event, so the comment shape checks `depth` too.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

#: Deepest nesting kept in a comment's unknown keys; real platform payloads stay under 10.
MAX_DEPTH = 32
T = TypeVar("T")
#: An escaped backslash (kept), an escaped surrogate pair (kept), or an escaped lone surrogate.
_ESCAPES = re.compile(rb"(\\\\)|(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class TooDeep(msgspec.DecodeError):
    """JSON nested deeper than msgspec (or we) will follow: a DecodeError like any other bad JSON."""


def _keep(match: re.Match[bytes]) -> bytes:
    return match[0] if match[1] or match[2] else b"\\ufffd"


def without_lone_surrogates(data: bytes | str) -> bytes | None:
    """`data` with each escaped lone surrogate (`\\ud800`, valid JSON but not
    encodable as UTF-8, which msgspec refuses) as U+FFFD; None when it has none."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if b"\\u" not in raw:
        return None
    fixed = _ESCAPES.sub(_keep, raw)
    return None if fixed == raw else fixed


def decode(data: bytes | str) -> Any:
    """Decode untrusted JSON; nesting too deep is a DecodeError, never a RecursionError,
    and an escaped lone surrogate becomes U+FFFD."""
    return decode_as(data, Any)


def decode_as(data: bytes | str, type_: type[T]) -> T:
    """Decode untrusted JSON into `type_` (msgspec validation errors pass through)."""
    try:
        try:
            return msgspec.json.decode(data, type=type_)
        except msgspec.ValidationError:
            raise
        except msgspec.DecodeError:
            fixed = without_lone_surrogates(data)
            if fixed is None:
                raise
            return msgspec.json.decode(fixed, type=type_)
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
