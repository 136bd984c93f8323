"""The room's header line: title, severity, elapsed, counts, oldest unanswered vs SLA, rate.

One line at 80 columns: what the committee needs at a glance. The SLA state is
a symbol and a word ("⚠ SLA BREACHED"), never colour alone, so it reads under
NO_COLOR and on a wallboard seen from across the room.
"""

from __future__ import annotations

import time

from textual.content import Content
from textual.widgets import Static

from crisis_tui.playbook import Playbook
from crisis_tui.room_state import RoomState
from crisis_tui.widgets.display import plain, untrusted

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """Comments per minute as block characters (blank minutes as the lowest bar)."""
    top = max(values) if values else 0
    if top <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, round(v / top * (len(BARS) - 1)))] for v in values)


def duration(seconds: float) -> str:
    """How long the incident has been open, with its units (`42s`, `12m05s`, `3h07m`): it moves
    every second from the start, where an HH:MM clock sat at 00:00 for the first minute."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{h}h{m:02d}m"
    return f"{m}m{sec:02d}s" if m else f"{sec}s"


def minutes(seconds: float) -> str:
    m = max(0, int(seconds // 60))
    return f"{m}m" if m < 120 else f"{m // 60}h"


class RoomHeader(Static):
    """The one-line header (recomputed every second and when counts change)."""

    DEFAULT_CSS = """
    RoomHeader {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, state: RoomState, playbook: Playbook, *, id: str | None = None) -> None:
        super().__init__(Content(""), id=id)
        self.state = state
        self.playbook = playbook
        self.clock = time.time
        self.breached = False

    def tick(self) -> None:
        self.update(self.build(self.size.width or 80))

    def build(self, width: int) -> Content:
        s = self.state
        now = self.clock()
        sla = self.playbook.sla_seconds(s.severity)
        sev = self.playbook.severity(s.severity)
        sev_name = plain(sev.name if sev else (s.severity or "?").upper(), 40)
        oldest = s.oldest_unanswered()
        waited = now - oldest.since if oldest is not None else 0.0
        self.breached = oldest is not None and waited > sla
        parts: list[Content] = []
        if s.connection != "live":
            parts.append(Content.styled("⟳ reconnecting… ", "bold $text-error"))
        if s.drill:
            parts.append(Content.styled("DRILL ", "bold reverse"))
        parts += [
            untrusted(s.title or "…", single_line=True, max_chars=max(12, width // 5)).stylize("bold"),
            Content(" · "),
            Content.styled(sev_name, "bold $text-warning"),
        ]
        if s.status != "open":
            parts += [Content(" · "), Content.styled(plain(s.status.upper(), 20), "bold")]
        wide = width >= 100
        unanswered = "unanswered" if wide else "unans"
        parts += [
            Content(" · "),
            Content(duration(now - s.opened_at) if s.opened_at else "--"),
            Content(f" · new {s.counts['new']:,} · {unanswered} {s.unanswered:,}"),
        ]
        if wide:
            parts.append(Content(f" · answered {s.counts['answered']:,}"))
        oldest_label = "oldest " if wide or not self.breached else ""
        if oldest is None:
            parts.append(Content(f" · oldest -/{minutes(sla)} SLA"))
        elif self.breached:
            parts.append(Content(" · "))
            parts.append(Content.styled(f"⚠ {oldest_label}{minutes(waited)}/{minutes(sla)} SLA BREACHED",
                                        "bold $text-error"))
        else:
            parts.append(Content(f" · oldest {minutes(waited)}/{minutes(sla)} SLA"))
        spark_w = 12 if width >= 100 else 6
        parts += [Content(" "), Content.styled(sparkline(s.rate_series(spark_w, now)), "$text-accent")]
        return Content.assemble(*parts)
