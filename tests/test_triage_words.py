"""A comment's prepared words (crisis_tui.triage.words) are the tone lists' own: `fast_fold` is `fold`,
and the words of a folded ASCII text, found with a byte table, are what `tokens` finds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crisis_tui.tone.text import fold, tokens
from crisis_tui.triage.words import Words
from tests.hostile_strings import HOSTILE_TEXT, PROPERTY

_ASCII_TEXT = st.text(st.characters(max_codepoint=127), max_size=80)


@PROPERTY
@given(st.one_of(_ASCII_TEXT, HOSTILE_TEXT, st.text(max_size=40)))
def test_the_words_are_the_tokens_of_the_folded_text(text: str) -> None:
    words = Words.of(text)
    assert words.words == tokens(words.folded)
    assert words.folded == fold(words.plain)
