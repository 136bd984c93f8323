"""Bot suspicion: a score from independent signals, each with a reason kept for the operator.

The source articles ask the committee to check the commenter is a real user
before answering; fake ones get a removal request. Triage cannot decide that,
but it can say *why* an account looks fake, in words an operator checks in a
few seconds: "account 2 days old", "follows 912, followed by 0", "same text as
6 other comments from 6 accounts", "handle looks generated". The signals are
combined as independent evidence (1 - product of (1 - weight)), so one signal
alone never makes a bot; a verified account halves the score.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from crisis_tui.model import NewComment
from crisis_tui.playbook import BotRules

DAY = 86400.0


@dataclass(slots=True)
class Suspicion:
    score: float
    reasons: tuple[str, ...]


def _days(seconds: float) -> str:
    days = seconds / DAY
    if days < 1:
        hours = max(1, int(seconds // 3600))
        return f"{hours} hour{'s' if hours != 1 else ''}"
    whole = int(days)
    return f"{whole} day{'s' if whole != 1 else ''}"


class BotSignals:
    """Reads one comment's account and behaviour; keeps a short memory of who posted when."""

    def __init__(self, rules: BotRules) -> None:
        self.rules = rules
        self.patterns = [re.compile(p) for p in rules.handle_patterns]
        self._recent: dict[tuple[str, str], float | deque[float]] = {}
        self._generated: dict[str, bool] = {}
        self._window = rules.burst_minutes * 60.0

    def account(self, comment: NewComment, when: float) -> list[tuple[float, str]]:
        """Signals about the account alone (age, follow ratio, posts a day, handle, declared bot):
        no memory needed, so they can be read in another process."""
        rules = self.rules
        weights = rules.weights
        found: list[tuple[float, str]] = []
        created = comment.author_created_at
        if created is not None and created <= when:
            age = when - created
            if age < rules.new_account_days * DAY:
                found.append((weights.new_account, f"account {_days(age)} old"))
            elif age < rules.young_account_days * DAY:
                found.append((weights.young_account, f"account {_days(age)} old"))
        followers, following = comment.author_followers, comment.author_following
        if followers is not None and following is not None and following >= rules.min_following:
            if followers <= rules.max_followers or following / max(followers, 1) >= rules.ratio:
                found.append((weights.follow_ratio, f"follows {following:,}, followed by {followers:,}"))
        statuses = comment.extra.get("author_statuses") if comment.extra else None
        if isinstance(statuses, int) and not isinstance(statuses, bool) and created is not None and when > created:
            per_day = statuses / max((when - created) / DAY, 1.0)
            if per_day >= rules.max_posts_per_day:
                found.append((weights.posting_rate, f"posts {per_day:,.0f} times a day"))
        if self._looks_generated(comment.author):
            found.append((weights.handle, "handle looks generated"))
        if comment.extra and comment.extra.get("author_bot") is True:
            found.append((weights.declared, "the account says it is a bot"))
        return found

    def behaviour(
        self, comment: NewComment, when: float, copies: int, copy_authors: int, words: int, *, rate_known: bool = False
    ) -> list[tuple[float, str]]:
        """Signals from what the stream has seen so far: a posting burst (unless the account's
        posts a day already said so) and copy-paste. `copies`/`copy_authors`: its cluster so far."""
        rules = self.rules
        found: list[tuple[float, str]] = []
        burst = self._burst(comment, when)
        if burst and not rate_known:
            found.append((rules.weights.posting_rate, burst))
        if copies >= rules.copy_paste_min and copy_authors >= rules.copy_paste_min and words >= rules.copy_paste_min_words:
            others = copies - 1
            found.append((rules.weights.copy_paste, f"same text as {others} other comment{'s' if others != 1 else ''} "
                                                    f"from {copy_authors} accounts"))
        return found

    @staticmethod
    def combine(comment: NewComment, signals: list[tuple[float, str]]) -> Suspicion:
        """Independent evidence: 1 - product of (1 - weight); a verified account halves it."""
        keep = 1.0
        for weight, _ in signals:
            keep *= 1.0 - min(max(weight, 0.0), 1.0)
        score = 1.0 - keep
        if comment.author_verified:
            score *= 0.5
        return Suspicion(score=round(score, 3), reasons=tuple([reason for _, reason in signals]) if signals else ())

    def assess(self, comment: NewComment, when: float, copies: int, copy_authors: int, words: int) -> Suspicion:
        account = self.account(comment, when)
        rate_known = any(reason.startswith("posts ") for _, reason in account)
        return self.combine(comment, account + self.behaviour(comment, when, copies, copy_authors, words, rate_known=rate_known))

    def _looks_generated(self, author: str) -> bool:
        known = self._generated.get(author)
        if known is None:
            handle = author.strip().lower()
            known = False
            for pattern in self.patterns:
                if pattern.search(handle):
                    known = True
                    break
            if len(self._generated) > 200_000:
                self._generated.clear()
            self._generated[author] = known
        return known

    def _burst(self, comment: NewComment, when: float) -> str:
        rules = self.rules
        # Most authors post once: remember a lone time, and only a second post makes a deque.
        key = (comment.source, comment.author)
        seen = self._recent.get(key)
        if seen is None:
            if len(self._recent) > 200_000:
                self._recent.clear()
            self._recent[key] = when
            return ""
        if not isinstance(seen, deque):
            seen = self._recent[key] = deque((seen,), maxlen=max(rules.burst_comments, 1) * 4)
        seen.append(when)
        while seen and seen[0] < when - self._window:
            seen.popleft()
        if len(seen) >= rules.burst_comments:
            return f"{len(seen)} comments in {rules.burst_minutes:g} minutes"
        return ""
