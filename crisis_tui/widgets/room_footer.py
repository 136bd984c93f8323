"""The room's footer: only the keys that fit, so it never draws one key over another.

Textual's Footer lays out every shown binding in a grid and, at 80 columns with
an editor's keys on top of the room's, they overlap ("n N▏^p paletter▏"). This
one keeps the bindings in order while they fit beside the palette's key, and
always keeps the help key: the help screen lists every key that was left out.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ACTION = "app.help"


def _cells(key: FooterKey) -> int:
    """A compact key's width: its key, a space, its words and the gap to the next."""
    return len(key.key_display) + 1 + len(key.description) + 1


class RoomFooter(Footer):
    """A compact footer that drops the keys it cannot fit (the help screen has them all)."""

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        keys = [w for w in widgets if isinstance(w, FooterKey) and not w.has_class("-command-palette")]
        others: list[Widget] = [w for w in widgets if w not in keys]
        width = self.size.width or self.app.size.width
        budget = width - sum(_cells(w) + 1 for w in others if isinstance(w, FooterKey))
        helps = [k for k in keys if k.action in (HELP_ACTION, "help")]
        budget -= sum(_cells(k) for k in helps)
        kept: list[Widget] = []
        for key in keys:
            if key in helps:
                kept.append(key)
                continue
            if _cells(key) <= budget:
                kept.append(key)
                budget -= _cells(key)
            else:
                budget = -1  # keep the order: once one key is dropped, the rest go too
        self.styles.grid_size_columns = len(kept) + len(others)
        yield from kept
        yield from others

    def on_resize(self) -> None:
        self.call_after_refresh(self.recompose)
