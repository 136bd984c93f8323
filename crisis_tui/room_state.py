"""The room's in-memory projection: what the four panes render.

The sync worker feeds it the incident's state once (comments, drafts,
decisions, presence) and then every event from the log; the comment rows and
their order live in crisis_tui.comment_index, the timeline lines in
crisis_tui.room_timeline. Plain Python, no Textual, so it is tested alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from crisis_tui import events as ev
from crisis_tui.comment_index import CommentIndex
from crisis_tui.comment_rows import IN_REVIEW, ROW_AUTHOR, ROW_TEXT, UNANSWERED, Filter, Order, Row
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
        #: A rehearsal (crisis_tui.drill): the header says DRILL first.
        self.drill = False
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
            body = e.body
            self._apply_one(e, body, ch)
            if self._to_timeline(e, body):
                ch.timeline = True
        if ch.drafts and IN_REVIEW in self.filter.statuses:
            self.set_filter(self.filter)
        return ch

    def set_filter(self, new: Filter) -> None:
        """The stream's filter; its "in review" status picks the comments whose reply waits for approval."""
        reviewing: frozenset[int] = frozenset()
        if IN_REVIEW in new.statuses:
            reviewing = frozenset(d.comment_id for d in self.drafts.values()
                                  if d.kind == "reply" and d.status == "in_review" and d.comment_id is not None)
        super().set_filter(replace(new, in_review=reviewing))

    def _apply_one(self, e: Event, body: ev.EventBody, ch: Changes) -> None:
        if isinstance(body, ev.CommentIngested):
            row = self.add_comment(body.comment)
            if row is not None:
                ch.comments = True
                ch.new_comments.append(row)
        elif isinstance(body, ev.CommentChange):
            self._apply_comment(body, e, ch)
        elif isinstance(body, (ev.DraftSaved, ev.DraftTicked, ev.DraftMoved)):
            self._apply_draft(body, e, ch)
            if ch.drafts:
                ch.comments = True
        elif isinstance(body, (ev.DecisionProposed, ev.DecisionVoted)):
            self._apply_decision(body, e)
            ch.decisions = True
        elif isinstance(body, (ev.OperatorJoined, ev.OperatorLeft, ev.OperatorFocus)):
            self._apply_presence(body, e)
            ch.presence = True
        elif isinstance(body, (ev.IncidentCreated, ev.IncidentUpdated)):
            self._apply_incident(body, e)
            ch.incident = True
        elif isinstance(body, ev.Alert) or (isinstance(body, ev.UnknownEvent) and ev.is_alert_kind(body.kind)):
            ch.alerts.append(e)

    def _apply_comment(self, body: ev.CommentClaimed | ev.CommentReleased | ev.CommentMarked | ev.CommentTagged
                       | ev.CommentHandedOver | ev.ClaimLapsed, e: Event, ch: Changes) -> None:
        cid = body.comment_id
        if not self.known(cid):
            return
        match body:
            case ev.CommentClaimed(holder=holder):
                self._set_status(cid, "claimed", holder or e.actor)
            case ev.CommentReleased() | ev.ClaimLapsed():
                self._set_status(cid, "new", None)
            case ev.CommentHandedOver(holder=holder):
                self._set_status(cid, "claimed", holder)
            case ev.CommentMarked(status=status):
                self._set_status(cid, status, None if status == "new" else self.holders.get(cid))
            case ev.CommentTagged(tags=tags):
                self.set_tags(cid, tuple(tags))
        ch.comments = True
        ch.changed_ids.add(cid)

    def _apply_draft(self, body: ev.DraftSaved | ev.DraftTicked | ev.DraftMoved, e: Event, ch: Changes) -> None:
        did = body.draft_id
        d = self.drafts.get(did)
        if isinstance(body, ev.DraftSaved):
            if d is None:
                d = Draft(id=did, incident_id=self.incident_id, kind=body.kind, comment_id=body.comment_id,
                          author=e.actor, body=body.body, version=body.version, created_at=e.ts, updated_at=e.ts,
                          editors=[e.actor])
                self._add_draft(d)
            else:
                d.body = body.body
                d.version = body.version
                d.author = e.actor
                d.editors = sorted({*d.editors, e.actor})
                d.updated_at = e.ts
                d.approvals = []
                d.approved_version = None
                if d.status == "in_review":
                    d.status = "draft"
        elif d is None:
            return
        elif isinstance(body, ev.DraftTicked):
            d.checklist = {**d.checklist, body.rule: body.ticked}
        else:
            d.status = body.status
            d.updated_at = e.ts
            if d.status == "approved":
                d.approvals = [*d.approvals, e.actor]
                d.override_reason = body.override_reason or ""
                d.approved_version = body.version or d.version
            elif d.status in ("draft", "in_review"):
                d.approvals = []
                d.approved_version = None
            if d.status == "sent" and d.comment_id is not None and self.known(d.comment_id):
                self._set_status(d.comment_id, "answered", self.holders.get(d.comment_id))
                ch.comments = True
                ch.changed_ids.add(d.comment_id)
        ch.drafts.add(did)

    def _apply_decision(self, body: ev.DecisionProposed | ev.DecisionVoted, e: Event) -> None:
        did = body.decision_id
        if isinstance(body, ev.DecisionProposed):
            self.decisions[did] = Decision(id=did, incident_id=self.incident_id, title=body.title,
                                           rationale=body.rationale, proposer=e.actor, proposed_at=e.ts,
                                           owner_decides=bool(body.owner_decides))
            old = self.decisions.get(body.supersedes) if body.supersedes is not None else None
            if old is not None:
                old.status = "superseded"
        elif did in self.decisions:
            d = self.decisions[did]
            if body.vote == "approve":
                d.approvals = [*d.approvals, e.actor]
            else:
                d.rejections = [*d.rejections, e.actor]
            if body.status:
                d.status = body.status
                d.decided_at = e.ts
                d.decided_by = e.actor
                d.present = list(body.present)

    def _apply_presence(self, body: ev.OperatorJoined | ev.OperatorLeft | ev.OperatorFocus, e: Event) -> None:
        name = body.name or e.actor
        current = self.presence.get(name)
        if isinstance(body, ev.OperatorJoined):
            self.presence[name] = Presence(incident_id=self.incident_id, name=name, role=body.role,
                                           joined_at=e.ts, heartbeat_at=e.ts, focus=body.focus)
        elif current is None:
            return
        elif isinstance(body, ev.OperatorLeft):
            current.left_at = e.ts
            current.left_reason = body.reason
        else:
            current.focus = body.focus
            current.heartbeat_at = max(current.heartbeat_at, e.ts)

    def _apply_incident(self, body: ev.IncidentCreated | ev.IncidentUpdated, e: Event) -> None:
        if isinstance(body, ev.IncidentCreated):
            self.title = body.incident.title
            self.severity = body.incident.severity
            self.opened_at = body.incident.opened_at
            self.drill = body.incident.drill
        else:
            for key, value in body.changes.items():
                if key in ("title", "severity", "our_fault", "status"):
                    setattr(self, key, value)

    # --------------------------------------------------------------- timeline
    def backfill_timeline(self, events: Sequence[Event]) -> None:
        """The log before we joined, as timeline lines only (the state came from the tables)."""
        for e in events:
            self._to_timeline(e, e.body)
            self.last_seq = max(self.last_seq, e.seq)
