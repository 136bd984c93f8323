"""The triage word lists of one language, compiled for counting at intake speed.

The lists are written like the tone lists (the same `fold`: case, accents and
typographic apostrophes ignored; whole words; a trailing * allows any ending)
so one habit serves both. Triage reads 10,000 comments a second, so a
lexicon's entries become one regex run over the comment's words joined by
spaces: one C scan instead of a Python step per word (2.5 us a bench/http.py
comment against 4.1 us for the dictionary walk it replaced, which
tests/test_triage_lexicon.py keeps to prove the two agree).

The regex keeps the walk's rules exactly. At each word it tries the phrases
starting with that word, the most words first (entries of equal length in the
order they were added), then the one-word prefix entries, by length in the
order the lengths were first added (of two entries with the same prefix, the
later one wins); a match moves on past its last word. Alternatives that
differ in a character never both match at one word, so they are split by it
(see `_alternation`) without changing which one wins. Entries with no letters
at all (emoji, "¿", "/s") are substring counts, skipped for a text all ASCII
when none of them is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from crisis_tui.tone.text import fold, tokens

#: The categories a language's triage lists have (crisis_tui.playbook.TriageWords).
CATEGORIES: tuple[str, ...] = ("negative", "insults", "positive", "sarcasm", "hyperbole", "question")
_NO_HITS = dict.fromkeys(CATEGORIES, 0)
#: Characters deep the alternatives are split at most (a plain alternation below: as right, a little slower),
#: so two long entries sharing their start cannot reach the recursion limit.
_DEEPEST = 64


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]
    category: str
    #: The last word is a beginning (the entry ended with *).
    prefix: bool
    entry: str

    def literal(self) -> tuple[str, str]:
        """The words as the scan meets them, and what must follow the last one."""
        return " ".join(self.words), "[^ ]*" if self.prefix else "(?= )"


def _alternation(alternatives: list[tuple[str, str]], depth: int = 0) -> str:
    """`alternatives` (literal text, tail), all sharing their first `depth` characters, as one
    regex that takes the first of them that matches, in their order. While every one of them
    has a character at `depth`, they are split by it: those with different characters there
    never both match, so only the order within each part counts, and sre tests a part's
    character once instead of once per alternative (a plain alternation of every entry
    scanned three times slower than the dictionary walk it was to replace). A lone
    alternative, or one that ends here, leaves the rest in order as it is."""
    if len(alternatives) == 1 or depth >= _DEEPEST or any(len(text) == depth for text, _ in alternatives):
        return "|".join(re.escape(text[depth:]) + tail for text, tail in alternatives)
    parts: dict[str, list[tuple[str, str]]] = {}
    for text, tail in alternatives:
        parts.setdefault(text[depth], []).append((text, tail))
    branches = []
    for char, part in parts.items():
        inner = _alternation(part, depth + 1)
        branches.append(re.escape(char) + (f"(?:{inner})" if len(part) > 1 else inner))
    return "|".join(branches)


@dataclass
class _Compiled:
    #: Every alternative, in the order they are tried; its one group is the match without its
    #: leading space (a group per entry, to tell which matched, made the scan six times slower).
    words: re.Pattern[str]
    #: The alternatives of each first letter, in order, with the (category, entry) each means (patterns
    #: compiled only when a text is met the first time: building a Triager stays cheap).
    by_letter: dict[str, list[tuple[str, tuple[str, str]]]]
    #: No symbol entry is ASCII, so an ASCII text holds none (most do, once folded).
    symbols_outside_ascii: bool
    #: What each matched text means, found once (comment vocabulary repeats).
    meanings: dict[str, tuple[str, str]] = field(default_factory=dict)

    def meaning(self, matched: str) -> tuple[str, str]:
        """The (category, entry) of the first alternative that matches `matched` (a match
        of `words` without its leading space): the one the scan took there, since what
        an alternative matches depends only on the text up to the space after it."""
        known = self.meanings.get(matched)
        if known is None:
            spaced = matched + " "
            known = next(means for pattern, means in self.by_letter[matched[0]]
                         if (m := re.match(pattern, spaced)) is not None and m.end() == len(matched))
            if len(self.meanings) > 200_000:
                self.meanings.clear()
            self.meanings[matched] = known
        return known


@functools.lru_cache(maxsize=64)
def _compiled(ordered: tuple[tuple[tuple[str, str], tuple[str, str]], ...], symbols_outside_ascii: bool) -> _Compiled:
    """The scan of `ordered` alternatives ((literal text, tail), (category, entry)), made once per
    list of them: every pipeline (one per incident the server sees, one per `prepare_batch`) builds
    the same lexicons, and splitting the alternatives costs a few milliseconds."""
    by_letter: dict[str, list[tuple[str, tuple[str, str]]]] = {}
    for (text, tail), means in ordered:
        by_letter.setdefault(text[0], []).append((re.escape(text) + tail, means))
    # With no entries, a pattern that never matches.
    body = _alternation([literal for literal, _ in ordered]) if ordered else "(?!)"
    return _Compiled(re.compile(f" ({body})"), by_letter, symbols_outside_ascii)


@dataclass
class Lexicon:
    """Compiled lists: phrases, one-word prefixes by length, symbol entries."""

    phrases: list[_Phrase] = field(default_factory=list)
    prefixes: dict[int, dict[str, tuple[str, str]]] = field(default_factory=dict)
    symbols: list[tuple[str, str]] = field(default_factory=list)
    #: Question phrases by first word, matched only at the start of a comment.
    openers: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    _compiled: _Compiled | None = None

    @classmethod
    def build(cls, lists: Mapping[str, Iterable[str]]) -> Lexicon:
        lex = cls()
        for category, entries in lists.items():
            for entry in entries:
                lex.add(category, entry)
        lex._compile()
        return lex

    def add(self, category: str, entry: str) -> None:
        raw = entry.strip()
        if not raw:
            return
        self._compiled = None
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
        self.phrases.append(_Phrase(tuple(words), category, prefix, raw))

    def _compile(self) -> _Compiled:
        """The alternatives in the order they are tried (see the module docstring)."""
        ordered = [(p.literal(), (p.category, p.entry)) for p in sorted(self.phrases, key=lambda p: -len(p.words))]
        for table in self.prefixes.values():
            ordered.extend(((start, "[^ ]*"), meaning) for start, meaning in table.items())
        self._compiled = _compiled(tuple(ordered), not any(symbol.isascii() for symbol, _ in self.symbols))
        return self._compiled

    def count(self, words: list[str], folded: str) -> tuple[dict[str, int], list[str], str]:
        """Hits per category, the entries found (for reasons), and the category of
        the comment's first word ("" when it is in no list), in one pass."""
        compiled = self._compiled or self._compile()
        hits = _NO_HITS.copy()
        found: list[str] = []
        opening = ""
        if words:
            joined = f" {' '.join(words)} "
            matches = compiled.words.findall(joined)
            if matches:
                meanings, meaning = compiled.meanings, compiled.meaning
                for matched in matches:
                    category, entry = meanings.get(matched) or meaning(matched)
                    hits[category] += 1
                    found.append(entry)
                # The first match was at the first word exactly when the text starts with it (what an
                # alternative matches depends only on the text up to the space after it).
                if joined.startswith(f" {matches[0]} "):
                    opening = meanings[matches[0]][0]
        if self.symbols and not (compiled.symbols_outside_ascii and folded.isascii()):
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
