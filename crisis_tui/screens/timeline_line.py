"""One timeline line, whole: the pane cuts it at its width, this wraps it.

Timeline lines quote names, titles, notes and reasons people typed, so the text
goes through `untrusted()`.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from crisis_tui.room_timeline import TimelineEntry
from crisis_tui.screens.forms import FORM_CSS, Form
from crisis_tui.widgets.display import untrusted


class TimelineLineView(Form[None]):
    """The line under the timeline's cursor, wrapped. Esc closes."""

    DEFAULT_CSS = FORM_CSS.format(name="TimelineLineView") + """
    TimelineLineView > Vertical { width: 80; }
    TimelineLineView #timeline-line-box { height: auto; max-height: 20; }
    """

    def __init__(self, entry: TimelineEntry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = datetime.fromtimestamp(self.entry.ts).strftime("Timeline · %Y-%m-%d %H:%M:%S")
            with VerticalScroll(id="timeline-line-box"):
                yield Static(untrusted(self.entry.text), id="timeline-line-text")
            yield Static(Content("Esc closes"), classes="form-label")

    def on_mount(self) -> None:
        self.query_one("#timeline-line-box", VerticalScroll).focus()
