"""The one-line input of the room's forms, whose pasted text is its display form.

Textual's Input inserts a bracketed paste as it comes and draws its value as it
is, so an escape sequence copied along with a hostile comment would reach the
operator's terminal from the input itself. Typed keys cannot carry one.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from crisis_tui.safe_text import display_text


class PlainInput(Input):
    """An Input that takes a paste as its display form (Input's own handler, next in the MRO, inserts it)."""

    def _on_paste(self, event: events.Paste) -> None:
        event.text = display_text(event.text, None)
