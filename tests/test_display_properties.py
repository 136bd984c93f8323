"""The display function holds for any string at all, not only the examples we thought of.

For any input, the display form holds no control character (C0 but the newline,
C1, DEL), no ESC, no bidi override or isolate and no lone surrogate; the one-line
form holds no newline either; and shown through `untrusted()` (a Content), in a
widget too, the text itself adds no style, link or action: what reaches the
screen is exactly the display form.
"""

from __future__ import annotations

import asyncio
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from textual.style import Style
from textual.widgets import Static

from crisis_tui.safe_text import display_text, one_line
from crisis_tui.widgets.display import plain, toast, untrusted
from tests.hostile_strings import HOSTILE_TEXT, PROPERTY

#: What must never reach a terminal from untrusted text (the newline is checked apart).
NEVER = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@given(HOSTILE_TEXT)
@PROPERTY
def test_the_display_form_holds_no_control_escape_bidi_or_surrogate(text: str) -> None:
    for shown in (display_text(text), display_text(text, None), toast(text)):
        assert not NEVER.search(shown), repr(shown)
        assert display_text(shown, None) == shown  # nothing left that a second pass would still remove


@given(HOSTILE_TEXT, st.integers(min_value=1, max_value=60))
@PROPERTY
def test_the_one_line_form_is_one_clean_line_within_its_cap(text: str, cap: int) -> None:
    for shown in (one_line(text, cap), plain(text, cap)):
        assert not NEVER.search(shown), repr(shown)
        assert "\n" not in shown and len(shown) <= cap
        assert shown.splitlines() in ([shown], [])  # no other line break (U+2028, U+0085, ...) either


@given(HOSTILE_TEXT, st.booleans())
@PROPERTY
def test_untrusted_text_renders_as_its_display_form_and_nothing_else(text: str, single_line: bool) -> None:
    content = untrusted(text, single_line=single_line)
    expected = one_line(text, 20_000) if single_line else display_text(text)
    assert content.plain == expected
    assert not content.spans  # no markup was parsed into styles, links or actions
    segments = content.render_segments(Style.null())
    assert "".join(s.text for s in segments) == expected
    for segment in segments:
        assert segment.style is None or (not segment.style.link and not segment.style.meta), segment
    styled = untrusted(text, single_line=single_line, style="bold")
    assert styled.plain == expected and {span.style for span in styled.spans} <= {"bold"}


class Shows(App[None]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(untrusted(self.text), id="shown")
        yield Static(untrusted(self.text, single_line=True), id="line")


async def _screen_of(text: str) -> list[tuple[str, object]]:
    app = Shows(text)
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        return [(segment.text, segment.style) for strip in app.screen._compositor.render_strips() for segment in strip]


@given(HOSTILE_TEXT)
@settings(PROPERTY, max_examples=25)
def test_a_widget_showing_untrusted_text_sends_the_terminal_no_control_and_no_action(text: str) -> None:
    segments = asyncio.run(_screen_of(text))
    for chunk, style in segments:
        assert not NEVER.search(chunk) and "\n" not in chunk, repr(chunk)
        meta = getattr(style, "meta", None) or {}
        assert "@click" not in meta and not getattr(style, "link", None), (chunk, style)


@given(st.floats(min_value=-1e3, max_value=1e13, allow_nan=False), st.sampled_from([3, 4]))
@PROPERTY
def test_an_age_fits_its_cells_and_keeps_its_unit(seconds: float, width: int) -> None:
    from crisis_tui.widgets.stream import age

    shown = age(seconds, width)
    assert len(shown) <= width and shown[-1] in "smhdwy" and shown[:-1].isdigit()


def test_a_long_age_moves_to_weeks_then_years() -> None:
    from crisis_tui.widgets.stream import age

    day = 86400
    assert (age(99 * day, 3), age(100 * day, 3), age(999 * day, 4), age(1000 * day, 4)) == ("99d", "14w", "999d", "142w")
    assert (age(800 * 7 * day, 3), age(5000 * 365 * day, 4), age(1000 * day)) == ("15y", "999y", "1000d")
