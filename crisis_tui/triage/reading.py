"""What a comment's words say: how negative it is, and whether it is sarcastic,
a question or praise.

A crisis stream is short, emotional text in several languages; a lexicon with a
few rules (shouting, "!!!", irony markers next to a complaint) reads it well
enough to order a queue, explains itself (the words it found), and runs in
microseconds. It is not a sentiment model and does not pretend to be one: the
operator reads every comment; triage only decides which one they read first.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from crisis_tui.tone.text import fold, tokens
from crisis_tui.triage.lexicon import Lexicon

_SHOUT = re.compile(r"(?<![@#\w])[^\W\d_]{3,}")
_MENTION_OR_URL = re.compile(r"[@#]\w+|https?://\S+|www\.\S+", re.IGNORECASE)
_QUOTED = re.compile(r"[\"'‘“«][^\"'’”»]{3,60}[\"'’”»]")


@dataclass(frozen=True)
class Reading:
    negativity: float
    sarcastic: bool
    question: bool
    praise: bool
    #: Words and signals found, for the operator ("vergüenza", "shouting", "!!!").
    found: tuple[str, ...]


def read(text: str, lexicon: Lexicon, acronyms: frozenset[str] = frozenset()) -> Reading:
    """Read one comment with its language's lexicon (or all languages' when unknown)."""
    plain = _MENTION_OR_URL.sub(" ", text)
    folded = fold(plain)
    words = tokens(folded)
    hits, found, opening = lexicon.count(words, folded)
    signals: list[str] = []

    shouted = [w for w in _SHOUT.findall(plain) if w.isupper() and w not in acronyms]
    shout = min(1.5, 0.5 * len(shouted))
    if shouted:
        signals.append("shouting")
    bangs = text.count("!") + text.count("¡")
    excitement = 1.0 if "!!!" in text else 0.5 if "!!" in text else 0.0
    if "??" in text:
        excitement += 0.5
    if excitement:
        signals.append("!" * min(3, bangs) or "??")

    negative = hits["negative"] + 2 * hits["insults"]
    positive = hits["positive"]
    hyperbole = hits["hyperbole"]
    quoted = bool(_QUOTED.search(text))
    sarcastic = bool(
        hits["sarcasm"]
        or (hyperbole and negative)
        or (positive and negative and (quoted or opening == "positive"))
    )
    raw = negative + shout + excitement
    if sarcastic:
        raw = max(raw, 1.5) + 1.0
    elif positive and not negative:
        raw = max(0.0, raw - 0.5 * positive)
    negativity = 1.0 - math.exp(-raw / 2.0)
    question = "?" in text or "¿" in text or lexicon.opens_question(words)
    praise = positive > 0 and negative == 0 and not sarcastic
    return Reading(
        negativity=round(negativity, 3),
        sarcastic=sarcastic,
        question=question,
        praise=praise,
        found=tuple(dict.fromkeys(found + signals)),
    )
