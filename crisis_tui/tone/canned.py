"""The canned-reply detector: is this draft a copy rather than a personal answer?

Similarity is the Dice coefficient of the two texts' word multisets (folded,
@mentions and links left out, since those are exactly what a copy-paster
changes). It is order-free on purpose: a template with its sentences shuffled
or a name swapped is still a template, while a paraphrase that says the same
in its own words shares few words and scores low. It costs one pass over each
text, and a length bound skips most pairs without counting at all, so the
checklist can compare against every earlier reply on each keystroke.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crisis_tui.tone.text import content_tokens


@dataclass(frozen=True)
class Bag:
    """A text's word multiset, ready to compare."""

    counts: Counter[str]
    size: int

    @classmethod
    def of(cls, text: str) -> Bag:
        counts = Counter(content_tokens(text))
        return cls(counts, sum(counts.values()))


def similarity(a: Bag, b: Bag) -> float:
    """Dice coefficient of two word multisets, 0 (nothing shared) to 1 (same words)."""
    total = a.size + b.size
    if total == 0:
        return 0.0
    small, large = (a, b) if len(a.counts) <= len(b.counts) else (b, a)
    shared = 0
    for word, n in small.counts.items():
        m = large.counts.get(word)
        if m:
            shared += n if n < m else m
    return 2.0 * shared / total


def upper_bound(a: Bag, b: Bag) -> float:
    """The best similarity two texts of these lengths could reach."""
    total = a.size + b.size
    return 2.0 * min(a.size, b.size) / total if total else 0.0


@dataclass(frozen=True)
class Match:
    score: float
    index: int


def closest(bag: Bag, others: Iterable[Bag], threshold: float) -> Match | None:
    """The most similar of `others` at or above `threshold`, else None."""
    best: Match | None = None
    for index, other in enumerate(others):
        if upper_bound(bag, other) < threshold:
            continue
        score = similarity(bag, other)
        if score >= threshold and (best is None or score > best.score):
            best = Match(score, index)
    return best


class Corpus:
    """Earlier replies indexed so a draft is compared only with plausible copies.

    A big incident holds thousands of replies; comparing each keystroke with
    all of them would take tens of milliseconds. For Dice >= t two texts must
    share at least s = t*|a|/(2-t) of the draft's |a| words, so any |a|-s+1 of
    the draft's words include a shared one. Taking the draft's *rarest* words
    (fewest earlier replies contain them) as that set, only replies containing
    one of them can be copies: usually a handful. The filter is exact: no copy
    is missed. The first copy found (the oldest) is the answer; when a wave of
    copies is in the incident there is no need to score them all.
    """

    def __init__(self, bags: Sequence[Bag]) -> None:
        self.bags = list(bags)
        self.postings: dict[str, list[int]] = {}
        for index, bag in enumerate(self.bags):
            for word in bag.counts:
                self.postings.setdefault(word, []).append(index)

    def closest(self, bag: Bag, threshold: float) -> Match | None:
        """The oldest earlier reply at or above `threshold`, else None."""
        if bag.size == 0 or not self.bags:
            return None
        needed = math.ceil(threshold * bag.size / (2.0 - threshold) - 1e-9)
        budget = bag.size - needed + 1
        if needed <= 0 or budget >= bag.size:
            candidates: Iterable[int] = range(len(self.bags))
        else:
            candidates = sorted(self._candidates(bag, budget))
        for index in candidates:
            other = self.bags[index]
            if upper_bound(bag, other) < threshold:
                continue
            score = similarity(bag, other)
            if score >= threshold:
                return Match(score, index)
        return None

    def _candidates(self, bag: Bag, budget: int) -> set[int]:
        """Replies holding one of the draft's `budget` rarest word occurrences."""
        postings = self.postings
        candidates: set[int] = set()
        for word in sorted(bag.counts, key=lambda w: len(postings.get(w, ()))):
            candidates.update(postings.get(word, ()))
            budget -= bag.counts[word]
            if budget <= 0:
                break
        return candidates


class BagCache:
    """Bags of texts seen before (earlier replies), so each is counted once."""

    def __init__(self, limit: int = 2048) -> None:
        self._limit = limit
        self._bags: dict[str, Bag] = {}

    def get(self, text: str) -> Bag:
        bag = self._bags.get(text)
        if bag is None:
            if len(self._bags) >= self._limit:
                self._bags.pop(next(iter(self._bags)))
            bag = self._bags[text] = Bag.of(text)
        return bag


class CorpusCache:
    """The index of the incident's earlier replies, rebuilt only when they change."""

    def __init__(self, bags: BagCache, limit: int = 4) -> None:
        self._bags = bags
        self._limit = limit
        self._corpora: dict[tuple[str, ...], tuple[Corpus, list[int]]] = {}

    def get(self, texts: tuple[str, ...]) -> tuple[Corpus, list[int]]:
        """The corpus of the non-blank texts, and each entry's position in `texts`."""
        found = self._corpora.get(texts)
        if found is None:
            positions = [i for i, t in enumerate(texts) if t.strip()]
            found = (Corpus([self._bags.get(texts[i]) for i in positions]), positions)
            if len(self._corpora) >= self._limit:
                self._corpora.pop(next(iter(self._corpora)))
            self._corpora[texts] = found
        return found
