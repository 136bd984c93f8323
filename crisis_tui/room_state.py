"""The room's in-memory projection: what the four panes render.

The sync worker feeds it the incident's state once (comments, drafts,
decisions, presence) and then every event from the log; the comment rows and
their order live in crisis_tui.comment_index, the timeline lines in
crisis_tui.room_timeline. Plain Python, no Textual, so it is tested alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from crisis_tui.comment_index import CommentIndex
from crisis_tui.comment_rows import ROW_AUTHOR, ROW_TEXT, UNANSWERED, Filter, Order, Row
from crisis_tui.model import Decision, Draft, Event, Presence
from crisis_tui.room_timeline import TimelineEntry, TimelineFold

__all__ = [
    "ROW_AUTHOR", "ROW_TEXT", "UNANSWERED", "Changes", "Filter", "Order", "RoomState", "Row", "TimelineEntry",
]


@dataclass
class Changes:
    """What one batch of events changed, so the screen repaints only those panes."""

    comments: bool = False
    new_comments: list[Row] = field(default_factory=list)
    changed_ids: set[int] = field(default_factory=set)
    drafts: set[int] = field(default_factory=set)
    decisions: bool = False
    presence: bool = False
    timeline: bool = False
    incident: bool = False
    alerts: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.comments or self.drafts or self.decisions or self.presence or self.timeline or self.incident)

class RoomState(CommentIndex, TimelineFold):
    """Comments, drafts, decisions, presence and the timeline of one incident."""

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.drafts: dict[int, Draft] = {}
        self._reply_draft: dict[int, int] = {}  # comment id -> its newest reply draft id
        self.decisions: dict[int, Decision] = {}
        self.presence: dict[str, Presence] = {}
        self.timeline: list[TimelineEntry] = []
        self.last_seq = 0
        self.title = ""
        self.severity = ""
        self.opened_at = 0.0
        self.our_fault = False
        self.status = "open"
        #: "live", or "reconnecting" while a server is out of reach (shown in the header).
        self.connection = "live"
    # ------------------------------------------------------------ other state
    def load_drafts(self, drafts: Iterable[Draft]) -> None:
        for d in drafts:
            self._add_draft(d)

    def _add_draft(self, d: Draft) -> None:
        self.drafts[d.id] = d
        if d.kind == "reply" and d.comment_id is not None and d.id >= self._reply_draft.get(d.comment_id, 0):
            self._reply_draft[d.comment_id] = d.id

    def load_decisions(self, decisions: Iterable[Decision]) -> None:
        self.decisions = {d.id: d for d in decisions}

    def load_presence(self, people: Iterable[Presence]) -> None:
        self.presence = {p.name: p for p in people}

    def draft_for(self, comment_id: int) -> Draft | None:
        """The newest reply draft for a comment (None when withdrawn or none)."""
        did = self._reply_draft.get(comment_id)
        draft = self.drafts.get(did) if did is not None else None
        return draft if draft is not None and draft.status != "withdrawn" else None

    def statements(self) -> list[Draft]:
        return [d for d in self.drafts.values() if d.kind == "statement"]

    def present(self, gone_after: float, now: float | None = None) -> list[Presence]:
        """Members in the room: not left, heartbeat within `gone_after` seconds."""
        now = time.time() if now is None else now
        return [p for p in self.presence.values() if p.left_at is None and now - p.heartbeat_at <= gone_after]

    # ----------------------------------------------------------------- events
    def apply(self, events: Sequence[Event]) -> Changes:
        """Apply a batch of log events; say what changed."""
        ch = Changes()
        for e in events:
            if e.seq <= self.last_seq:
                continue
            self.last_seq = e.seq
            self._apply_one(e, ch)
            self._to_timeline(e, ch)
        return ch

    def _apply_one(self, e: Event, ch: Changes) -> None:
        p = e.payload
        kind = e.kind
        if kind == "comment.ingested":
            data = dict(p.get("comment", {}))
            if "id" not in data:
                return
            data.setdefault("received_at", e.ts)
            row = self.add_comment(data)
            if row is not None:
                ch.comments = True
                ch.new_comments.append(row)
        elif kind in ("comment.claimed", "comment.released", "comment.status", "comment.tagged"):
            row = self.rows.get(p.get("comment_id", -1))
            if row is None:
                return
            if kind == "comment.claimed":
                self._set_status(row, "claimed", p.get("holder") or e.actor)
            elif kind == "comment.released":
                self._set_status(row, "new", None)
            elif kind == "comment.status":
                status = p.get("status", row.status)
                self._set_status(row, status, None if status == "new" else row.holder)
            else:
                row.tags = tuple(p.get("tags", ()))
            ch.comments = True
            ch.changed_ids.add(row.id)
        elif kind.startswith("draft."):
            self._apply_draft(e, ch)
            if ch.drafts:
                ch.comments = True
        elif kind.startswith("decision."):
            self._apply_decision(e)
            ch.decisions = True
        elif kind.startswith("operator."):
            self._apply_presence(e)
            ch.presence = True
        elif kind.startswith("incident."):
            self._apply_incident(e)
            ch.incident = True
        elif kind.startswith("alert."):
            ch.alerts.append(e)

    def _apply_draft(self, e: Event, ch: Changes) -> None:
        p = e.payload
        did = p.get("draft_id")
        if not isinstance(did, int):
            return
        d = self.drafts.get(did)
        if e.kind == "draft.saved":
            if d is None:
                d = Draft(id=did, incident_id=self.incident_id, kind=p.get("kind", "reply"),
                          comment_id=p.get("comment_id"), author=e.actor, body=p.get("body", ""),
                          version=p.get("version", 1), created_at=e.ts, updated_at=e.ts, editors=[e.actor])
                self._add_draft(d)
            else:
                d.body = p.get("body", d.body)
                d.version = p.get("version", d.version + 1)
                d.author = e.actor
                d.editors = sorted({*d.editors, e.actor})
                d.updated_at = e.ts
                d.approvals = []
                d.approved_version = None
                if d.status == "in_review":
                    d.status = "draft"
        elif d is None:
            return
        elif e.kind == "draft.checklist":
            d.checklist = {**d.checklist, str(p.get("rule")): bool(p.get("ticked"))}
        elif e.kind == "draft.status":
            d.status = p.get("status", d.status)
            d.updated_at = e.ts
            if d.status == "approved":
                d.approvals = [*d.approvals, e.actor]
                d.override_reason = p.get("override_reason", "")
                d.approved_version = p.get("version", d.version)
            elif d.status in ("draft", "in_review"):
                d.approvals = []
                d.approved_version = None
            if d.status == "sent" and d.comment_id is not None and d.comment_id in self.rows:
                row = self.rows[d.comment_id]
                self._set_status(row, "answered", row.holder)
                ch.comments = True
                ch.changed_ids.add(row.id)
        else:
            return
        ch.drafts.add(did)

    def _apply_decision(self, e: Event) -> None:
        p = e.payload
        did = p.get("decision_id")
        if not isinstance(did, int):
            return
        if e.kind == "decision.proposed":
            self.decisions[did] = Decision(id=did, incident_id=self.incident_id, title=p.get("title", ""),
                                           rationale=p.get("rationale", ""), proposer=e.actor, proposed_at=e.ts,
                                           owner_decides=bool(p.get("owner_decides")))
            old = self.decisions.get(p.get("supersedes") or -1)
            if old is not None:
                old.status = "superseded"
        elif e.kind == "decision.voted" and did in self.decisions:
            d = self.decisions[did]
            if p.get("vote") == "approve":
                d.approvals = [*d.approvals, e.actor]
            else:
                d.rejections = [*d.rejections, e.actor]
            if p.get("status"):
                d.status = p["status"]
                d.decided_at = e.ts
                d.decided_by = e.actor
                d.present = list(p.get("present", []))

    def _apply_presence(self, e: Event) -> None:
        p = e.payload
        name = str(p.get("name") or e.actor)
        current = self.presence.get(name)
        if e.kind == "operator.joined":
            self.presence[name] = Presence(incident_id=self.incident_id, name=name, role=p.get("role", ""),
                                           joined_at=e.ts, heartbeat_at=e.ts, focus=p.get("focus", ""))
        elif current is None:
            return
        elif e.kind == "operator.left":
            current.left_at = e.ts
        elif e.kind == "operator.focus":
            current.focus = p.get("focus", current.focus)
            current.heartbeat_at = max(current.heartbeat_at, e.ts)

    def _apply_incident(self, e: Event) -> None:
        p = e.payload
        if e.kind == "incident.created":
            inc = p.get("incident", {})
            self.title = inc.get("title", self.title)
            self.severity = inc.get("severity", self.severity)
            self.opened_at = inc.get("opened_at", e.ts)
        elif e.kind == "incident.updated":
            for key, value in p.get("changes", {}).items():
                if key in ("title", "severity", "our_fault", "status"):
                    setattr(self, key, value)

    # --------------------------------------------------------------- timeline

    # --------------------------------------------------------------- timeline
    def backfill_timeline(self, events: Sequence[Event]) -> None:
        """The log before we joined, as timeline lines only (the state came from the tables)."""
        ch = Changes()
        for e in events:
            self._to_timeline(e, ch)
            self.last_seq = max(self.last_seq, e.seq)
