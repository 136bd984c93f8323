"""The base of the room's line-API panes (the comment stream, the timeline).

Such a pane builds every visible row as Segments with Rich styles taken from
its component classes; computing `base + component` on every row of every
repaint is wasted work, so the styles are cached until the theme or the focus
changes them.
"""

from __future__ import annotations

from rich.style import Style
from textual.scroll_view import ScrollView


class LineView(ScrollView):
    """A ScrollView that renders with cached component styles."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._styles: dict[str, Style] = {}

    def _style(self, name: str) -> Style:
        """The widget's base style plus a component's, computed once per style change."""
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = base if name == "base" else base + self.get_component_rich_style(name, partial=True)
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()
