"""Text handling shared by the tone rules: folding, tokens, word-list matchers.

Word lists in the playbook are written the way people type ("perdón", "non è
un nostro problema"); drafts are typed in a hurry, often without accents. Both
sides are *folded* (lower case, accents and typographic apostrophes removed,
full-width forms mapped) so "perdon" matches "perdón" and "WE’LL" matches
"we'll". Each list becomes one compiled alternation, so a rule costs a single
regex scan per keystroke.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_MARKS = re.compile(r"[\u0300-\u036f]+")
_WORD = re.compile(r"[^\W_]+")
_WORD_CHAR = re.compile(r"\w")
_MENTION_OR_URL = re.compile(r"@\w+|https?://\S+|www\.\S+", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case without accents: the form every comparison is made in."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return _MARKS.sub("", decomposed).casefold()


def tokens(folded: str) -> list[str]:
    """Words of an already folded text (letters and digits, no punctuation)."""
    return _WORD.findall(folded)


def content_tokens(text: str) -> list[str]:
    """Folded words of raw text without @mentions and links (what a person wrote)."""
    return tokens(fold(_MENTION_OR_URL.sub(" ", text)))


class _Node:
    """A letter trie of word-list entries, turned into one factored regex."""

    __slots__ = ("children", "ends")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.ends: set[str] = set()  # "word" (whole word), "prefix" (any ending), "plain" (ends on a symbol)

    def add(self, term: str, prefix: bool) -> None:
        node = self
        for char in term:
            node = node.children.setdefault(char, _Node())
        if prefix:
            node.ends.add("prefix")
        else:
            node.ends.add("word" if _WORD_CHAR.match(term[-1]) else "plain")

    def regex(self) -> str:
        # Longer continuations first: Python takes the first alternative that matches.
        alternatives = [
            (r"\s+" if char == " " else re.escape(char)) + child.regex() for char, child in sorted(self.children.items())
        ]
        if "prefix" in self.ends:
            alternatives.append(r"\w*")
        elif "word" in self.ends:
            alternatives.append(r"(?!\w)")
        if "plain" in self.ends:
            alternatives.append("")
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"


class Terms:
    """A word list compiled into one regex over folded text.

    Entries are folded and put in a trie, so the regex tries one branch per
    letter instead of every entry at every position (a plain alternation of
    thirty phrases costs a millisecond on a 2,000-character draft; this costs
    a tenth of that). The longest entry wins, so the reason names "shut up"
    rather than "shut".
    """

    def __init__(self, entries: Iterable[str]) -> None:
        unique = sorted({e.strip() for e in entries if e.strip()})
        words, symbols = _Node(), _Node()
        for entry in unique:
            prefix = entry.endswith("*")
            term = " ".join(fold(entry.rstrip("*")).split())
            if term:
                (words if _WORD_CHAR.match(term[0]) else symbols).add(term, prefix)
        parts = []
        if words.children:
            parts.append(r"(?<!\w)" + words.regex())
        if symbols.children:
            parts.append(symbols.regex())
        self.entries = tuple(unique)
        self._regex = re.compile("|".join(parts)) if parts else None

    def __bool__(self) -> bool:
        return self._regex is not None

    def first(self, folded: str) -> tuple[int, int] | None:
        """Where the first entry occurs in the folded text (start, end), if anywhere."""
        if self._regex is None:
            return None
        match = self._regex.search(folded)
        return match.span() if match else None

    def found(self, folded: str, limit: int = 3) -> list[tuple[int, int]]:
        """Spans of distinct matches in order of appearance, at most `limit`."""
        if self._regex is None:
            return []
        seen: set[str] = set()
        spans: list[tuple[int, int]] = []
        for match in self._regex.finditer(folded):
            hit = " ".join(match.group(0).split())
            if hit not in seen:
                seen.add(hit)
                spans.append(match.span())
                if len(spans) >= limit:
                    break
        return spans


_FOLDED_LENGTH: dict[str, int] = {}


def original(text: str, span: tuple[int, int]) -> str:
    """The part of `text` whose folded form is `fold(text)[start:end]`.

    Reasons quote what the person typed ("escríbenos", "NUNCA"), not the
    folded form. Folding keeps ASCII one-to-one; other characters may grow
    ("ß" -> "ss") or vanish (a lone combining accent), so those are counted.
    """
    start, end = span
    if text.isascii():
        return text[start:end]
    position = 0
    first: int | None = None
    for index, char in enumerate(text):
        if first is None and position >= start:
            first = index
        if position >= end:
            return text[first:index]
        size = _FOLDED_LENGTH.get(char)
        if size is None:
            size = _FOLDED_LENGTH[char] = len(fold(char))
        position += size
    return text[first if first is not None else len(text):]


def quote(text: str, limit: int = 24) -> str:
    """A short, one-line excerpt for a reason ("“Hola Marta, lo…”")."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return f"“{flat}”"
