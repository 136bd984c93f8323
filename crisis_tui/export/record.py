"""Everything an export needs, read once from the store: the whole log and the final state.

Every writer works from one `IncidentRecord`, so the json, csv, md and html
outputs of an export describe the very same moment. It is read through the
`IncidentStore` protocol, so a server incident exports like a local file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec

from crisis_tui.log_head import Head, head_of
from crisis_tui.model import Comment, Counts, Decision, Draft, Event, Incident, Note, Presence
from crisis_tui.store.protocol import IncidentStore

#: progress(phase, done, total): total is None when unknown. Called often; keep it cheap.
Progress = Callable[[str, int, "int | None"], None]
BATCH = 5000


def no_progress(phase: str, done: int, total: int | None) -> None:
    """The default progress sink: says nothing."""


class IncidentRecord(msgspec.Struct, kw_only=True):
    """One incident as an export sees it: the log (the truth) and its projections.

    `comments` (as the log leaves them, see `comments_from`) and `drafts` are
    only filled when the format prints them (json, csv): the evaluation
    document works from the log and skips that cost.
    """

    incident: Incident
    events: list[Event]
    comments: list[Comment]
    drafts: list[Draft]
    decisions: list[Decision]
    presence: list[Presence]
    notes: list[Note]
    counts: Counts

    @property
    def head(self) -> Head:
        """The newest event the export was made from (see crisis_tui.log_head)."""
        return head_of([e.hash for e in self.events])


def notes_from(events: list[Event]) -> list[Note]:
    """Notes live in the log only (note.added); the store has no reader for them."""
    return [
        Note(id=int(e.payload.get("note_id", 0)), incident_id=e.incident_id, author=e.actor,
             text=str(e.payload.get("text", "")), at=e.ts)
        for e in events
        if e.kind == "note.added"
    ]


def comments_from(events: list[Event], incident_id: str) -> list[Comment]:
    """Every comment as the log leaves it: its arrival payload, then what later events did
    to its status, holder and tags (the same rules as crisis_tui.store.projector).

    Four times faster than reading the comments table back at 100k comments, and
    a test holds it equal to the store's projection.
    """
    found: dict[int, Comment] = {}
    convert = msgspec.convert
    for e in events:
        kind, p = e.kind, e.payload
        if kind == "comment.ingested":
            arrived = p["comment"]
            arrived["incident_id"] = incident_id  # borrowed for the conversion, given back below
            try:
                comment = convert(arrived, Comment)
            finally:
                del arrived["incident_id"]
            found[comment.id] = comment
            continue
        if kind == "draft.status":
            if p.get("status") == "sent" and p.get("comment_id") in found:
                found[p["comment_id"]].status = "answered"
            continue
        if not kind.startswith("comment."):
            continue
        c = found.get(p.get("comment_id"))  # type: ignore[arg-type]
        if c is None:
            continue
        if kind == "comment.claimed":
            c.status, c.holder = "claimed", p.get("holder")
        elif kind == "comment.released":
            c.status, c.holder = "new", None
        elif kind == "comment.status":
            c.status = p.get("status", "new")
            if c.status == "new":
                c.holder = None
        elif kind == "comment.tagged":
            c.tags = list(p.get("tags", []))
    return list(found.values())


def counts_of(comments: list[Comment]) -> Counts:
    """The header's counts for these comments (what SqliteStore.counts computes in SQL)."""
    counts = Counts()
    for c in comments:
        if hasattr(counts, c.status):
            setattr(counts, c.status, getattr(counts, c.status) + 1)
        counts.total += 1
        if c.status in ("new", "claimed", "escalated") and (
            counts.oldest_unanswered_at is None or c.received_at < counts.oldest_unanswered_at
        ):
            counts.oldest_unanswered_at = c.received_at
    return counts


def _decode(rows: list[tuple[Any, ...]]) -> list[Event]:
    decode = msgspec.json.Decoder(dict[str, Any]).decode
    return [
        Event(seq=seq, incident_id=inc, ts=ts, actor=actor, kind=kind, payload=decode(payload),
              prev_hash=prev_hash, hash=digest)
        for seq, inc, ts, actor, kind, payload, prev_hash, digest in rows
    ]


async def read_events(store: IncidentStore, incident_id: str, progress: Progress = no_progress) -> list[Event]:
    """The whole log in seq order (see `load_record` for the fast path)."""
    progress("reading the log", 0, None)
    raw_events = getattr(store, "raw_events", None)
    if raw_events is not None:
        events = _decode(await raw_events(incident_id))
        progress("reading the log", len(events), len(events))
        return events
    events = []
    after = 0
    # Until an empty page: a server may hand out smaller pages than asked for.
    while batch := await store.events_after(incident_id, after, BATCH):
        events.extend(batch)
        after = batch[-1].seq
        progress("reading the log", len(events), None)
    return events


class _State(msgspec.Struct):
    drafts: list[Draft]
    decisions: list[Decision]
    presence: list[Presence]
    counts: Counts


async def _read_state(store: IncidentStore, incident_id: str, with_state: bool) -> _State:
    return _State(
        drafts=await store.drafts(incident_id) if with_state else [],
        decisions=await store.decisions(incident_id),
        presence=await store.presence(incident_id),
        counts=await store.counts(incident_id),
    )


async def load_record(
    store: IncidentStore, incident_id: str, progress: Progress = no_progress, *, with_state: bool = True
) -> IncidentRecord:
    """Read the log, then the final state (comments and drafts only `with_state`).

    A store that offers its stored rows (`raw_events`, as SqliteStore does for
    verify) gives the whole log in one query; the payloads are decoded here with
    one reused decoder while the store's own thread already reads the final
    state, which at 100k events takes a third of the time of `events_after`
    batches followed by the state.
    """
    incident = await store.get_incident(incident_id)
    raw_events = getattr(store, "raw_events", None)
    if raw_events is None:
        events = await read_events(store, incident_id, progress)
        progress("reading the final state", 0, 1)
        state = await _read_state(store, incident_id, with_state)
    else:
        progress("reading the log", 0, None)
        rows = await raw_events(incident_id)
        reading = asyncio.ensure_future(_read_state(store, incident_id, with_state))
        await asyncio.sleep(0)  # the state's first query is on its way before decoding starts
        events = _decode(rows)
        progress("reading the log", len(events), len(events))
        progress("reading the final state", 0, 1)
        state = await reading
    comments = comments_from(events, incident_id) if with_state else []
    record = IncidentRecord(
        incident=incident, events=events, comments=comments, drafts=state.drafts,
        decisions=state.decisions, presence=state.presence, notes=notes_from(events),
        # counted from the same log as the comments, so the two agree even while the room writes
        counts=counts_of(comments) if with_state else state.counts,
    )
    progress("reading the final state", 1, 1)
    return record
