"""The room's timeline: the log in human lines, arriving comments folded into one line per minute."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from crisis_tui import events as ev
from crisis_tui.model import Event
from crisis_tui.timeline_text import arrival_source, clock, describe_whole, is_quiet

#: How the timeline pane shows a line: alerts and decided decisions stand out.
Look = Literal["story", "arrivals", "alert", "decision"]


@dataclass
class TimelineEntry:
    """One human line of the timeline; arriving comments fold into one line per minute."""

    ts: float
    story: str
    look: Look = "story"
    seq: int = 0
    by_source: Counter[str] = field(default_factory=Counter)

    @property
    def text(self) -> str:
        """The line without its time. A folded arrivals line is worded when it is read (a few
        lines per repaint), not on each of a burst's thousands of arrivals."""
        n = sum(self.by_source.values())
        if self.look != "arrivals" or n < 2:
            return self.story
        parts = ", ".join(f"{s} {k}" for s, k in self.by_source.most_common())
        return f"{n} new comments: {parts}"

    @property
    def line(self) -> str:
        return f"{clock(self.ts)} {self.text}"


def _look(body: ev.EventBody) -> Look:
    if isinstance(body, ev.Alert):
        return "alert"
    if isinstance(body, ev.UnknownEvent) and ev.is_alert_kind(body.kind):
        return "alert"  # an alert of a kind a newer version raised still stands out
    return "decision" if isinstance(body, ev.DecisionVoted) else "story"


class TimelineFold:
    """The timeline lines of a room; RoomState builds on it."""

    timeline: list[TimelineEntry]

    def _to_timeline(self, e: Event, body: ev.EventBody) -> bool:
        """Add the event's line (or fold an arrival into this minute's); False when it is quiet."""
        if is_quiet(body):
            return False
        if isinstance(body, ev.CommentIngested):
            source = arrival_source(body)
            last = self.timeline[-1] if self.timeline else None
            if last is not None and last.look == "arrivals" and int(last.ts // 60) == int(e.ts // 60):
                last.by_source[source] += 1
                last.seq = e.seq
                return True
            self.timeline.append(TimelineEntry(e.ts, describe_whole(e), "arrivals", e.seq, Counter({source: 1})))
            return True
        self.timeline.append(TimelineEntry(e.ts, describe_whole(e), _look(body), e.seq))
        return True
