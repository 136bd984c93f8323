"""A run of stored comment.ingested rows decoded in a few C calls instead of an event at a time.

At a million comments the json export spent most of its time on per-event Python: each payload
was decoded into a dict of msgspec.Raw only so that the page could be re-encoded, its body was
decoded again, and the comment's JSON was spliced together from the arrival's. Here a run of
consecutive comment.ingested rows is joined into one JSON array and decoded twice in one call
each: once to cut every payload's `comment` value out raw, once into `Arrival`, a struct with a
`Comment`'s fields in its order, so that encoding it gives the comment's line in the state.

Both shortcuts hold only where they give the very bytes of the event-by-event path, and `decode`
returns None wherever it cannot vouch for that (the caller then takes that path):

- an event's payload is written as its stored bytes when they are exactly `{"comment":` + the
  value + `}` (the only key, no space, no escape in its name): what re-encoding the decoded
  payload gives; the lengths prove it (any other spelling of such an object is longer);
- `Arrival` reads what `ArrivedComment` reads but the keys only a Comment has (incident_id,
  status, holder and tags: ArrivedComment ignores them, Arrival takes them), so a run is taken
  only when they all hold their defaults, given or not (looking for the keys in the bytes cost
  more than the decoding).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import msgspec

from crisis_tui import events as ev
from crisis_tui.model import NewComment

INGESTED = ev.kind_of(ev.CommentIngested)
#: The fields a Comment has and an ArrivedComment has not (but its tags, checked apart).
_COMMENT_ONLY = attrgetter("incident_id", "status", "holder")
_TAGS = attrgetter("tags")
#: len(b'{"comment":') + len(b'}')
_WRAPPING = 12


class StoredEvent(msgspec.Struct, gc=False):
    """An `Event` whose payload is its stored bytes: the same fields in the same order, so the
    same JSON as an Event whose payload re-encodes to those bytes."""

    seq: int
    incident_id: str
    ts: float
    actor: str
    kind: str
    payload: msgspec.Raw
    prev_hash: str
    hash: str


class _Cut(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    comment: msgspec.Raw


_cut = msgspec.json.Decoder(list[_Cut]).decode
_value = attrgetter("comment")
#: What the fold reads of each arrival, in one C call a comment.
columns_of = attrgetter("id", "received_at", "posted_at", "negativity", "author", "source")


def arrival_type(incident_id: str) -> type[msgspec.Struct]:
    """A struct with a `Comment`'s fields in its order, `incident_id` defaulting to this incident's
    and status, holder and tags to a fresh comment's: `Comment(**asdict(c), incident_id=...)`."""
    fields: list[Any] = [
        (f.name, f.type) if f.required
        else (f.name, f.type, f.default if f.default_factory is msgspec.NODEFAULT
              else msgspec.field(default_factory=f.default_factory))
        for f in msgspec.structs.fields(NewComment)
    ]
    fields += [("id", int), ("incident_id", str, incident_id), ("received_at", float),
               ("status", str, "new"), ("holder", str | None, None), ("tags", list[str], [])]
    return msgspec.defstruct("Arrival", fields, kw_only=True, gc=False)


class Run(msgspec.Struct, gc=False):
    """A run of arrivals: its events to write and its comments, in log order."""

    events: list[StoredEvent]
    comments: list[Any]


class RunDecoder:
    """Decodes runs of one incident's comment.ingested rows (see the module docstring)."""

    def __init__(self, incident_id: str) -> None:
        arrival = arrival_type(incident_id)
        wrapped = msgspec.defstruct("Ingested", [("comment", arrival)], gc=False)
        self._decode = msgspec.json.Decoder(list[wrapped]).decode  # type: ignore[valid-type]
        self._fresh = {(incident_id, "new", None)}

    def decode(self, rows: list[tuple[Any, ...]]) -> Run | None:
        """The run of these (seq, incident_id, ts, actor, kind, payload, prev_hash, hash) rows of
        comment.ingested, or None where only the event-by-event path gives the export's bytes."""
        seqs, incidents, stamps, actors, kinds, payloads, prevs, hashes = zip(*rows, strict=True)
        try:
            joined = b"[" + b",".join(payloads) + b"]"
            cut = _cut(joined)
            comments = list(map(_value, self._decode(joined)))
        except (TypeError, msgspec.DecodeError, msgspec.ValidationError):  # TypeError: a payload stored as text
            return None
        if set(map(_COMMENT_ONLY, comments)) != self._fresh or any(map(_TAGS, comments)):
            return None
        stored = len(joined) - len(rows) - 1  # the payloads' bytes, without the brackets and commas
        if stored != sum(map(len, map(_value, cut))) + _WRAPPING * len(rows):
            return None
        events = list(map(StoredEvent, seqs, incidents, stamps, actors, kinds, map(msgspec.Raw, payloads),
                          prevs, hashes))
        return Run(events=events, comments=comments)
