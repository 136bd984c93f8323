"""A comment's text prepared once for every reader (language, lexicon, clusters).

Folding is the tone lists' `fold` (case, accents and typographic apostrophes
ignored), computed the fast way: at 10,000 comments a second every microsecond
of the per-comment path shows, and `str.translate` with a table is slow on
non-ASCII text while most comments contain no typographic apostrophe at all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crisis_tui.tone.text import tokens

_MENTION_OR_URL = re.compile(r"@\w+|https?://\S+|www\.\S+", re.IGNORECASE)
_APOSTROPHES = ("\u2019", "\u2018", "\u02bc", "`", "\u00b4")
_MARKS = re.compile(r"[\u0300-\u036f]+")
#: tokens' `[^\W_]+` on an ASCII text: the same words, matched by a byte table instead of Unicode categories
#: (40% faster, and most folded comments are ASCII).
_ASCII_WORD = re.compile(r"[a-zA-Z0-9]+")


def fast_fold(text: str) -> str:
    """The same result as crisis_tui.tone.text.fold (see the module docstring)."""
    for mark in _APOSTROPHES:
        if mark in text:
            text = text.replace(mark, "'")
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()



@dataclass(slots=True)
class Words:
    """A comment's text prepared once for every reader: without mentions and links,
    folded (crisis_tui.tone.text.fold), and split into words."""

    text: str
    plain: str
    folded: str
    words: list[str]

    @classmethod
    def of(cls, text: str) -> Words:
        plain = _MENTION_OR_URL.sub(" ", text) if ("@" in text or "http" in text or "www." in text) else text
        folded = fast_fold(plain)
        return cls(text, plain, folded, _ASCII_WORD.findall(folded) if folded.isascii() else tokens(folded))


__all__ = ["Words", "fast_fold", "tokens"]
