"""The alarm a witness raises when the log no longer extends what it saw (crisis_tui.witness).

Loud on purpose and never dismissed: one red band across the top of the screen
that stays for as long as the room or wallboard is open.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from crisis_tui.widgets.display import untrusted


class RewriteAlarm(Static):
    """A red band with the witness's words (plain text: no markup is read from it)."""

    DEFAULT_CSS = """
    RewriteAlarm {
        width: 1fr;
        height: auto;
        padding: 0 1;
        background: $error;
        color: $text;
        text-style: bold;
        border: heavy $foreground;
    }
    """

    def __init__(self, text: str) -> None:
        super().__init__(Content.assemble(("⚠ LOG REWRITTEN: ", "bold"), untrusted(text)), id="rewrite-alarm")
        self.text = text
