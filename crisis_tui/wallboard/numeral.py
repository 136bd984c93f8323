"""Five-row block numerals for a large wallboard, legible from the back of the room.

Textual's `Digits` are three rows of line-drawing characters; on a 200-column
screen across a meeting room they are too thin. These are drawn with full
blocks, each "pixel" two cells wide. Only 0-9, ':' and '-' are needed.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

GLYPHS: dict[str, tuple[str, ...]] = {
    "0": ("###", "# #", "# #", "# #", "###"),
    "1": (" # ", "## ", " # ", " # ", "###"),
    "2": ("###", "  #", "###", "#  ", "###"),
    "3": ("###", "  #", "###", "  #", "###"),
    "4": ("# #", "# #", "###", "  #", "  #"),
    "5": ("###", "#  ", "###", "  #", "###"),
    "6": ("###", "#  ", "###", "# #", "###"),
    "7": ("###", "  #", "  #", "  #", "  #"),
    "8": ("###", "# #", "###", "# #", "###"),
    "9": ("###", "# #", "###", "  #", "###"),
    ":": (" ", "#", " ", "#", " "),
    "-": ("   ", "   ", "###", "   ", "   "),
    " ": ("  ", "  ", "  ", "  ", "  "),
}
ROWS = 5


def draw(value: str, scale: int = 2) -> list[str]:
    """The five text rows of `value` (unknown characters are left out)."""
    rows = [""] * ROWS
    for index, char in enumerate(c for c in value if c in GLYPHS):
        glyph = GLYPHS[char]
        for row in range(ROWS):
            gap = " " * scale if index else ""
            rows[row] += gap + "".join("█" * scale if px == "#" else " " * scale for px in glyph[row])
    return rows


class Numeral(Widget):
    """A value in block numerals, centred."""

    DEFAULT_CSS = """
    Numeral {
        height: 5;
        width: 1fr;
        content-align: center middle;
        text-style: bold;
    }
    """

    def __init__(self, value: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._value = value

    @property
    def value(self) -> str:
        return self._value

    def update(self, value: str) -> None:
        self._value = value
        self.refresh()

    def render(self) -> Content:
        width = self.content_size.width
        rows = draw(self._value)
        if rows and width and len(rows[0]) > width:
            rows = draw(self._value, scale=1)
        return Content("\n".join(rows))
