"""The triage lexicon's one-regex scan finds exactly what the dictionary walk it replaced found:
the same hits per category, the same entries in the same order, the same opening category,
for lists and comments made to collide (phrases sharing words, prefixes of prefixes, entries
in several categories, symbols, digits, accents)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from crisis_tui import playbook as playbook_mod
from crisis_tui.tone.text import fold, tokens
from crisis_tui.triage.assess import lexicons
from crisis_tui.triage.lexicon import CATEGORIES, Lexicon
from crisis_tui.triage.words import Words
from tests.hostile_strings import PROPERTY

#: Few words, so entries and comments share them: "ref" is a prefix of "refund", "a" of "ab" of "abc".
VOCABULARY = ("no", "ref", "refund", "refunds", "refundable", "a", "ab", "abc", "b", "ba", "x1", "12", "1",
              "ca", "ça", "niño", "nino", "ß", "ss", "don't", "e-mail", "mail", "haha", "hahaha", "zz")
SYMBOLS = ("🙄", "😡", "❤️", "!!", "¿", "/s", "s", "?", "👏👏")


@dataclass
class _OldPhrase:
    rest: tuple[str, ...]
    category: str
    prefix: bool
    entry: str


@dataclass
class OldLexicon:
    """The dictionary walk crisis_tui.triage.lexicon replaced, as it was (one Python step per word)."""

    by_first: dict[str, list[_OldPhrase]] = field(default_factory=dict)
    prefixes: dict[int, dict[str, tuple[str, str]]] = field(default_factory=dict)
    symbols: list[tuple[str, str]] = field(default_factory=list)
    #: Question phrases by first word, matched only at the start of a comment.
    openers: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    _cache: dict[str, tuple[list[_OldPhrase], tuple[str, str] | None]] = field(default_factory=dict)

    @classmethod
    def build(cls, lists: Mapping[str, Iterable[str]]) -> OldLexicon:
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
        self.by_first.setdefault(words[0], []).append(_OldPhrase(tuple(words[1:]), category, prefix, raw))

    def _classify(self, word: str) -> tuple[list[_OldPhrase], tuple[str, str] | None]:
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


_entry = st.builds(
    lambda words, star: " ".join(words) + ("*" if star else ""),
    st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3), st.booleans(),
) | st.sampled_from(SYMBOLS)
_lists = st.dictionaries(st.sampled_from(CATEGORIES), st.lists(_entry, max_size=8), max_size=len(CATEGORIES))


def _same(new: Lexicon, old: OldLexicon, text: str) -> None:
    words = Words.of(text)
    assert new.count(words.words, words.folded) == old.count(words.words, words.folded), text


@st.composite
def _texts(draw: st.DrawFn, lists: dict[str, list[str]]) -> list[str]:
    """Comments made of the lists' own entries and words (so phrases meet their neighbours), some others
    and symbols."""
    own = sorted({e.rstrip("*") for entries in lists.values() for e in entries}
                 | {w for entries in lists.values() for e in entries for w in e.rstrip("*").split()})
    pieces = st.sampled_from(own + [w + "s" for w in own] + ["NO", "Ref", "#", ", ", "!"] + list(SYMBOLS))
    return draw(st.lists(st.lists(pieces, max_size=25).map(" ".join), min_size=1, max_size=5))


@settings(PROPERTY, max_examples=500)
@given(st.data(), _lists)
def test_the_scan_counts_what_the_word_walk_counted(data: st.DataObject, lists: dict[str, list[str]]) -> None:
    new, old = Lexicon.build(lists), OldLexicon.build(lists)
    for text in data.draw(_texts(lists)):
        _same(new, old, text)
        _same(new, old, text)  # the second time from the caches


def _shipped() -> list[tuple[Lexicon, OldLexicon]]:
    """The playbook's lexicons (each language's and the one for every language), built both ways."""
    book = playbook_mod.load()
    per_lang, union = lexicons(book)
    with mock.patch("crisis_tui.triage.assess.Lexicon", OldLexicon):
        old_per_lang, old_union = cast(tuple[dict[str, OldLexicon], OldLexicon], lexicons(book))
    return [(lex, old_per_lang[lang]) for lang, lex in per_lang.items()] + [(union, old_union)]


_SHIPPED = _shipped()
_SHIPPED_WORDS = sorted({w for new, _ in _SHIPPED for p in new.phrases for w in p.words}
                        | {start + end for new, _ in _SHIPPED for table in new.prefixes.values()
                           for start in table for end in ("", "s", "ing")})


@PROPERTY
@given(st.sampled_from(range(len(_SHIPPED))),
       st.lists(st.sampled_from(_SHIPPED_WORDS + ["y", "the", "🙄", "👍", "!!"]), max_size=30).map(" ".join))
def test_the_shipped_lists_count_what_they_counted(which: int, text: str) -> None:
    _same(*_SHIPPED[which], text)


def test_long_entries_sharing_their_start_build_and_count_as_the_walk_did() -> None:
    """The split by characters stops at a depth: a playbook's long phrases cannot reach the recursion limit."""
    long = " ".join(["palabra"] * 400)
    lists = {"negative": [long, long + " fin", "no"], "positive": [long + "*", long], "insults": [long + " fin"]}
    _same(Lexicon.build(lists), OldLexicon.build(lists), f"{long} fin ok no {long}s")
