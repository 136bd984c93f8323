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

from collections import Counter
from collections.abc import Iterable
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
