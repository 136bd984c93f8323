"""The demo's narration: one line under the panes, so a step is read once and covers nothing.

Toasts stacked over the Response and Timeline panes and went before a newcomer had read them;
this line takes its row from the layout instead and stays until the next step replaces it.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from crisis_tui.widgets.display import plain


class DemoCaption(Static):
    """What the scripted crisis is doing now, and at the end what to try."""

    DEFAULT_CSS = """
    DemoCaption {
        height: auto;
        max-height: 3;
        width: 1fr;
        padding: 0 1;
        background: $accent-muted;
        color: $foreground;
    }
    """

    def show_step(self, number: int, total: int, caption: str) -> None:
        self.update(Content.assemble(Content.styled(f"Demo {number}/{total} ", "bold"), plain(caption, 300)))

    def show_closing(self, text: str) -> None:
        self.update(Content.assemble(Content.styled("Demo over ", "bold"), plain(text, 400)))
