"""The event and comments rows of a batch of arriving comments, built with little Python each.

Ingest is the one write that comes by the thousand, and building its rows was a third of its
cost. Here the batch is taken apart into columns once (msgspec.structs.astuple, transposed) and
every row, struct and text is made by C loops over those columns (map, zip, one encode_lines for a
column of extras); the only Python loop left is the hash chain, which is sequential by nature.

The payload is the comment with the two fields the store adds (its id and arrival time), encoded
from a struct whose fields are the comment's in sorted order (`_Payload`): the bytes, and so the
hashes, are exactly `encode_payload({"comment": {...}})`'s (tests/test_arrivals.py). Its `extra`
and `bot_reasons` go in as msgspec.Raw of their sorted encoding, which for `extra` is also the
row's text. This replaced splicing the id and arrival time into each comment's sorted encoding at
the keys found around them (the sorted encoder sorting the struct's fields on every call, an rfind,
a find, a join of seven pieces): 35,000 against 30,000 instructions a comment besides SHA-256
(callgrind, bench/store.py's comments in batches of 1000; the hash is the same 24,000 in both).

The row's `extra` is its JSON with sorted keys, as a replay of the log writes it (projector.arrived_row
reads it back from the sorted payload): written in the order the platform sent its keys, as it was
until now, `verify` found every such comment differing from the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

import msgspec

from crisis_tui import events as ev
from crisis_tui.model import NewComment, waiting_since
from crisis_tui.store.projector import minute_rows

#: The kind of the one event ingest writes without building a body.
INGESTED = ev.kind_of(ev.CommentIngested)
#: The comments columns in the order of a NewComment's fields, then the three the store adds: a row
#: is the struct's values in order, two of them turned to JSON text (and its flag to 0 or 1), and
#: the comment's clock (model.waiting_since, schema migration 12).
ARRIVAL_COLUMNS: tuple[str, ...] = (
    "source", "external_id", "author", "text", "lang", "posted_at", "url", "likes", "shares", "replies",
    "author_followers", "author_following", "author_created_at", "author_verified", "in_reply_to", "extra",
    "priority", "negativity", "bot_score", "bot_reasons", "cluster", "id", "incident_id", "received_at", "since",
)
INSERT_ARRIVAL = (f"INSERT INTO comments ({', '.join(ARRIVAL_COLUMNS)}) "
                  f"VALUES ({', '.join('?' for _ in ARRIVAL_COLUMNS)})")
_FIELDS = tuple(f.name for f in msgspec.structs.fields(NewComment))
assert _FIELDS == ARRIVAL_COLUMNS[:-4]
_VERIFIED, _EXTRA, _REASONS = (_FIELDS.index(name) for name in ("author_verified", "extra", "bot_reasons"))
_POSTED, _NEGATIVITY = _FIELDS.index("posted_at"), _FIELDS.index("negativity")

#: A CommentIngested body's comment with its keys in the order the sorted encoder writes them, so
#: that the plain encoder writes its bytes (no field is sorted on every encode); gc=False: nothing
#: it holds can make a cycle, and a thousand of them a batch need not be tracked.
_PAYLOAD_FIELDS = tuple(sorted((*_FIELDS, "id", "received_at")))
_Payload = msgspec.defstruct("_Payload", [(name, Any) for name in _PAYLOAD_FIELDS], gc=False)
#: The body around it: {"comment": ...}.
_Body = msgspec.defstruct("_Body", [("comment", Any)], gc=False)

_sorted_lines = msgspec.json.Encoder(order="sorted").encode_lines
# "deterministic" keeps a struct's fields in their order and still sorts any dict a wrongly typed
# field might hold, as the sorted encoder would. One encode a comment (a C loop over the batch), not
# one encode_lines for the batch split at its newlines: bytes.split reads byte by byte (0.61 against
# 0.74 us a comment).
_encode_payload = msgspec.json.Encoder(order="deterministic").encode
_plain_lines = msgspec.json.Encoder().encode_lines
_astuple = msgspec.structs.astuple
_sha256 = hashlib.sha256
_Raw = msgspec.Raw
_key = attrgetter("source", "external_id")
_source, _external_id = itemgetter(0), itemgetter(1)


class Arrivals(msgspec.Struct, kw_only=True):
    """The rows of one ingest batch, for two executemany calls and the minutes' upserts."""

    event_rows: list[tuple[Any, ...]]
    comment_rows: list[tuple[Any, ...]]
    #: The hash of the batch's last event (the chain's new head).
    head: str
    #: projector.COUNT_MINUTES' rows for the batch (projector.minute_rows).
    minutes: list[tuple[Any, ...]] = []


def arrival_rows(incident_id: str, actor: str, now: float, first_id: int, prev: str,
                 comments: Iterable[NewComment]) -> Arrivals:
    """The rows of `comments`, numbered from `first_id`, all received at `now`, chained after `prev`.

    Each event is (incident_id, ts, actor, kind, payload, prev_hash, hash) as INSERT_EVENT takes it,
    each comment row is in ARRIVAL_COLUMNS' order (INSERT_ARRIVAL)."""
    # A subclass's own fields (a Comment's id, status...) come after a NewComment's, and are not the batch's.
    columns = list(zip(*map(_astuple, comments), strict=False))[:len(_FIELDS)]
    if not columns:
        return Arrivals(event_rows=[], comment_rows=[], head=prev)
    n = len(columns[0])
    ids = range(first_id, first_id + n)
    extras = _json_texts(columns[_EXTRA], _sorted_lines, "{}")
    payload_columns: dict[str, Iterable[Any]] = dict(zip(_FIELDS, columns, strict=True))
    payload_columns["extra"] = map(_Raw, extras)
    payload_columns["bot_reasons"] = map(_Raw, _json_texts(columns[_REASONS], _sorted_lines, "[]"))
    payload_columns["id"] = ids
    payload_columns["received_at"] = repeat(now, n)
    bodies = list(map(_encode_payload, map(_Body, map(_Payload, *(payload_columns[f] for f in _PAYLOAD_FIELDS)))))
    hashes = _chained(prev, f"\n{incident_id}\n{now!r}\n{actor}\n{INGESTED}\n", bodies)
    event_rows = list(zip(repeat(incident_id, n), repeat(now, n), repeat(actor, n), repeat(INGESTED, n), bodies,
                          [prev, *hashes[:-1]], hashes, strict=True))
    since = list(map(waiting_since, columns[_POSTED], repeat(now, n)))
    comment_rows = list(zip(
        *columns[:_VERIFIED], map(int, columns[_VERIFIED]), *columns[_VERIFIED + 1:_EXTRA], extras,
        *columns[_EXTRA + 1:_REASONS], _json_texts(columns[_REASONS], _plain_lines, "[]"), *columns[_REASONS + 1:],
        ids, repeat(incident_id, n), repeat(now, n), since, strict=True))
    return Arrivals(event_rows=event_rows, comment_rows=comment_rows, head=hashes[-1],
                    minutes=minute_rows(incident_id, zip(since, columns[_NEGATIVITY], strict=True)))


def _chained(prev: str, tail: str, bodies: list[bytes]) -> list[str]:
    """Each body's eventlog.chain_hash after the one before it, the first after `prev`; `tail` is the
    hash's head after the previous hash, the same for the whole batch."""
    hashes: list[str] = []
    add = hashes.append
    head = prev.encode()
    after = tail.encode("utf-8", "surrogatepass")
    for body in bodies:
        digest = _sha256(head + after + body).hexdigest()
        add(digest)
        head = digest.encode()
    return hashes


def _json_texts(values: Sequence[Any], encode_lines: Any, empty: str) -> list[str]:
    """Each value's JSON text, from one encode for the whole column (`empty` for all when none holds anything)."""
    if not any(values):
        return [empty] * len(values)
    return encode_lines(values).decode().split("\n")[:-1]


def wanted_keys(comments: Sequence[NewComment]) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    """Each comment's (source, external id), and the external ids by source (what the duplicate
    check looks up, one source at a time), by C loops for the usual batch: one platform's."""
    keys = list(map(_key, comments))
    sources = set(map(_source, keys))
    if len(sources) == 1:
        return keys, {sources.pop(): set(map(_external_id, keys))}
    by_source: dict[str, set[str]] = {source: set() for source in sources}
    for source, external_id in keys:
        by_source[source].add(external_id)
    return keys, by_source


def unseen(comments: Sequence[NewComment], keys: list[tuple[str, str]], existing: set[tuple[str, str]]
           ) -> list[NewComment]:
    """The comments whose key (`keys`, in the same order) is neither `existing` nor an earlier one's of
    the batch: the first of two equal keys is the one kept."""
    if not existing and len(set(keys)) == len(keys):
        return list(comments)
    seen = set(existing)
    fresh: list[NewComment] = []
    for new, key in zip(comments, keys, strict=True):
        if key not in seen:
            seen.add(key)
            fresh.append(new)
    return fresh
