"""Reach, velocity, the priority that orders the stream, and a comment's label.

Priority (0-100, higher first) is a weighted sum of what makes a comment urgent
for a crisis committee: how negative it is, how many people see it (reach),
how fast it gathers engagement (velocity) and whether it asks something; a
suspected bot is pushed down, not hidden. Reach and velocity are on log scales:
a comment seen by a million people is not a thousand times more urgent than
one seen by a thousand.
"""

from __future__ import annotations

import math

from crisis_tui.model import NewComment, waiting_since
from crisis_tui.playbook import TriageWeights

LABELS: tuple[str, ...] = ("complaint", "question", "praise", "sarcasm", "bot", "other")


def reach(comment: NewComment) -> float:
    """0-1: audience and engagement, 1 at about a million (a net score below zero adds no reach)."""
    audience = (comment.author_followers or 0) + 3 * max(comment.likes, 0) + 10 * comment.shares + 2 * comment.replies
    return min(1.0, math.log10(1 + audience) / 6.0)


def velocity(comment: NewComment, now: float) -> float:
    """0-1: engagement per hour since it was posted, 1 at about 10,000 an hour (a posting time
    ahead of `now` counts as now, as everywhere: model.waiting_since)."""
    if comment.posted_at is None:
        return 0.0
    engagement = max(comment.likes, 0) + 3 * comment.shares + 2 * comment.replies
    if engagement <= 0:
        return 0.0
    hours = max((now - waiting_since(comment.posted_at, now)) / 3600.0, 0.1)
    return min(1.0, math.log10(1 + engagement / hours) / 4.0)


def scale(weights: TriageWeights) -> float:
    """The most the weighted signals can add up to (so a priority tops out at 100)."""
    # Spelled out rather than sum() over a generator: it runs for every comment (1 us less), same order of addition.
    return (max(weights.negativity, 0.0) + max(weights.reach, 0.0) + max(weights.velocity, 0.0)
            + max(weights.question, 0.0) + max(weights.verified, 0.0)) or 1.0


def priority(
    weights: TriageWeights,
    *,
    negativity: float,
    reach_score: float,
    velocity_score: float,
    question: bool,
    verified: bool,
    bot_score: float,
) -> float:
    total = (
        weights.negativity * negativity
        + weights.reach * reach_score
        + weights.velocity * velocity_score
        + (weights.question if question else 0.0)
        + (weights.verified if verified else 0.0)
    )
    value = 100.0 * total / scale(weights)
    value *= 1.0 - min(max(weights.bot_discount, 0.0), 1.0) * bot_score
    return round(max(0.0, min(100.0, value)), 2)


def label(*, bot: bool, sarcastic: bool, negativity: float, complaint_threshold: float, question: bool, praise: bool) -> str:
    """One word for what a comment is, in the order an operator would decide it."""
    if bot:
        return "bot"
    if sarcastic:
        return "sarcasm"
    if negativity >= complaint_threshold:
        return "complaint"
    if question:
        return "question"
    if praise:
        return "praise"
    return "complaint" if negativity >= complaint_threshold / 2 else "other"
