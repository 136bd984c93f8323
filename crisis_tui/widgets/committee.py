"""The committee pane: who is in the room, what each is doing, and the decisions.

Presence comes from heartbeats (gone after the playbook's timeout) and focus
events ("Ana is replying to @user"); decisions carry their status as a symbol
and a word. Like dolphie's panels it repaints in place, and only when what it
shows actually changed.
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from crisis_tui.model import Decision, Presence
from crisis_tui.playbook import Playbook
from crisis_tui.presence_words import GONE, absence_word
from crisis_tui.timeline_text import clock
from crisis_tui.widgets.display import plain, untrusted

DECISION_MARK = {
    "proposed": ("? ", "proposed", "$text-warning"),
    "approved": ("✓ ", "approved", "$text-success"),
    "rejected": ("✗ ", "rejected", "$text-error"),
    "superseded": ("~ ", "superseded", "$text-muted"),
}


def presence_line(p: Presence, playbook: Playbook, *, here: bool, me: str) -> Content:
    """One member: dot (● here / ○ gone), name, role, ★ for decision power, focus."""
    known = playbook.role(p.role)
    role = plain(known.label if known else (p.role or "?").upper(), 5)
    power = "★" if playbook.has_decision_power(p.role) else " "
    dot = Content.styled("● " if here else "○ ", "$text-success" if here else "$text-muted")
    name = untrusted(p.name, single_line=True, max_chars=12)
    name = name.pad_right(max(0, 7 - name.cell_length))
    if p.name == me:
        name = name.stylize("bold")
    tail = untrusted(p.focus, single_line=True, max_chars=60) if here else Content.styled(
        GONE if p.left_at is None else absence_word(p.left_reason), "$text-muted"
    )
    return Content.assemble(dot, name, " ", Content.styled(f"{role:<5}", "$text-muted"), power, " ", tail)


def decision_line(d: Decision) -> Content:
    mark, word, style = DECISION_MARK.get(d.status, ("· ", plain(d.status, 8), "$text-muted"))
    when = clock(d.decided_at or d.proposed_at)
    who = d.decided_by or d.proposer
    head = Content.styled(f"{mark}{word[:8]:<8} ", style)
    owner = Content.styled("⚑owner ", "$text-warning") if d.owner_decides else Content("")
    return Content.assemble(
        head, owner, untrusted(d.title, single_line=True, max_chars=80), " ",
        Content.styled(f"{when} ", "$text-muted"), untrusted(who, single_line=True, max_chars=16),
    )


class CommitteePane(VerticalScroll):
    """Presence above, decisions below, one scrollable column."""

    DEFAULT_CSS = """
    CommitteePane {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        scrollbar-size-vertical: 1;
        background: $surface;
    }
    CommitteePane:focus-within { border: round $accent; }
    CommitteePane > Static { width: 1fr; height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    CommitteePane > #decisions-head { color: $text-muted; text-style: bold; }
    """

    def __init__(self, playbook: Playbook, me: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.playbook = playbook
        self.me = me
        self.border_title = "Committee"
        self._shown: tuple[object, ...] = ()
        self.clock = time.time

    def compose(self) -> ComposeResult:
        yield Static(Content(""), id="people")
        yield Static(Content("Decisions"), id="decisions-head")
        yield Static(Content.styled("none yet (d proposes one)", "$text-muted"), id="decisions")

    def show(self, people: list[Presence], decisions: list[Decision]) -> None:
        """Repaint only what changed since the last call."""
        gone_after = self.playbook.presence.gone_after_seconds
        now = self.clock()
        rows = []
        for p in people:
            here = p.left_at is None and now - p.heartbeat_at <= gone_after
            rows.append((p.name, p.role, p.focus, here, p.left_at is not None))
        # Present members first, then the ones who left (most recent first), at most 12 of those.
        order = sorted(range(len(people)), key=lambda i: (not rows[i][3], rows[i][0].casefold()))
        people_lines = [presence_line(people[i], self.playbook, here=rows[i][3], me=self.me) for i in order][:40]
        people_sig = tuple(rows[i] for i in order)
        dec = sorted(decisions, key=lambda d: (d.status != "proposed", -(d.decided_at or d.proposed_at)))
        dec_sig = tuple((d.id, d.status, d.title, d.decided_by, len(d.approvals)) for d in dec)
        signature = (people_sig, dec_sig)
        if signature == self._shown:
            return
        self._shown = signature
        here_count = sum(1 for r in rows if r[3])
        self.border_title = f"Committee ({here_count} here)"
        self.query_one("#people", Static).update(
            Content("\n").join(people_lines) if people_lines else Content.styled("nobody yet", "$text-muted")
        )
        self.query_one("#decisions", Static).update(
            Content("\n").join([decision_line(d) for d in dec[:30]]) if dec
            else Content.styled("none yet (d proposes one)", "$text-muted")
        )
