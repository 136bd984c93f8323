"""The room's in-memory projection: what the four panes render.

The sync worker feeds it the incident's state once (comments, drafts,
decisions, presence) and then every event from the log; it answers the panes'
questions (the n-th visible comment in the current order and filter, counts,
the oldest unanswered comment, comments per minute). Plain Python, no Textual,
so it is tested alone and stays cheap at 100,000 comments: one compact `Row`
per comment, ordered lists kept sorted with bisect, never rebuilt per event.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Literal

from crisis_tui.model import Comment, Decision, Draft, Event, Presence
from crisis_tui.safe_text import one_line
from crisis_tui.timeline_text import QUIET_KINDS, clock, describe

Order = Literal["priority", "time"]
UNANSWERED = frozenset({"new", "claimed", "escalated"})
#: How much of a comment's text a row keeps for its line and the text filter; the
#: detail view reads the whole comment from the store.
ROW_TEXT = 600
ROW_AUTHOR = 200


class Row:
    """One comment, as compact as the stream needs it."""

    id: int
    received_at: float
    source: str
    author: str
    followers: int | None
    verified: bool
    bot_score: float
    bot_reasons: tuple[str, ...]
    priority: float
    negativity: float
    lang: str
    cluster: str
    likes: int
    shares: int
    status: str
    holder: str | None
    tags: tuple[str, ...]
    text: str
    external_id: str
    in_reply_to: str
    pkey: tuple[float, int]  # the priority order's sort key, computed once (priority never changes)
    _folded: str | None

    __slots__ = (
        "id", "received_at", "source", "author", "followers", "verified", "bot_score", "bot_reasons",
        "priority", "negativity", "lang", "cluster", "likes", "shares", "status", "holder", "tags",
        "text", "external_id", "in_reply_to", "pkey", "_folded",
    )

    @classmethod
    def from_comment(cls, c: Comment) -> Row:
        row = cls.__new__(cls)
        row.id = c.id
        row.received_at = c.received_at
        row.source = c.source
        row.author = c.author[:ROW_AUTHOR]
        row.followers = c.author_followers
        row.verified = c.author_verified
        row.bot_score = c.bot_score
        row.bot_reasons = tuple(c.bot_reasons)
        row.priority = c.priority
        row.negativity = c.negativity
        row.lang = c.lang
        row.cluster = c.cluster
        row.likes = c.likes
        row.shares = c.shares
        row.status = c.status
        row.holder = c.holder
        row.tags = tuple(c.tags)
        row.text = c.text[:ROW_TEXT]
        row.external_id = c.external_id
        row.in_reply_to = c.in_reply_to
        row.pkey = (-row.priority, -row.id)
        row._folded = None
        return row

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Row:
        """A row from a comment.ingested event's `comment` (a new comment: status new)."""
        row = cls.__new__(cls)
        row.id = int(data["id"])
        row.received_at = float(data.get("received_at") or 0.0)
        row.source = str(data.get("source") or "")
        row.author = str(data.get("author") or "")[:ROW_AUTHOR]
        row.followers = data.get("author_followers")
        row.verified = bool(data.get("author_verified", False))
        row.bot_score = float(data.get("bot_score") or 0.0)
        row.bot_reasons = tuple(str(r) for r in data.get("bot_reasons") or ())
        row.priority = float(data.get("priority") or 0.0)
        row.negativity = float(data.get("negativity") or 0.0)
        row.lang = str(data.get("lang") or "")
        row.cluster = str(data.get("cluster") or "")
        row.likes = int(data.get("likes") or 0)
        row.shares = int(data.get("shares") or 0)
        row.status = "new"
        row.holder = None
        row.tags = ()
        row.text = str(data.get("text") or "")[:ROW_TEXT]
        row.external_id = str(data.get("external_id") or "")
        row.in_reply_to = str(data.get("in_reply_to") or "")
        row.pkey = (-row.priority, -row.id)
        row._folded = None
        return row

    @property
    def folded(self) -> str:
        """Lower-cased text, author and source for the text filter (computed once)."""
        if self._folded is None:
            self._folded = f"{self.author}\n{self.text}".casefold()
        return self._folded

    @property
    def is_bot(self) -> bool:
        return self.bot_score >= 0.5


_priority_key = attrgetter("pkey")
_id_key = attrgetter("id")


def _time_key(row: Row) -> int:
    return -row.id


@dataclass
class Filter:
    """What the stream shows: statuses, platforms (empty = all) and a text to find."""

    statuses: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    text: str = ""

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.sources or self.text.strip())

    def matches(self, row: Row) -> bool:
        if self.statuses and row.status not in self.statuses:
            return False
        if self.sources and row.source not in self.sources:
            return False
        needle = self.text.strip().casefold()
        return not needle or needle in row.folded

    def describe(self) -> str:
        parts = []
        if self.statuses:
            parts.append("/".join(sorted(s.replace("_", " ") for s in self.statuses)))
        if self.sources:
            parts.append("/".join(sorted(self.sources)))
        if self.text.strip():
            parts.append(f'"{one_line(self.text, 20)}"')
        return ", ".join(parts)


@dataclass
class TimelineEntry:
    """One human line of the timeline; arriving comments fold into one line per minute."""

    ts: float
    text: str
    kind: str
    seq: int = 0
    by_source: Counter[str] = field(default_factory=Counter)

    @property
    def line(self) -> str:
        return f"{clock(self.ts)} {self.text}"


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


class RoomState:
    """Comments, drafts, decisions, presence and the timeline of one incident."""

    def __init__(self, incident_id: str) -> None:
        self.incident_id = incident_id
        self.rows: dict[int, Row] = {}
        self._by_id: list[Row] = []  # ascending id = arrival order
        self._ordered: list[Row] = []  # current order, all rows
        self._view: list[Row] | None = None  # filtered order, None when no filter
        self.order: Order = "priority"
        self.filter = Filter()
        self.counts: Counter[str] = Counter()
        self._oldest_index = 0
        self.per_minute: Counter[int] = Counter()
        self._priorities: list[float] = []  # -priority, ascending: the rank of a priority is a bisect
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

    # ------------------------------------------------------------------ loading
    def load_comments(self, comments: Iterable[Comment | Row]) -> None:
        """Add many comments at once (the first load, a page of a large one).

        The page is sorted alone and merged: Timsort on two sorted runs is linear,
        and the sort keys are computed once per row, so ten pages of 10,000 cost
        little more than one sort of 100,000.
        """
        fresh: list[Row] = []
        for c in comments:
            row = c if isinstance(c, Row) else Row.from_comment(c)
            if row.id in self.rows:
                self._replace(row)
                continue
            self.rows[row.id] = row
            fresh.append(row)
            self.counts[row.status] += 1
            self.per_minute[int(row.received_at // 60)] += 1
        if not fresh:
            return
        self._by_id.extend(fresh)
        self._by_id.sort(key=_id_key)
        self._priorities.extend(-r.priority for r in fresh)
        self._priorities.sort()
        self._oldest_index = 0
        if self.order == "priority":
            self._ordered.extend(fresh)
            self._ordered.sort(key=_priority_key)
        else:
            self._ordered = self._by_id[::-1]
        self._refilter()

    def _replace(self, row: Row) -> None:
        old = self.rows[row.id]
        self._set_status(old, row.status, row.holder)
        old.tags = row.tags

    def _resort(self) -> None:
        if self.order == "priority":
            self._ordered = sorted(self._by_id, key=_priority_key)
        else:
            self._ordered = self._by_id[::-1]
        self._refilter()

    def _refilter(self) -> None:
        if self.filter.active:
            match = self.filter.matches
            self._view = [r for r in self._ordered if match(r)]
        else:
            self._view = None

    def _key(self, row: Row) -> Any:
        return _priority_key(row) if self.order == "priority" else _time_key(row)

    # --------------------------------------------------------------- the stream
    @property
    def visible(self) -> list[Row]:
        """The rows the stream shows, in order (a list shared with the state: do not mutate)."""
        return self._ordered if self._view is None else self._view

    def __len__(self) -> int:
        return len(self.visible)

    def row_at(self, index: int) -> Row | None:
        rows = self.visible
        return rows[index] if 0 <= index < len(rows) else None

    def index_of(self, comment_id: int) -> int | None:
        row = self.rows.get(comment_id)
        if row is None:
            return None
        rows = self.visible
        key = self._key(row)
        i = bisect.bisect_left(rows, key, key=self._key)
        return i if i < len(rows) and rows[i] is row else None

    def set_order(self, order: Order) -> None:
        if order != self.order:
            self.order = order
            self._resort()

    def set_filter(self, new: Filter) -> None:
        self.filter = new
        self._refilter()

    def add_comment(self, c: Comment | dict[str, Any] | Row) -> Row | None:
        """One arriving comment, inserted where the order puts it. None if already known."""
        if isinstance(c, Row):
            row = c
        elif isinstance(c, dict):
            row = Row.from_payload(c)
        else:
            row = Row.from_comment(c)
        if row.id in self.rows:
            return None
        self.rows[row.id] = row
        if not self._by_id or row.id > self._by_id[-1].id:
            self._by_id.append(row)
        else:
            bisect.insort(self._by_id, row, key=_id_key)
            self._oldest_index = 0
        self.counts[row.status] += 1
        self.per_minute[int(row.received_at // 60)] += 1
        bisect.insort(self._priorities, -row.priority)
        bisect.insort(self._ordered, row, key=self._key)
        if self._view is not None and self.filter.matches(row):
            bisect.insort(self._view, row, key=self._key)
        return row

    def _set_status(self, row: Row, status: str, holder: str | None) -> None:
        if row.status != status:
            self.counts[row.status] -= 1
            self.counts[status] += 1
            if status in UNANSWERED:
                self._oldest_index = 0
        was = self._view is not None and self.filter.matches(row)
        row.status = status
        row.holder = holder
        if self._view is not None:
            now = self.filter.matches(row)
            if was and not now:
                i = bisect.bisect_left(self._view, self._key(row), key=self._key)
                if i < len(self._view) and self._view[i] is row:
                    del self._view[i]
            elif now and not was:
                bisect.insort(self._view, row, key=self._key)

    def thread(self, comment_id: int, limit: int = 20) -> list[tuple[str, Row]]:
        """The comment's context: what it answers, its replies, the author's other comments."""
        row = self.rows.get(comment_id)
        if row is None:
            return []
        out: list[tuple[str, Row]] = []
        for other in self._by_id:
            if other is row:
                continue
            if row.in_reply_to and other.source == row.source and other.external_id == row.in_reply_to:
                out.insert(0, ("answers", other))
            elif other.source == row.source and other.in_reply_to == row.external_id and row.external_id:
                out.append(("reply", other))
            elif other.author == row.author and other.source == row.source:
                out.append(("same author", other))
            if len(out) >= limit:
                break
        return out

    def rank(self, priority: float) -> int:
        """How many comments are more urgent than `priority` (0 = the most urgent)."""
        return bisect.bisect_left(self._priorities, -priority)

    def priority_at_rank(self, rank: int) -> float:
        """The priority of the `rank`-th most urgent comment (inf when there are fewer)."""
        return -self._priorities[rank] if rank < len(self._priorities) else float("inf")

    # ----------------------------------------------------------------- counts
    @property
    def total(self) -> int:
        return len(self._by_id)

    @property
    def unanswered(self) -> int:
        return sum(self.counts[s] for s in UNANSWERED)

    def oldest_unanswered(self) -> Row | None:
        """The unanswered comment that has waited longest (amortised O(1))."""
        rows = self._by_id
        i = self._oldest_index
        while i < len(rows) and rows[i].status not in UNANSWERED:
            i += 1
        self._oldest_index = i
        return rows[i] if i < len(rows) else None

    def rate_series(self, minutes: int, now: float | None = None) -> list[int]:
        """Comments received per minute over the last `minutes` minutes, oldest first."""
        current = int((time.time() if now is None else now) // 60)
        return [self.per_minute.get(m, 0) for m in range(current - minutes + 1, current + 1)]

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
    def backfill_timeline(self, events: Sequence[Event]) -> None:
        """The log before we joined, as timeline lines only (the state came from the tables)."""
        ch = Changes()
        for e in events:
            self._to_timeline(e, ch)
            self.last_seq = max(self.last_seq, e.seq)

    def _to_timeline(self, e: Event, ch: Changes) -> None:
        if e.kind in QUIET_KINDS:
            return
        ch.timeline = True
        if e.kind == "comment.ingested":
            source = one_line(str(e.payload.get("comment", {}).get("source", "?")), 12)
            last = self.timeline[-1] if self.timeline else None
            if last is not None and last.kind == "comment.ingested" and int(last.ts // 60) == int(e.ts // 60):
                last.by_source[source] += 1
                n = sum(last.by_source.values())
                parts = ", ".join(f"{s} {k}" for s, k in last.by_source.most_common())
                last.text = f"{n} new comments: {parts}"
                last.seq = e.seq
                return
            text = describe(e)
            self.timeline.append(TimelineEntry(e.ts, text, e.kind, e.seq, Counter({source: 1})))
            return
        self.timeline.append(TimelineEntry(e.ts, describe(e), e.kind, e.seq))
