"""Normalise and triage comments on their way to the store.

Every source ends here, so a comment from a JSONL file, a CSV export, a feed
or Mastodon is treated the same: its language tag normalised (or detected when
missing), then scored by the triager (negativity, bot suspicion and reasons,
copy-paste cluster, priority), and counted for spike detection.

`prepare_batch` is the stateless door (a fresh pipeline per call: clusters
form within the batch); `Pipeline` is the stateful one the ingest command
keeps for a whole run, so clusters, posting bursts and the spike baseline span
batches, and `warm()` seeds them from the incident's recent comments after a
restart.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from crisis_tui import playbook as playbook_mod
from crisis_tui.events import SpikeAlert, encode
from crisis_tui.language import LanguageGuesser, normalise_tag
from crisis_tui.model import IngestResult, NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.triage import Assessment, Prepared, Triager
from crisis_tui.triage.spikes import SpikeDetector
from crisis_tui.triage.words import Words

#: How many recent comments `warm()` reads back to seed clusters and the baseline.
WARM_COMMENTS = 5000
#: How many recent comments a pipeline remembers its judgement of, by (source, external id): a platform
#: that retries a webhook delivery, or a poller that meets a comment on two pages, gets the first
#: judgement again, and the copy counts for no spike and joins no copy-paste cluster (the store refuses
#: it as a duplicate, but it was counted before). About 300 bytes each.
REMEMBERED = 20_000


class Pipeline:
    """Language, triage and spike detection for one intake run (see the module docstring)."""

    def __init__(
        self, book: Playbook | None = None, *, clock: Callable[[], float] = time.time, count_arrivals: bool = True
    ) -> None:
        """`count_arrivals`: whether a comment without a posted time counts for spikes at
        its arrival (live sources) or not at all (a backlog file read at full speed)."""
        self.book = book or playbook_mod.load()
        self.clock = clock
        self.count_arrivals = count_arrivals
        stopwords = {lang: words.stopwords for lang, words in self.book.tone.words.items()}
        self.guesser = LanguageGuesser(stopwords)
        self.triager = Triager(self.book)
        self.spikes = SpikeDetector(self.book.triage.spike, started_at=clock())
        self._judged: OrderedDict[tuple[str, str], Assessment] = OrderedDict()

    def language(self, comment: NewComment, words: Words | None = None) -> str:
        """The comment's own tag when it has one, else the detected language ("" if unsure)."""
        tag = normalise_tag(comment.lang) if comment.lang else ""
        return tag or self.guesser.detect(comment.text, words.words if words else None)

    def read(self, comments: Sequence[NewComment], now: float | None = None) -> list[Prepared]:
        """The stateless half: fill each comment's language and read what it says on its own.
        A big backlog runs it in a second process (crisis_tui.intake.parallel)."""
        now = self.clock() if now is None else now
        out: list[Prepared] = []
        for comment in comments:
            words = Words.of(comment.text)
            comment.lang = self.language(comment, words)
            out.append(self.triager.prepare(comment, now, words))
        return out

    def assess(
        self, comments: Sequence[NewComment], now: float | None = None, prepared: Sequence[Prepared] | None = None
    ) -> list[Assessment]:
        """Fill language and triage fields on each comment; return the full assessments.
        `prepared`: what `read` already gave for these comments (their languages are set then)."""
        now = self.clock() if now is None else now
        if prepared is None:
            prepared = self.read(comments, now)
        out: list[Assessment] = []
        judged = self._judged
        for comment, alone in zip(comments, prepared, strict=True):
            key = (comment.source, comment.external_id)
            assessment = judged.get(key)
            if assessment is not None:  # a delivery seen already: judged once, counted once
                judged.move_to_end(key)
                assessment.apply(comment)
                out.append(assessment)
                continue
            assessment = self.triager.judge(comment, alone)
            assessment.apply(comment)
            if comment.posted_at is not None or self.count_arrivals:
                self.spikes.observe(comment.posted_at, now, comment.source)
            judged[key] = assessment
            if len(judged) > REMEMBERED:
                judged.popitem(last=False)
            out.append(assessment)
        return out

    def prepare(self, comments: list[NewComment], now: float | None = None) -> list[NewComment]:
        self.assess(comments, now)
        return comments

    def spike(self, now: float | None = None) -> SpikeAlert | None:
        """The spike alert's body when the last minute is a spike worth an alert."""
        spike = self.spikes.check(self.clock() if now is None else now)
        return spike.alert(self.book.triage.spike.baseline_minutes) if spike else None

    def spike_alert(self, now: float | None = None) -> dict[str, object] | None:
        """The same as a payload, for the server's webhook (crisis_tui.server writes kind and payload)."""
        body = self.spike(now)
        if body is None:
            return None
        payload: dict[str, object] = encode(body)[1]
        return payload

    async def warm(self, store: IncidentStore, incident_id: str, limit: int = WARM_COMMENTS) -> int:
        """Seed clusters, posting bursts and the spike baseline from the newest stored comments."""
        counts = await store.counts(incident_id)
        if not counts.total:
            return 0
        recent = await store.comments(incident_id, after_id=max(0, counts.total - limit))
        now = self.clock()
        for comment in recent:
            self.triager.clusters.add(comment.text, comment.author)
            self.spikes.observe(comment.posted_at if comment.posted_at is not None else comment.received_at,
                                now, comment.source)
        return len(recent)

    async def ingest(self, store: IncidentStore, incident_id: str, comments: list[NewComment], *,
                     actor: str = "intake") -> IngestResult:
        """Prepare, store in one batch, and write a spike alert when the stream spikes."""
        result = await store.ingest(incident_id, self.prepare(comments), actor=actor)
        alert = self.spike()
        if alert is not None:
            await store.alert(incident_id, *encode(alert), actor=actor)
        return result


def prepare_batch(comments: list[NewComment], *, playbook: Playbook | None = None) -> list[NewComment]:
    """Fill lang, negativity, bot_score, bot_reasons, cluster and priority on each comment."""
    return Pipeline(playbook).prepare(comments)
