"""The triage word lists of one language, compiled for counting at intake speed.

The lists are written like the tone lists (the same `fold`: case, accents and
typographic apostrophes ignored; whole words; a trailing * allows any ending)
so one habit serves both. The tone checker scans a regex per list once per
keystroke; triage reads 10,000 comments a second, so here the lists become
dictionaries keyed by first word, and a comment is matched in one pass over its
words. Entries with no letters at all (emoji, "¿", "/s") are substring checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from crisis_tui.tone.text import fold, tokens

#: The categories a language's triage lists have (crisis_tui.playbook.TriageWords).
CATEGORIES: tuple[str, ...] = ("negative", "insults", "positive", "sarcasm", "hyperbole", "question")


@dataclass
class _Phrase:
    rest: tuple[str, ...]
    category: str
    prefix: bool
    entry: str


@dataclass
class Lexicon:
    """Compiled lists: phrases by first word, one-word prefixes by length, symbol entries."""

    by_first: dict[str, list[_Phrase]] = field(default_factory=dict)
    prefixes: dict[int, dict[str, tuple[str, str]]] = field(default_factory=dict)
    symbols: list[tuple[str, str]] = field(default_factory=list)
    #: Question phrases, matched only at the start of a comment.
    openers: list[tuple[str, ...]] = field(default_factory=list)

    @classmethod
    def build(cls, lists: Mapping[str, Iterable[str]]) -> Lexicon:
        lex = cls()
        for category, entries in lists.items():
            for entry in entries:
                lex.add(category, entry)
        for phrases in lex.by_first.values():
            phrases.sort(key=lambda p: -len(p.rest))
        return lex

    def add(self, category: str, entry: str) -> None:
        raw = entry.strip()
        if not raw:
            return
        prefix = raw.endswith("*")
        folded = fold(raw.rstrip("*"))
        words = tokens(folded)
        if not words:
            self.symbols.append((folded.strip(), category))
            return
        if category == "question":
            self.openers.append(tuple(words))
        if prefix and len(words) == 1:
            self.prefixes.setdefault(len(words[0]), {})[words[0]] = (category, raw)
            return
        self.by_first.setdefault(words[0], []).append(_Phrase(tuple(words[1:]), category, prefix, raw))

    def count(self, words: list[str], folded: str) -> tuple[dict[str, int], list[str], str]:
        """Hits per category, the entries found (for reasons), and the category of
        the comment's first word ("" when it is in no list), in one pass."""
        hits = dict.fromkeys(CATEGORIES, 0)
        found: list[str] = []
        opening = ""
        by_first = self.by_first
        prefixes = self.prefixes
        i = 0
        n = len(words)
        while i < n:
            word = words[i]
            step = 1
            matched = False
            for phrase in by_first.get(word, ()):
                rest = phrase.rest
                end = i + 1 + len(rest)
                if end > n:
                    continue
                if rest:
                    window = words[i + 1 : end]
                    if phrase.prefix:
                        if window[:-1] != list(rest[:-1]) or not window[-1].startswith(rest[-1]):
                            continue
                    elif tuple(window) != rest:
                        continue
                hits[phrase.category] += 1
                found.append(phrase.entry)
                if i == 0:
                    opening = phrase.category
                step = 1 + len(rest)
                matched = True
                break
            if not matched and prefixes:
                for length, table in prefixes.items():
                    if len(word) >= length:
                        hit = table.get(word[:length])
                        if hit is not None:
                            hits[hit[0]] += 1
                            found.append(hit[1])
                            if i == 0:
                                opening = hit[0]
                            break
            i += step
        for symbol, category in self.symbols:
            if symbol in folded:
                hits[category] += folded.count(symbol)
                found.append(symbol)
        return hits, found, opening

    def opens_question(self, words: list[str]) -> bool:
        """Whether the comment starts like a question ("does anyone", "qualcuno sa")."""
        return any(tuple(words[: len(opener)]) == opener for opener in self.openers)
