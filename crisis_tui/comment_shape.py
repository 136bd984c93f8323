"""The native comment shape: one JSON object per comment, validated field by field.

Every source (JSONL files, the webhook, CSV and feeds once mapped) ends up here,
so a bad comment is refused with the same precise reason wherever it came from.
Unknown keys are kept in `extra`, never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from crisis_tui.errors import InvalidInput
from crisis_tui.json_input import MAX_DEPTH, depth_exceeds
from crisis_tui.model import NewComment
from crisis_tui.safe_text import storable

#: Largest comment text stored, in UTF-8 bytes. Long reviews and e-mails are real;
#: anything larger is refused with a reason rather than silently cut.
MAX_TEXT_BYTES = 128 * 1024
MAX_SHORT = 512
MAX_URL = 2048
MAX_EXTRA_BYTES = 16 * 1024
#: Largest count stored: SQLite's INTEGER is 64-bit signed.
MAX_COUNT = 2**63 - 1
#: Times are kept between the epoch and the year 3000: a year-10000 or year-0 date
#: would only break the room's clock and the exports later.
LATEST_TIME = 32503680000.0

KNOWN_KEYS = frozenset(
    {
        "source", "id", "author", "text", "posted_at", "lang", "url", "likes",
        "shares", "replies", "author_followers", "author_following",
        "author_created_at", "author_verified", "in_reply_to",
    }
)


#: Epoch numbers are told apart by magnitude: below 1e11 they are seconds (1e11 s is
#: the year 5138, past the range kept), below 1e14 milliseconds, below 1e17
#: microseconds (Bluesky's `time_us`), below 1e20 nanoseconds. The price: a time in
#: milliseconds before 1973-03-03 (1e11 ms) would read as seconds; none of the
#: platforms' comments are that old.
EPOCH_UNITS: tuple[tuple[float, float, str], ...] = (
    (1e11, 1.0, "seconds"), (1e14, 1e3, "milliseconds"), (1e17, 1e6, "microseconds"), (1e20, 1e9, "nanoseconds"),
)


def epoch_seconds(value: float, field: str) -> float:
    """An epoch number in seconds, its unit told by magnitude (EPOCH_UNITS); 1970 to 3000 only."""
    if isinstance(value, int) and not 0 <= value < EPOCH_UNITS[-1][0]:
        # a whole number beyond a float's range (10**400) must not reach float arithmetic
        raise InvalidInput(field, f"epoch time out of range: {_digits(value) if value >= 0 else '-' + _digits(-value)}")
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(field, f"epoch time out of range: {value!r:.40}")
    for below, per_second, unit in EPOCH_UNITS:
        if value < below:
            seconds = value / per_second
            if seconds >= LATEST_TIME:
                raise InvalidInput(field, f"epoch {unit} out of range: {value!r:.40}")
            return float(seconds)
    raise InvalidInput(field, f"epoch time out of range: {value!r:.40}")


def parse_time(value: Any, field: str) -> float | None:
    """ISO 8601 (naive means UTC) or an epoch number, as epoch seconds.

    An epoch number may be seconds, milliseconds, microseconds or nanoseconds:
    the unit is told by magnitude (see EPOCH_UNITS), so `1789120800000` is
    2026-09-11, not 1789. Whatever the unit, the time must fall between
    1970-01-01 and 3000-01-01, or it is refused with its field named.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput(field, "must be an ISO 8601 time or an epoch number, got a boolean")
    if isinstance(value, (int, float)):
        return epoch_seconds(value, field)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(field, f"not an ISO 8601 time: {value[:40]!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            seconds = moment.timestamp()
        except (OverflowError, ValueError):
            seconds = -1.0
        if not 0 <= seconds < LATEST_TIME:
            raise InvalidInput(field, f"{value[:40]!r} is outside 1970-01-01 to 3000-01-01")
        return seconds
    raise InvalidInput(field, f"must be an ISO 8601 time or an epoch number, got {type(value).__name__}")


def _string(raw: dict[str, Any], key: str, *, required: bool = False, cap: int = MAX_SHORT) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise InvalidInput(key, "is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(key, f"must be a string, got {type(value).__name__}")
    text = storable(str(value))
    if required and not text.strip():
        raise InvalidInput(key, "must not be empty")
    if len(text) > cap:
        raise InvalidInput(key, f"is {len(text)} characters, the limit is {cap}")
    return text


def _digits(value: int) -> str:
    text = str(value) if value < 10**40 else f"{str(value)[:12]}… ({len(str(value))} digits)"
    return text


#: Counts that may be negative because a platform sends them so: `likes` holds a net
#: score where that is what there is (Reddit's `score` goes below zero). Counts of
#: things (shares, replies, followers, following) never do.
SIGNED_COUNTS = frozenset({"likes"})


def _count(raw: dict[str, Any], key: str, *, optional: bool = False) -> int | None:
    value = raw.get(key)
    if value is None:
        return None if optional else 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(key, f"must be a whole number, got {value!r:.40}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(key, f"must be a whole number, got {value!r:.40}")
    if value < -MAX_COUNT:
        shown = f"{value:.3g}" if isinstance(value, float) else "-" + _digits(-value)
        raise InvalidInput(key, f"{shown} is below the smallest count (-{MAX_COUNT:,})")
    if value > MAX_COUNT:
        shown = f"{value:.3g}" if isinstance(value, float) else _digits(value)
        raise InvalidInput(key, f"{shown} is larger than the largest count ({MAX_COUNT:,})")
    if value != int(value):
        raise InvalidInput(key, f"must be a whole number, got {value!r:.40}")
    if value < 0 and key not in SIGNED_COUNTS:
        raise InvalidInput(key, f"must not be negative, got {int(value)}")
    return int(value)


def _storable_value(value: Any) -> Any:
    """Unknown keys with lone surrogates or NULs (valid JSON, not storable) keep them as U+FFFD, like known ones."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [_storable_value(item) for item in value]
    if isinstance(value, dict):
        return {storable(k) if isinstance(k, str) else k: _storable_value(v) for k, v in value.items()}
    return value


def parse_comment(raw: Any) -> NewComment:
    """Validate one comment in the native shape; raise InvalidInput naming the field."""
    if not isinstance(raw, dict):
        raise InvalidInput("comment", f"must be a JSON object, got {type(raw).__name__}")
    source = _string(raw, "source", required=True, cap=32).strip().lower()
    external_id = _string(raw, "id", required=True, cap=256)
    author = _string(raw, "author", required=True, cap=256)
    text = raw.get("text")
    if text is None:
        raise InvalidInput("text", "is required")
    if not isinstance(text, str):
        raise InvalidInput("text", f"must be a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT_BYTES:  # cheap pre-check before encoding a huge payload
        raise InvalidInput("text", f"is over {len(text):,} characters, the limit is {MAX_TEXT_BYTES:,} bytes")
    text = storable(text)
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise InvalidInput("text", f"is {size:,} bytes, the limit is {MAX_TEXT_BYTES:,} bytes")
    if not text.strip():
        raise InvalidInput("text", "must not be empty")
    verified = raw.get("author_verified", False)
    if not isinstance(verified, bool):
        raise InvalidInput("author_verified", f"must be true or false, got {verified!r:.40}")
    extra = {k: v for k, v in raw.items() if k not in KNOWN_KEYS}
    if extra:
        if depth_exceeds(extra, MAX_DEPTH - 1):
            raise InvalidInput("comment", f"unknown keys nest more than {MAX_DEPTH} levels deep")
        extra = _storable_value(extra)
        if len(msgspec.json.encode(extra)) > MAX_EXTRA_BYTES:
            raise InvalidInput("comment", f"unknown keys take over {MAX_EXTRA_BYTES:,} bytes")
    return NewComment(
        source=source,
        external_id=external_id,
        author=author,
        text=text,
        lang=_string(raw, "lang", cap=16).lower(),
        posted_at=parse_time(raw.get("posted_at"), "posted_at"),
        url=_string(raw, "url", cap=MAX_URL),
        likes=_count(raw, "likes") or 0,
        shares=_count(raw, "shares") or 0,
        replies=_count(raw, "replies") or 0,
        author_followers=_count(raw, "author_followers", optional=True),
        author_following=_count(raw, "author_following", optional=True),
        author_created_at=parse_time(raw.get("author_created_at"), "author_created_at"),
        author_verified=verified,
        in_reply_to=_string(raw, "in_reply_to", cap=256),
        extra=extra,
    )


_plain = msgspec.json.Encoder().encode


def storable_comments(comments: Sequence[NewComment]) -> Sequence[NewComment]:
    """The batch as the record keeps it: a NUL or a lone surrogate in any of a comment's strings as
    U+FFFD, as `parse_comment` makes them. The store's ingest runs this for every caller: a drill's
    scripted or replayed comments (a replayed export of an older file may hold a NUL) never pass
    intake, and on PostgreSQL a NUL failed the whole batch. One encode of the batch finds nothing to
    change in the usual case (0.5 us a comment)."""
    try:
        if b"\\u0000" not in _plain(comments):
            return comments
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for it
        pass
    return [msgspec.convert(_storable_value(msgspec.to_builtins(c)), type(c)) for c in comments]
