"""What the wallboard knows between refreshes, folded from the event stream (no Textual).

The board subscribes to the log; each event lands here. Arrivals of the last
hour feed the per-minute figure and the two trends; the last few hundred events
feed the timeline's tail; `changed` tells the app which store reads (counts,
decisions, presence, the incident) a refresh needs, so a burst of a thousand
comments costs one refresh, not a thousand.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from crisis_tui import events as ev
from crisis_tui.export.metrics import NEGATIVE_AT
from crisis_tui.model import Event
from crisis_tui.timeline_text import human_lines, is_quiet

WINDOW_S = 3600.0
BUCKET_S = 60.0
TAIL_EVENTS = 400

#: Which part of the board an event makes stale, by its body's type.
_AREAS: dict[type[Any], str] = {
    ev.IncidentCreated: "incident",
    ev.IncidentUpdated: "incident",
    ev.DecisionProposed: "decisions",
    ev.DecisionVoted: "decisions",
    ev.OperatorJoined: "presence",
    ev.OperatorLeft: "presence",
    ev.OperatorFocus: "presence",
    **dict.fromkeys(ev.CommentChange, "comments"),
    ev.DraftMoved: "comments",  # a reply sent answers its comment
}


class BoardState:
    """The wallboard's rolling view of the log."""

    def __init__(self) -> None:
        #: minute number (epoch // 60) -> [comments, negative ones], for the trends
        self.minutes: dict[int, list[int]] = {}
        #: posting times of the last two minutes, for the rolling per-minute figure
        self.recent: deque[float] = deque()
        self.tail: deque[Event] = deque(maxlen=TAIL_EVENTS)
        self.last_seq = 0
        self.events_seen = 0
        self.changed: set[str] = set()
        #: When the newest situation report went out (None before the first).
        self.last_sitrep: float | None = None

    def feed(self, event: Event) -> None:
        self.last_seq = event.seq
        self.events_seen += 1
        body = event.body
        if isinstance(body, ev.CommentIngested):
            at = body.comment.since  # posted: a backlog ingested now is not this minute's volume
            bucket = self.minutes.setdefault(int(at // BUCKET_S), [0, 0])
            bucket[0] += 1
            if body.comment.negativity >= NEGATIVE_AT:
                bucket[1] += 1
            if at > event.ts - 120.0:  # older ones would never count, and would stay behind newer ones
                self.recent.append(at)
            self.changed.update(("comments", "timeline"))
            self.tail.append(event)
            return
        if isinstance(body, ev.SitrepIssued):
            self.last_sitrep = event.ts
        area = _AREAS.get(type(body))
        if area:
            self.changed.add(area)
        if not is_quiet(body):
            self.changed.add("timeline")
        self.tail.append(event)

    def take_changes(self) -> set[str]:
        changed, self.changed = self.changed, set()
        return changed

    def prune(self, now: float) -> None:
        """Forget what is older than the window (trends) or two minutes (the rolling figure)."""
        oldest = int((now - WINDOW_S) // BUCKET_S)
        for minute in [m for m in self.minutes if m < oldest]:
            del self.minutes[minute]
        while self.recent and self.recent[0] < now - 120.0:
            self.recent.popleft()

    def per_minute(self, now: float, minutes_ago: int = 0) -> int:
        """Comments posted in the 60 seconds ending `minutes_ago` (0 or 1) minutes before now."""
        self.prune(now)
        end = now - minutes_ago * 60.0
        start = end - 60.0
        return sum(1 for at in self.recent if start < at <= end)

    def trends(self, now: float, buckets: int = int(WINDOW_S / BUCKET_S)) -> tuple[list[int], list[float | None]]:
        """Per-minute volume and negative share over the last hour, oldest first, this minute
        last (None where nothing arrived)."""
        self.prune(now)
        current = int(now // BUCKET_S)
        volume: list[int] = []
        share: list[float | None] = []
        for minute in range(current - buckets + 1, current + 1):
            count, negative = self.minutes.get(minute, (0, 0))
            volume.append(count)
            share.append(negative / count if count else None)
        return volume, share

    def timeline(self, limit: int) -> list[str]:
        """The last `limit` lines of the human timeline (arrival bursts folded)."""
        if limit <= 0:
            return []
        return human_lines(list(self.tail))[-limit:]
