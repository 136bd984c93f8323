"""The room's timeline: the log in human lines, arriving comments folded into one line per minute."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crisis_tui.model import Event
from crisis_tui.safe_text import one_line
from crisis_tui.timeline_text import QUIET_KINDS, clock, describe

if TYPE_CHECKING:
    from crisis_tui.room_state import Changes


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



class TimelineFold:
    """The timeline lines of a room; RoomState builds on it."""

    timeline: list[TimelineEntry]
    last_seq: int

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
