"""The event and comments rows of a batch of arriving comments, built with little Python each.

Ingest is the one write that comes by the thousand, and building its rows was a third of its
cost: a dict per comment (msgspec.to_builtins), its keys sorted on every encode, a second pass
over the dict for the comments row. Here each comment is encoded once, straight from its struct
(the sorted encoder sorts a struct's fields as it would a dict's keys), and the two fields the
store adds (its id and arrival time) are spliced in at their sorted places: the stored bytes, and
so the hashes, are exactly `encode_payload({"comment": {...}})`'s (tests/test_arrivals.py).
What depends only on the batch (the arrival time's bytes, the head of every hash) is built once.

The row's `extra` is its JSON with sorted keys, as a replay of the log writes it (projector.arrived_row
reads it back from the sorted payload): written in the order the platform sent its keys, as it was
until now, `verify` found every such comment differing from the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec

from crisis_tui import events as ev
from crisis_tui.model import NewComment, waiting_since

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
assert tuple(f.name for f in msgspec.structs.fields(NewComment)) == ARRIVAL_COLUMNS[:-4]

_encode = msgspec.json.Encoder(order="sorted").encode
_json = msgspec.json.encode
_sha256 = hashlib.sha256
# In sorted order "id" comes just before "in_reply_to" and "received_at" just before "replies". Only
# scalars and strings follow "in_reply_to", and a JSON string holds no bare quote, so its last
# occurrence is the comment's own field, never a key inside `extra` or words in a text; "replies"
# is the first such key after it.
_BEFORE_ID = b',"in_reply_to":'
_BEFORE_RECEIVED = b',"replies":'


class Arrivals(msgspec.Struct, kw_only=True):
    """The rows of one ingest batch, for two executemany calls."""

    event_rows: list[tuple[Any, ...]]
    comment_rows: list[tuple[Any, ...]]
    #: The hash of the batch's last event (the chain's new head).
    head: str


def arrival_rows(incident_id: str, actor: str, now: float, first_id: int, prev: str,
                 comments: Iterable[NewComment]) -> Arrivals:
    """The rows of `comments`, numbered from `first_id`, all received at `now`, chained after `prev`.

    Each event is (incident_id, ts, actor, kind, payload, prev_hash, hash) as INSERT_EVENT takes it,
    each comment row is in ARRIVAL_COLUMNS' order (INSERT_ARRIVAL)."""
    # chain_hash's head, less the previous hash that starts it (eventlog.chain_hash)
    tail = f"\n{incident_id}\n{now!r}\n{actor}\n{INGESTED}\n".encode("utf-8", "surrogatepass")
    received = b',"received_at":' + _encode(now)
    event_rows: list[tuple[Any, ...]] = []
    comment_rows: list[tuple[Any, ...]] = []
    add_event, add_comment = event_rows.append, comment_rows.append
    next_id = first_id
    for new in comments:
        fields = _encode(new)
        at_id = fields.rfind(_BEFORE_ID)
        at_received = fields.find(_BEFORE_RECEIVED, at_id)
        body = b"".join((b'{"comment":', fields[:at_id], b',"id":', str(next_id).encode(),
                         fields[at_id:at_received], received, fields[at_received:], b"}"))
        digest = _sha256(prev.encode() + tail + body).hexdigest()
        add_event((incident_id, now, actor, INGESTED, body, prev, digest))
        extra, reasons = new.extra, new.bot_reasons
        add_comment((new.source, new.external_id, new.author, new.text, new.lang, new.posted_at, new.url,
                     new.likes, new.shares, new.replies, new.author_followers, new.author_following,
                     new.author_created_at, 1 if new.author_verified else 0, new.in_reply_to,
                     _encode(extra).decode() if extra else "{}", new.priority, new.negativity, new.bot_score,
                     _json(reasons).decode() if reasons else "[]", new.cluster, next_id, incident_id, now,
                     waiting_since(new.posted_at, now)))
        prev = digest
        next_id += 1
    return Arrivals(event_rows=event_rows, comment_rows=comment_rows, head=prev)
