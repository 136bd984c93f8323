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

from crisis_tui import events as ev
from crisis_tui.eventlog import event_from_row
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
        Note(id=e.body.note_id, incident_id=e.incident_id, author=e.actor, text=e.body.text, at=e.ts)
        for e in events
        if isinstance(e.body, ev.NoteAdded)
    ]


def comments_from(events: list[Event], incident_id: str) -> list[Comment]:
    """Every comment as the log leaves it: its arrival, then what later events did to its
    status, holder and tags (the same rules as crisis_tui.store.projector).

    Faster than reading the comments table back at 100k comments, and a test
    holds it equal to the store's projection.
    """
    found: dict[int, Comment] = {}
    fields = msgspec.structs.asdict
    for e in events:
        body = e.body
        if isinstance(body, ev.CommentIngested):
            comment = Comment(**fields(body.comment), incident_id=incident_id)
            found[comment.id] = comment
        elif isinstance(body, ev.DraftMoved):
            if body.status == "sent" and body.comment_id is not None and body.comment_id in found:
                found[body.comment_id].status = "answered"
        elif isinstance(body, ev.CommentChange):
            c = found.get(body.comment_id)
            if c is None:
                continue
            match body:
                case ev.CommentClaimed(holder=holder):
                    c.status, c.holder = "claimed", holder
                case ev.CommentReleased() | ev.ClaimLapsed():
                    c.status, c.holder = "new", None
                case ev.CommentHandedOver(holder=holder):
                    c.status, c.holder = "claimed", holder
                case ev.CommentMarked(status=status):
                    c.status = status
                    if status == "new":
                        c.holder = None
                case ev.CommentTagged(tags=tags):
                    c.tags = list(tags)
    return list(found.values())


def counts_of(comments: list[Comment]) -> Counts:
    """The header's counts for these comments (what SqliteStore.counts computes in SQL)."""
    counts = Counts()
    for c in comments:
        if hasattr(counts, c.status):
            setattr(counts, c.status, getattr(counts, c.status) + 1)
        counts.total += 1
        if c.status in ("new", "claimed", "escalated") and (
            counts.oldest_unanswered_at is None or c.since < counts.oldest_unanswered_at
        ):
            counts.oldest_unanswered_at = c.since
    return counts


def _decode(rows: list[tuple[Any, ...]]) -> list[Event]:
    """The log for the writers: bodies decoded from the stored bytes, payloads kept raw
    (the writers only re-encode them, byte for byte)."""
    return [event_from_row(row, raw_values=True) for row in rows]


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
    verify) gives the whole log in one query; the payloads are decoded here
    (eventlog.event_from_row) while the store's own thread already reads the final
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
