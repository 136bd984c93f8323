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
    #: Question phrases by first word, matched only at the start of a comment.
    openers: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    _cache: dict[str, tuple[list[_Phrase], tuple[str, str] | None]] = field(default_factory=dict)

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
            self.openers.setdefault(words[0], []).append(tuple(words))
        if prefix and len(words) == 1:
            self.prefixes.setdefault(len(words[0]), {})[words[0]] = (category, raw)
            return
        self.by_first.setdefault(words[0], []).append(_Phrase(tuple(words[1:]), category, prefix, raw))

    def _classify(self, word: str) -> tuple[list[_Phrase], tuple[str, str] | None]:
        """The phrases starting with `word` and the one-word prefix entry it matches, cached:
        comment vocabulary repeats, so most words cost one dictionary lookup."""
        known = self._cache.get(word)
        if known is None:
            prefix_hit = None
            for length, table in self.prefixes.items():
                if len(word) >= length:
                    prefix_hit = table.get(word[:length])
                    if prefix_hit is not None:
                        break
            known = (self.by_first.get(word, []), prefix_hit)
            if len(self._cache) > 200_000:
                self._cache.clear()
            self._cache[word] = known
        return known

    def count(self, words: list[str], folded: str) -> tuple[dict[str, int], list[str], str]:
        """Hits per category, the entries found (for reasons), and the category of
        the comment's first word ("" when it is in no list), in one pass."""
        hits = dict.fromkeys(CATEGORIES, 0)
        found: list[str] = []
        opening = ""
        classify = self._classify
        cache = self._cache
        i = 0
        n = len(words)
        while i < n:
            word = words[i]
            phrases, prefix_hit = cache.get(word) or classify(word)
            step = 1
            category = ""
            for phrase in phrases:
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
                category = phrase.category
                found.append(phrase.entry)
                step = 1 + len(rest)
                break
            if not category and prefix_hit is not None:
                category = prefix_hit[0]
                found.append(prefix_hit[1])
            if category:
                hits[category] += 1
                if i == 0:
                    opening = category
            i += step
        for symbol, category in self.symbols:
            if symbol in folded:
                hits[category] += folded.count(symbol)
                found.append(symbol)
        return hits, found, opening

    def opens_question(self, words: list[str]) -> bool:
        """Whether the comment starts like a question ("does anyone", "qualcuno sa")."""
        if not words:
            return False
        return any(tuple(words[: len(opener)]) == opener for opener in self.openers.get(words[0], ()))
