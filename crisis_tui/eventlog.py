"""The hash chain that makes the event log tamper-evident.

Each event's hash covers the previous event's hash (of the same incident) and
the event's own fields, with the payload in one canonical JSON encoding (sorted
keys, msgspec). The seq is left out on purpose: it is global to a file, and an
incident imported into another file must keep the same hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec

from crisis_tui.model import Event

GENESIS = "0" * 64
_encoder = msgspec.json.Encoder(order="sorted")


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The canonical bytes of a payload: what is stored and what is hashed."""
    return _encoder.encode(payload)


def chain_hash(prev_hash: str, incident_id: str, ts: float, actor: str, kind: str, payload: bytes) -> str:
    head = f"{prev_hash}\n{incident_id}\n{ts!r}\n{actor}\n{kind}\n".encode("utf-8", "surrogatepass")
    return hashlib.sha256(head + payload).hexdigest()


class ChainBreak(msgspec.Struct, kw_only=True):
    seq: int
    reason: str


def verify_chain(rows: Iterable[tuple[int, str, float, str, str, bytes, str, str]]) -> tuple[int, ChainBreak | None]:
    """Check (seq, incident, ts, actor, kind, payload bytes, prev_hash, hash) rows in seq order.

    Returns how many events were checked and the first break, if any.
    """
    expected_prev = GENESIS
    checked = 0
    for seq, incident_id, ts, actor, kind, payload, prev_hash, stored in rows:
        if prev_hash != expected_prev:
            return checked, ChainBreak(
                seq=seq, reason="its previous-hash does not match the event before it (an event was removed or reordered)"
            )
        if chain_hash(prev_hash, incident_id, ts, actor, kind, payload) != stored:
            return checked, ChainBreak(seq=seq, reason="its content does not match its hash (it was altered)")
        expected_prev = stored
        checked += 1
    return checked, None


def event_from_row(row: tuple[Any, ...], *, raw_values: bool = False) -> Event:
    """An Event from (seq, incident_id, ts, actor, kind, payload, prev_hash, hash).

    The stored bytes stay on the event until its body is first read, which then
    decodes them straight into the typed body (crisis_tui.events.decode_stored):
    cheaper than converting the payload dict, and free for readers (the server
    relaying events) that never look at the body. A payload that is not a JSON
    object becomes an empty payload whose body is a BrokenEvent keeping the text.

    `raw_values` keeps the payload's values as their stored JSON (msgspec.Raw), for
    the export, which only re-encodes payloads (verbatim) and reads bodies: a full
    decode of 100k payloads it never reads cost a third of an md export.
    """
    seq, incident_id, ts, actor, kind, stored, prev_hash, hash_ = row
    try:
        payload = (_decode_raw_values if raw_values else _decode_object)(stored)
    except (msgspec.DecodeError, msgspec.ValidationError):
        payload = {}
    event = Event(seq=seq, incident_id=incident_id, ts=ts, actor=actor, kind=kind, payload=payload,
                  prev_hash=prev_hash, hash=hash_)
    event.__dict__["stored"] = stored
    return event


_decode_object = msgspec.json.Decoder(dict[str, Any]).decode
_decode_raw_values = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
