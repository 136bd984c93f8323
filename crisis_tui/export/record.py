"""Everything an export needs, read once from the store: the whole log and the final state.

Every writer works from one `IncidentRecord`, so the json, csv, md and html
outputs of an export describe the very same moment. It is read through the
`IncidentStore` protocol, so a server incident exports like a local file.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from crisis_tui.model import Comment, Counts, Decision, Draft, Event, Incident, Note, Presence
from crisis_tui.store.protocol import IncidentStore

#: progress(phase, done, total): total is None when unknown. Called often; keep it cheap.
Progress = Callable[[str, int, "int | None"], None]
BATCH = 5000


def no_progress(phase: str, done: int, total: int | None) -> None:
    """The default progress sink: says nothing."""


class IncidentRecord(msgspec.Struct, kw_only=True):
    """One incident as an export sees it: the log (the truth) and its projections."""

    incident: Incident
    events: list[Event]
    comments: list[Comment]
    drafts: list[Draft]
    decisions: list[Decision]
    presence: list[Presence]
    notes: list[Note]
    counts: Counts


def notes_from(events: list[Event]) -> list[Note]:
    """Notes live in the log only (note.added); the store has no reader for them."""
    return [
        Note(id=int(e.payload.get("note_id", 0)), incident_id=e.incident_id, author=e.actor,
             text=str(e.payload.get("text", "")), at=e.ts)
        for e in events
        if e.kind == "note.added"
    ]


async def load_record(store: IncidentStore, incident_id: str, progress: Progress = no_progress) -> IncidentRecord:
    """Read the log in batches (reporting progress), then the final state."""
    incident = await store.get_incident(incident_id)
    events: list[Event] = []
    after = 0
    progress("reading the log", 0, None)
    while batch := await store.events_after(incident_id, after, BATCH):
        events.extend(batch)
        after = batch[-1].seq
        progress("reading the log", len(events), None)
        if len(batch) < BATCH:
            break
    progress("reading the final state", 0, None)
    comments = await store.comments(incident_id)
    record = IncidentRecord(
        incident=incident,
        events=events,
        comments=comments,
        drafts=await store.drafts(incident_id),
        decisions=await store.decisions(incident_id),
        presence=await store.presence(incident_id),
        notes=notes_from(events),
        counts=await store.counts(incident_id),
    )
    progress("reading the final state", 1, 1)
    return record
