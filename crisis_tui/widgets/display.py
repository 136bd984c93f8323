"""The only door through which untrusted text reaches the screen.

Textual parses a `str` given to Static, Label, OptionList, DataTable cells,
notify() and border titles as markup: "[@click=app.quit]x" would become a
clickable quit and "[/bold] [red" raises and kills the app. A `Content` is shown
literally, but an ESC byte inside it still reaches the terminal. So every widget
that shows comment text, author handles, operator names, notes or titles builds
it with `untrusted()`: the display form from `crisis_tui.safe_text` (escapes,
controls, bidi overrides and zero-width characters dropped, length capped),
wrapped in a Content that is never parsed as markup.
"""

from __future__ import annotations

from textual.content import Content
from textual.style import Style

from crisis_tui.safe_text import DISPLAY_CAP, display_text, one_line


def untrusted(text: object, *, single_line: bool = False, max_chars: int = DISPLAY_CAP, style: str | Style = "") -> Content:
    """Untrusted text as literal, safe Content (optionally squeezed onto one line)."""
    raw = "" if text is None else str(text)
    clean = one_line(raw, max_chars) if single_line else display_text(raw, max_chars)
    content = Content(clean)
    return content.stylize(style) if style else content


def toast(text: object, max_chars: int = 2000) -> str:
    """A toast's message as its display form (lines kept). The apps' `notify` applies it to
    every toast, with markup off: refusals quote names and titles that people typed."""
    return display_text("" if text is None else str(text), max_chars)


def plain(text: object, max_chars: int = 500) -> str:
    """Untrusted text as a safe one-line str, for APIs that take only str with markup
    disabled (e.g. notify(..., markup=False)). Never pass it where markup is parsed."""
    return one_line("" if text is None else str(text), max_chars)
