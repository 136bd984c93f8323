"""A big figure for the wallboard: a label, large digits, and a status in words.

Digits are 3 rows high so they read from across the room (5-row block
numerals on a large screen, where the app sets `-large` on the screen); the status line
carries the meaning in a symbol and a word ("✗ OVER SLA"), the colour only
repeats it (NO_COLOR screens and colour-blind readers lose nothing).
"""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Digits, Static

from crisis_tui.wallboard.numeral import Numeral

Mood = Literal["ok", "warn", "bad", "idle"]


class BigFigure(Vertical):
    """Label, digits, status; `show()` updates all three at once."""

    #: Unscoped, so the rules can follow the screen's size class (`Screen.-large`).
    SCOPED_CSS = False
    DEFAULT_CSS = """
    BigFigure {
        height: auto;
        width: 1fr;
        border: round $primary 60%;
        padding: 0 1;
    }
    BigFigure > .figure--label {
        height: 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BigFigure > Digits {
        width: 1fr;
        text-align: center;
        text-style: bold;
    }
    BigFigure > .figure--status {
        height: 1;
        text-align: center;
        text-style: bold;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BigFigure.-ok { border: round $success; }
    BigFigure.-ok > .figure--status { color: $text-success; }
    BigFigure.-warn { border: round $warning; }
    BigFigure.-warn > .figure--status { color: $text-warning; }
    BigFigure.-bad { border: heavy $error; }
    BigFigure.-bad > .figure--status { color: $text-error; }
    BigFigure.-bad > Digits, BigFigure.-bad > Numeral { color: $text-error; }
    BigFigure > Numeral { display: none; }
    Screen.-large BigFigure > Numeral { display: block; }
    Screen.-large BigFigure > Digits { display: none; }
    Screen.-large BigFigure { padding: 1 2; }
    """

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._label = label

    def compose(self) -> ComposeResult:
        yield Static(Content(self._label), classes="figure--label")
        yield Digits("-")
        yield Numeral("-")
        yield Static(Content(""), classes="figure--status")

    @property
    def value(self) -> str:
        return self.query_one(Digits).value

    @property
    def status(self) -> str:
        return str(self.query_one(".figure--status", Static).content)

    def show(self, value: str, status: str, mood: Mood, label: str | None = None) -> None:
        """Set the digits (0-9 : - only), the status words and the mood class."""
        self.query_one(Digits).update(value)
        self.query_one(Numeral).update(value)
        self.query_one(".figure--status", Static).update(Content(status))
        if label is not None:
            self.query_one(".figure--label", Static).update(Content(label))
        for mood_name in ("ok", "warn", "bad", "idle"):
            self.set_class(mood_name == mood, f"-{mood_name}")
