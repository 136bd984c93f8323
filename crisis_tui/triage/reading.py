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

import msgspec

from crisis_tui.triage.lexicon import Lexicon
from crisis_tui.triage.words import Words

_QUOTED = re.compile(r"[\"'‘“«][^\"'’”»]{3,60}[\"'’”»]")
#: Three capitals in a row (Latin-1 range): the cheap test before looking for shouted words.
_CAPS_RUN = re.compile(r"[A-ZÀ-ÖØ-Þ]{3}")
_SHOUT = re.compile(r"(?<![@#\w])[^\W\d_]{3,}")


class Reading(msgspec.Struct, array_like=True, gc=False):
    """What one comment's words say. A msgspec struct: the backlog reads comments in a
    second process and sends the readings back (crisis_tui.intake.parallel)."""

    negativity: float
    sarcastic: bool
    question: bool
    praise: bool
    #: Words and signals found, for the operator ("vergüenza", "shouting", "!!!").
    found: list[str]
    #: The comment's folded words (what copy-paste clustering compares).
    words: list[str]


def read(text: str | Words, lexicon: Lexicon, acronyms: frozenset[str] = frozenset()) -> Reading:
    """Read one comment with its language's lexicon (or all languages' when unknown)."""
    prepared = text if isinstance(text, Words) else Words.of(text)
    text, plain, folded, words = prepared.text, prepared.plain, prepared.folded, prepared.words
    hits, found, opening = lexicon.count(words, folded)
    signals: list[str] = []

    shout = 0.0
    if _CAPS_RUN.search(plain):
        shouted = [w for w in _SHOUT.findall(plain) if w.isupper() and w not in acronyms]
        if shouted:
            shout = min(1.5, 0.5 * len(shouted))
            signals.append("shouting")
    excitement = 0.0
    if "!" in text or "?" in text:
        excitement = 1.0 if "!!!" in text else 0.5 if "!!" in text else 0.0
        if "??" in text:
            excitement += 0.5
        if excitement:
            signals.append("!!!" if "!!!" in text else "!!" if "!!" in text else "??")

    negative = hits["negative"] + 2 * hits["insults"]
    positive = hits["positive"]
    hyperbole = hits["hyperbole"]
    sarcastic = bool(
        hits["sarcasm"]
        or (hyperbole and negative)
        or (positive and negative and (opening == "positive" or _QUOTED.search(text)))
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
        found=found + signals,
        words=words,
    )
