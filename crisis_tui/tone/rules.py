"""The shipped tone rules, one small function each.

Every rule the playbook lists with `kind = "auto"` must have an evaluator here
(the playbook says *which* rules apply, their labels and order, and supplies
word lists and thresholds; this module says *how* each is checked). Rules with
`kind = "manual"` are ticked by a person; `real_user` is a manual rule that
also shows why triage suspects a bot. Reasons are a few words, fit for a
checklist row and for a script's output.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from crisis_tui.playbook import Playbook, ToneRule
from crisis_tui.tone.canned import Bag, BagCache, CorpusCache, closest
from crisis_tui.tone.text import Terms, content_tokens, original, quote
from crisis_tui.tone.verdict import ToneContext, Verdict

_SHOUT = re.compile(r"[^\W\d_]{3,}")
_EXCLAIM = re.compile(r"[!\uff01]")
# Channels and time frames that need no word list: links, e-mail addresses,
# phone numbers, "24h", "48 horas", "10:30".
_NEXT_STEP_PATTERNS = re.compile(
    r"https?://\S+|www\.\S+|\b[\w.+-]+@[\w-]+\.[\w.-]+"
    r"|\+?\d[\d ().-]{6,}\d"
    r"|\b\d{1,3}\s?(?:h|hrs?|hours?|horas?|ore|min|mins|minutes?|minutos?|minuti|days?|dias?|giorni)\b"
    r"|\b\d{1,2}[:.]\d{2}\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Lexicon:
    """One language's word lists, compiled."""

    lang: str
    insults: Terms
    sarcasm: Terms
    apology: Terms
    next_step: Terms
    threats: Terms
    stopwords: frozenset[str]


@dataclass(frozen=True)
class Reading:
    """A draft read once per check and shared by every rule."""

    text: str
    folded: str
    lexicon: Lexicon
    tokens: tuple[str, ...]

    def typed(self, span: tuple[int, int]) -> str:
        """A match in the folded text, as the person typed it."""
        return " ".join(original(self.text, span).split())


class Rules:
    """The evaluators, with what they precompute from one playbook."""

    KNOWN = frozenset(
        {"calm", "focus", "apology", "next_step", "personal", "no_threat", "length", "sla", "real_user", "authority"}
    )

    def __init__(self, book: Playbook, all_stopwords: frozenset[str]) -> None:
        self.book = book
        self.threshold = book.tone.canned_threshold
        self.max_exclamations = book.tone.max_exclamations
        self.acronyms = frozenset(a.upper() for a in book.tone.acronyms)
        self.key_stopwords = all_stopwords
        self.snippets = [(s.id, Bag.of(s.text)) for s in book.snippets if s.text.strip()]
        self.bags = BagCache()
        self.corpora = CorpusCache(self.bags)
        self._key_terms: dict[str, list[tuple[str, str]]] = {}
        self.table: dict[str, Callable[[Reading, ToneContext, ToneRule], Verdict]] = {
            name: getattr(self, name) for name in self.KNOWN
        }

    @classmethod
    def known(cls) -> frozenset[str]:
        """Rule ids with an automatic evaluator."""
        return cls.KNOWN

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _verdict(
        rule: ToneRule, passed: bool | None, reason: str, *, applicable: bool = True, ticked: bool | None = None
    ) -> Verdict:
        """Tickable rules (the manual ones, and "focus", whose heuristic a person may
        overrule) pass `ticked`; the others leave it None."""
        return Verdict(rule=rule.id, label=rule.label, kind=rule.kind, passed=passed, reason=reason,
                       applicable=applicable, ticked=ticked)

    @staticmethod
    def _empty(reading: Reading) -> bool:
        return not reading.tokens

    def manual(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        """A playbook's own manual rule: a person ticks it."""
        ticked = bool(ctx.ticked.get(rule.id, False))
        return self._verdict(rule, True if ticked else None, "ticked" if ticked else "to be ticked", ticked=ticked)

    # ------------------------------------------------------------------ rules
    def calm(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        if self._empty(reading):
            return self._verdict(rule, None, "nothing written yet")
        problems: list[str] = []
        lex = reading.lexicon
        if insult := lex.insults.first(reading.folded):
            problems.append(f"insult: {reading.typed(insult)}")
        if sarcasm := lex.sarcasm.first(reading.folded):
            problems.append(f"sarcasm: {reading.typed(sarcasm)}")
        shouted = [w for w in _SHOUT.findall(reading.text) if w.isupper() and w not in self.acronyms]
        if shouted:
            problems.append(f"shouting: {' '.join(shouted[:2])}")
        marks = len(_EXCLAIM.findall(reading.text))
        if marks > self.max_exclamations:
            problems.append(f"{marks} '!' (max {self.max_exclamations})")
        if problems:
            return self._verdict(rule, False, "; ".join(problems[:2]))
        return self._verdict(rule, True, "calm")

    def key_terms(self, comment: str) -> list[tuple[str, str]]:
        """(stem, word) pairs of what the comment is about, in order of appearance."""
        cached = self._key_terms.get(comment)
        if cached is not None:
            return cached
        terms: list[tuple[str, str]] = []
        seen: set[str] = set()
        for word in content_tokens(comment):
            if word in self.key_stopwords or (len(word) < 3 and not (word.isdigit() and len(word) >= 2)):
                continue
            stem = _stem(word)
            if stem not in seen:
                seen.add(stem)
                terms.append((stem, word))
        if len(self._key_terms) > 256:
            self._key_terms.clear()
        self._key_terms[comment] = terms
        return terms

    def focus(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        ticked = bool(ctx.ticked.get(rule.id, False))
        if not ctx.comment_text.strip():
            return self._verdict(rule, None, "no comment to compare", applicable=False)
        terms = self.key_terms(ctx.comment_text)
        if ticked:
            return self._verdict(rule, True, "ticked by a person", ticked=True)
        if not terms:
            return self._verdict(rule, None, "comment has no key terms: tick if on topic", ticked=False)
        if self._empty(reading):
            return self._verdict(rule, None, "nothing written yet", ticked=False)
        mine = {_stem(w) for w in reading.tokens}
        shared = [word for stem, word in terms if stem in mine]
        if shared:
            return self._verdict(rule, True, f"mentions {', '.join(shared[:3])}", ticked=False)
        missing = ", ".join(sorted((word for _, word in terms), key=len, reverse=True)[:3])
        return self._verdict(rule, False, f"misses {missing}", ticked=False)

    def apology(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        if not ctx.our_fault:
            return self._verdict(rule, None, "not our fault", applicable=False)
        if self._empty(reading):
            return self._verdict(rule, None, "nothing written yet")
        if said := reading.lexicon.apology.first(reading.folded):
            return self._verdict(rule, True, f"says {quote(reading.typed(said), 20)}")
        return self._verdict(rule, False, "no apology; the fault is ours")

    def next_step(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        if self._empty(reading):
            return self._verdict(rule, None, "nothing written yet")
        span = reading.lexicon.next_step.first(reading.folded)
        offer = reading.typed(span) if span else None
        if offer is None:
            match = _NEXT_STEP_PATTERNS.search(reading.text)
            offer = match.group(0) if match else None
        if offer:
            return self._verdict(rule, True, f"offers {quote(offer, 20)}")
        return self._verdict(rule, False, "no channel, time or action")

    def personal(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        if self._empty(reading):
            return self._verdict(rule, None, "nothing written yet")
        bag = Bag.of(reading.text)
        corpus, positions = self.corpora.get(ctx.earlier_replies)
        if hit := corpus.closest(bag, self.threshold):
            earlier = ctx.earlier_replies[positions[hit.index]]
            return self._verdict(rule, False, f"{hit.score:.0%} like an earlier reply {quote(earlier, 18)}")
        if hit := closest(bag, [b for _, b in self.snippets], self.threshold):
            return self._verdict(rule, False, f"only snippet {self.snippets[hit.index][0]!r} ({hit.score:.0%})")
        return self._verdict(rule, True, "own words")

    def no_threat(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        if self._empty(reading):
            return self._verdict(rule, None, "nothing written yet")
        found = reading.lexicon.threats.found(reading.folded, 2)
        if found:
            return self._verdict(rule, False, f"says {', '.join(quote(reading.typed(s), 24) for s in found)}")
        return self._verdict(rule, True, "no threat or argument")

    def length(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        limit = self.book.platform_limit(ctx.platform or "default")
        used = len(reading.text.strip())
        where = f" on {ctx.platform}" if ctx.platform else ""
        if used > limit:
            return self._verdict(rule, False, f"{used}/{limit}{where}, {used - limit} over")
        return self._verdict(rule, True, f"{used}/{limit}{where}")

    def sla(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        if ctx.comment_received_at is None:
            return self._verdict(rule, None, "no comment to time", applicable=False)
        budget = self.book.sla_seconds(ctx.severity)
        now = time.time() if ctx.now is None else ctx.now
        left = ctx.comment_received_at + budget - now
        total = f"{budget / 60:.0f} min"
        if left < 0:
            return self._verdict(rule, False, f"{_minutes(-left)} over the {total} SLA")
        return self._verdict(rule, True, f"{_minutes(left)} left of {total}")

    def real_user(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        ticked = bool(ctx.ticked.get(rule.id, False))
        suspicion = f" (bot? {', '.join(ctx.bot_reasons[:2])})" if ctx.bot_reasons else ""
        if ticked:
            return self._verdict(rule, True, f"checked by a person{suspicion}", ticked=True)
        if rule.kind == "auto":  # a playbook may make it blocking: unticked fails
            return self._verdict(rule, False, f"not checked yet{suspicion}", ticked=False)
        return self._verdict(rule, None, f"not checked yet{suspicion}", ticked=False)

    def authority(self, reading: Reading, ctx: ToneContext, rule: ToneRule) -> Verdict:
        if ctx.kind != "statement":
            return self._verdict(rule, None, "replies need no statement approval", applicable=False)
        if ctx.approved_by_decision_power:
            return self._verdict(rule, True, "approved with decision power")
        deciders = "/".join(r.id for r in self.book.roles if r.decision_power)
        return self._verdict(rule, None, f"needs approval by {deciders}")


def _stem(word: str) -> str:
    """Crude stem: the first five letters, so refund/refunds and reembolso/reembolsar meet."""
    return word[:5] if len(word) > 5 else word


def _minutes(seconds: float) -> str:
    return "<1 min" if seconds < 60 else f"{seconds // 60:.0f} min"
