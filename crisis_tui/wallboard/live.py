"""What the wallboard knows between refreshes, folded from the event stream (no Textual).

The board starts from what the store answers (`start`: arrivals by minute, the
log's head and tail, the last situation report), which is the state a replay of
the whole log would leave, and then subscribes to the log after its head; each
event lands here. Arrivals of the last
hour feed the per-minute figure and the two trends; the last few hundred events
feed the timeline's tail; `changed` tells the app which store reads (counts,
decisions, presence, the incident) a refresh needs, so a burst of a thousand
comments costs one refresh, not a thousand.
"""

from __future__ import annotations

import bisect
from collections import deque
from typing import Any

from crisis_tui import events as ev
from crisis_tui.log_head import Head
from crisis_tui.model import NEGATIVE_AT, Arrivals, Event
from crisis_tui.store.protocol import IncidentStore
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
        #: posting times of the last two minutes, sorted, for the rolling per-minute figure (two
        #: bisections: a firehose puts a hundred thousand of them here, counted once a second)
        self.recent: list[float] = []
        self.tail: deque[Event] = deque(maxlen=TAIL_EVENTS)
        self.last_seq = 0
        self.events_seen = 0
        self.changed: set[str] = set()
        #: When the newest situation report went out (None before the first).
        self.last_sitrep: float | None = None
        #: False while a board started from the store has not yet found its last sitrep.
        self.sitrep_known = True
        #: The head's seq `start` took the store's answers at.
        self.started_at = 0
        #: Comments up to this id were counted by `start`: their events, fed again, count once.
        self.counted_through = 0

    def feed(self, event: Event) -> None:
        self.last_seq = event.seq
        self.events_seen += 1
        body = event.body
        if isinstance(body, ev.CommentIngested):
            if body.comment.id <= self.counted_through:
                self.tail.append(event)
                return
            at = body.comment.since  # posted: a backlog ingested now is not this minute's volume
            bucket = self.minutes.setdefault(int(at // BUCKET_S), [0, 0])
            bucket[0] += 1
            if body.comment.negativity >= NEGATIVE_AT:
                bucket[1] += 1
            if at > event.ts - 120.0:  # older ones would never count
                bisect.insort(self.recent, at)
            self.changed.update(("comments", "timeline"))
            self.tail.append(event)
            return
        if isinstance(body, ev.SitrepIssued):
            self.last_sitrep = event.ts
            self.sitrep_known = True
        area = _AREAS.get(type(body))
        if area:
            self.changed.add(area)
        if not is_quiet(body):
            self.changed.add("timeline")
        self.tail.append(event)

    def start(self, head: Head | None, tail: list[Event], arrivals: Arrivals) -> None:
        """Take the store's answers as the state of the log up to `head` (see `read_start`)."""
        self.last_seq = head.seq if head is not None else 0
        self.events_seen = head.number if head is not None else 0
        self.tail.extend(tail)
        self.minutes = {minute: list(pair) for minute, pair in arrivals.minutes.items()}
        self.recent = sorted([*self.recent, *arrivals.recent])
        self.counted_through = arrivals.last_id
        self.sitrep_known = head is None
        self.started_at = self.last_seq
        self.changed.add("timeline")

    def found_sitrep(self, last: Event | None) -> None:
        """The last situation report up to the start's head (a newer one fed meanwhile wins)."""
        if not self.sitrep_known:
            self.last_sitrep = last.ts if last is not None else None
            self.sitrep_known = True

    def take_changes(self) -> set[str]:
        changed, self.changed = self.changed, set()
        return changed

    def prune(self, now: float) -> None:
        """Forget what is older than the window (trends) or two minutes (the rolling figure)."""
        oldest = int((now - WINDOW_S) // BUCKET_S)
        for minute in [m for m in self.minutes if m < oldest]:
            del self.minutes[minute]
        gone = bisect.bisect_left(self.recent, now - 120.0)
        if gone:
            del self.recent[:gone]

    def per_minute(self, now: float, minutes_ago: int = 0) -> int:
        """Comments posted in the 60 seconds ending `minutes_ago` (0 or 1) minutes before now."""
        self.prune(now)
        end = now - minutes_ago * 60.0
        start = end - 60.0
        return bisect.bisect_right(self.recent, end) - bisect.bisect_right(self.recent, start)

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


async def read_start(store: IncidentStore, incident_id: str, now: float) -> BoardState:
    """A board as a replay of the whole log would leave it at `now`, from a few store reads.

    The tail comes first, then the head (the tail is made to end at it), and `arrivals` may count comments
    that came after it, which `feed` then counts only once (`counted_through`). The last
    situation report is `read_sitrep`'s, on its own (it may walk back a long log).
    """
    state = BoardState()
    tail = await store.latest_events(incident_id, TAIL_EVENTS)
    head = await store.log_head(incident_id)
    while head is not None and (tail[-1].seq if tail else 0) < head.seq:  # written between the two reads
        after = tail[-1].seq if tail else 0
        page = [e for e in await store.events_after(incident_id, after, TAIL_EVENTS) if e.seq <= head.seq]
        if not page:
            break
        tail = (tail + page)[-TAIL_EVENTS:]
    arrivals = await store.arrivals(incident_id, int((now - WINDOW_S) // BUCKET_S),
                                    recent_minute=int((now - 120.0) // BUCKET_S))
    state.start(head, tail, arrivals)
    return state


async def read_sitrep(store: IncidentStore, incident_id: str, state: BoardState) -> None:
    """Fill in the last situation report up to the start's head."""
    if not state.sitrep_known:
        state.found_sitrep(await store.last_event(incident_id, ev.kind_of(ev.SitrepIssued), upto_seq=state.started_at))
