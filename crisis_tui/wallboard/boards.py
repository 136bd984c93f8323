"""The wallboard's three lower panes: who is present, the latest decisions, the timeline's tail.

Each renders its own lines to its height (a wallboard never scrolls). Names,
focus, decision titles and timeline lines come from people and strangers, so
every one goes through `untrusted()`; border titles are fixed words only. Each
state is a symbol and a word first ("✓ approved", "○ away"), colour second.
"""

from __future__ import annotations

import time

from textual.content import Content
from textual.widget import Widget

from crisis_tui.model import Decision, Presence
from crisis_tui.playbook import Playbook
from crisis_tui.widgets.display import plain, untrusted

_PANE_CSS = """
    {name} {{
        width: 1fr;
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text-muted;
        padding: 0 1;
    }}
"""


def _ago(seconds: float) -> str:
    minutes = int(max(0, seconds) // 60)
    return f"{minutes}m" if minutes < 120 else f"{minutes // 60}h"


def _fit(lines: list[Content], height: int, width: int, more: str) -> Content:
    """At most `height` lines, the last one saying how many did not fit."""
    if height <= 0:
        return Content("")
    if len(lines) > height:
        hidden = len(lines) - (height - 1)
        lines = lines[: height - 1] + [Content.styled(f"… {hidden} {more}", "$text-muted")]
    return Content("\n").join(line.truncate(width, ellipsis=True) for line in lines)


class PresenceBoard(Widget):
    """Who is in the room: ● here, ○ away (no heartbeat lately); ★ has decision power."""

    DEFAULT_CSS = _PANE_CSS.format(name="PresenceBoard")

    def __init__(self, playbook: Playbook, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.playbook = playbook
        self.border_title = "Committee"
        self._people: list[Presence] = []
        self._now = time.time()

    def show(self, people: list[Presence], now: float) -> None:
        self._people = people
        self._now = now
        self.refresh()

    def lines(self) -> list[Content]:
        gone_after = self.playbook.presence.gone_after_seconds
        here = [p for p in self._people if p.left_at is None]
        left = len(self._people) - len(here)
        out: list[Content] = []
        for p in sorted(here, key=lambda p: (self._now - p.heartbeat_at > gone_after, p.name.lower())):
            away = self._now - p.heartbeat_at > gone_after
            role = self.playbook.role(p.role)
            parts: list[Content | str | tuple[str, str]] = [
                ("○ away " if away else "● ", "$text-muted" if away else "bold $text-success"),
                untrusted(p.name, single_line=True, max_chars=24).stylize("bold"),
                " ",
                (plain(role.name if role else p.role, 40), "$text-muted"),
                ("  ★" if role and role.decision_power else "", "$text-warning"),
            ]
            if away:
                parts.append((f"  silent {_ago(self._now - p.heartbeat_at)}", "$text-muted"))
            elif p.focus:
                parts += ["  ", untrusted(p.focus, single_line=True, max_chars=80).stylize("italic")]
            out.append(Content.assemble(*parts))
        if not out:
            out.append(Content.styled("nobody is in the room", "$text-warning"))
        if left:
            out.append(Content.styled(f"{left} left the room", "$text-muted"))
        return out

    def render(self) -> Content:
        return _fit(self.lines(), self.content_size.height, self.content_size.width, "more")


_DECISION_MARKS: dict[str, tuple[str, str]] = {
    "approved": ("✓ APPROVED", "bold $text-success"),
    "rejected": ("✗ REJECTED", "bold $text-error"),
    "proposed": ("? PROPOSED", "bold $text-warning"),
    "superseded": ("↷ replaced", "$text-muted"),
}


class DecisionsBoard(Widget):
    """The latest decisions, newest first, with who decided and who was present."""

    DEFAULT_CSS = _PANE_CSS.format(name="DecisionsBoard")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Decisions"
        self._decisions: list[Decision] = []

    def show(self, decisions: list[Decision]) -> None:
        self._decisions = decisions
        self.refresh()

    def lines(self) -> list[Content]:
        out: list[Content] = []
        for d in sorted(self._decisions, key=lambda d: -(d.decided_at or d.proposed_at)):
            mark, style = _DECISION_MARKS.get(d.status, (plain(d.status.upper(), 12), "bold"))
            at = d.decided_at if d.decided_at is not None else d.proposed_at
            who = d.decided_by if d.decided_by else d.proposer
            out.append(Content.assemble(
                (mark, style), " ", (time.strftime("%H:%M", time.localtime(at)), "$text-muted"), " ",
                ("⚑ owner decides · " if d.owner_decides else "", "bold $text-warning"),
                untrusted(d.title, single_line=True, max_chars=160), ("  · ", "$text-muted"),
                untrusted(who, single_line=True, max_chars=24).stylize("$text-muted"),
            ))
        if not out:
            out.append(Content.styled("no decision yet", "$text-muted"))
        return out

    def render(self) -> Content:
        return _fit(self.lines(), self.content_size.height, self.content_size.width, "older")


class TimelineTail(Widget):
    """The last lines of the running timeline, newest at the bottom."""

    DEFAULT_CSS = _PANE_CSS.format(name="TimelineTail")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Timeline"
        self._lines: list[str] = []

    def show(self, lines: list[str]) -> None:
        self._lines = lines
        self.refresh()

    @property
    def wanted(self) -> int:
        """How many lines fit (the app asks the state for that many)."""
        return max(1, self.content_size.height)

    def render(self) -> Content:
        height, width = self.content_size.height, self.content_size.width
        if height <= 0:
            return Content("")
        shown = self._lines[-height:] or ["the log is empty"]
        return Content("\n").join(
            untrusted(line, single_line=True, max_chars=400).truncate(width, ellipsis=True) for line in shown
        )
