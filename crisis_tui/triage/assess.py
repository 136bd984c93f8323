"""One comment in, its triage out: the reader the intake runs every comment through.

In two halves. `prepare` needs nothing but the comment (what its words say,
its reach and velocity, what its account looks like), so a big backlog runs it
in a second process. `judge` needs memory of earlier comments (copy-paste
clusters, posting bursts) and combines everything into the bot score, the
priority and a label. The Triager holds that memory and the playbook's compiled
word lists; it does not detect languages or spikes (crisis_tui.intake.pipeline
does, around it) and it does not touch the store.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.triage.bots import BotSignals
from crisis_tui.triage.clusters import ClusterIndex
from crisis_tui.triage.lexicon import CATEGORIES, Lexicon
from crisis_tui.triage.priority import label, priority, reach, velocity
from crisis_tui.triage.reading import Reading, read
from crisis_tui.triage.spikes import SKEW
from crisis_tui.triage.words import Words


class Prepared(msgspec.Struct, array_like=True, gc=False):
    """What one comment says on its own (the stateless half of triage)."""

    reading: Reading
    #: When it counts as posted (its posted time, else when it was read).
    when: float
    reach: float
    velocity: float
    #: Bot signals about the account alone: (weight, reason).
    account: list[tuple[float, str]]


@dataclass(slots=True)
class Assessment:
    negativity: float
    bot_score: float
    bot_reasons: tuple[str, ...]
    cluster: str
    cluster_size: int
    priority: float
    label: str
    question: bool
    sarcastic: bool
    #: Words and signals the reading found ("vergüenza", "shouting"), for explanations.
    found: list[str]

    def apply(self, comment: NewComment) -> NewComment:
        comment.negativity = self.negativity
        comment.bot_score = self.bot_score
        comment.bot_reasons = list(self.bot_reasons)
        comment.cluster = self.cluster
        comment.priority = self.priority
        return comment


def lexicons(book: Playbook) -> tuple[dict[str, Lexicon], Lexicon]:
    """Each language's lexicon (triage lists plus the tone lists' insults and sarcasm),
    and one with every language's lists for comments whose language is unknown."""
    per_lang: dict[str, dict[str, list[str]]] = {}
    for lang, words in book.triage.words.items():
        per_lang.setdefault(lang, {c: [] for c in CATEGORIES})
        for category in CATEGORIES:
            per_lang[lang][category].extend(getattr(words, category))
    for lang, tone in book.tone.words.items():
        lists = per_lang.setdefault(lang, {c: [] for c in CATEGORIES})
        lists["insults"].extend(tone.insults)
        lists["sarcasm"].extend(tone.sarcasm)
    union: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    for lists in per_lang.values():
        for category, entries in lists.items():
            union[category].extend(entries)
    return {lang: Lexicon.build(lists) for lang, lists in per_lang.items()}, Lexicon.build(union)


class Triager:
    """Scores comments one by one, remembering clusters and posting bursts."""

    def __init__(self, book: Playbook) -> None:
        self.book = book
        self.rules = book.triage
        self.lexicons, self.any_language = lexicons(book)
        self.acronyms = frozenset(a.upper() for a in book.tone.acronyms)
        self.bots = BotSignals(self.rules.bot)
        self.clusters = ClusterIndex(self.rules.cluster.similarity, self.rules.cluster.min_words)

    def prepare(self, comment: NewComment, now: float, words: Words | None = None) -> Prepared:
        """The stateless half; `words`: the comment's prepared text when already made."""
        reading = read(words or Words.of(comment.text), self.lexicons.get(comment.lang, self.any_language), self.acronyms)
        posted = comment.posted_at
        when = posted if posted is not None and posted <= now + SKEW else now
        return Prepared(reading, when, reach(comment), velocity(comment, now), self.bots.account(comment, when))

    def assess(self, comment: NewComment, now: float, words: Words | None = None) -> Assessment:
        return self.judge(comment, self.prepare(comment, now, words))

    def judge(self, comment: NewComment, prepared: Prepared) -> Assessment:
        """The stateful half: clusters, posting bursts, bot suspicion, priority and label."""
        rules = self.rules
        reading = prepared.reading
        cluster = self.clusters.add(comment.text, comment.author, reading.words)
        rate_known = bool(prepared.account) and any(reason.startswith("posts ") for _, reason in prepared.account)
        behaviour = self.bots.behaviour(comment, prepared.when, cluster.size, len(cluster.authors), len(cluster.words),
                                        rate_known=rate_known)
        suspicion = self.bots.combine(comment, prepared.account + behaviour if behaviour else prepared.account)
        is_bot = suspicion.score >= rules.bot.threshold
        return Assessment(
            negativity=reading.negativity,
            bot_score=suspicion.score,
            bot_reasons=suspicion.reasons,
            cluster=cluster.id,
            cluster_size=cluster.size,
            priority=priority(
                rules.weights,
                negativity=reading.negativity,
                reach_score=prepared.reach,
                velocity_score=prepared.velocity,
                question=reading.question and not reading.sarcastic,
                verified=comment.author_verified,
                bot_score=suspicion.score,
            ),
            label=label(
                bot=is_bot,
                sarcastic=reading.sarcastic,
                negativity=reading.negativity,
                complaint_threshold=rules.complaint_threshold,
                question=reading.question,
                praise=reading.praise,
            ),
            question=reading.question,
            sarcastic=reading.sarcastic,
            found=reading.found,
        )
