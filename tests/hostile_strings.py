"""Hypothesis strategies for what a hostile stranger (or a careless operator) can type.

Any code point (lone surrogates included), with the pieces attacks are made of
mixed in often enough that they meet: escape introducers and terminators,
8-bit C1 controls, bidi overrides, Textual markup and its actions.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Bounded, no deadline (a loaded CI core is slow, not wrong), and the same examples on
#: every CI run (CI=true) while a developer's run keeps exploring new ones.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)

ATTACK_PIECES = [
    "\x1b", "\x1b[", "\x1b]", "\x1bP", "\x1b\\", "\x07", "\x9b", "\x9d", "\x9c", "\x90", "\x7f", "\r", "\n", "\t",
    "\x1b[2J", "\x1b[31m", "\x1b]52;c;ZXZpbA==\x07", "\x1b]8;;http://x\x1b\\", "\u202e", "\u2066", "\u200b",
    "\ufeff", "\ud800", "\udfff", "\u2028", "\x85", "[", "]", "[/]", "[bold]", "[/bold] [red", "[@click=app.quit]",
    "$text-error", "[link=http://x]", "\\[", ";", "m", "J", "52",
]
#: Every code point, surrogates too (hypothesis leaves them out unless asked).
ANY_CHAR = st.characters(exclude_categories=[])
HOSTILE_TEXT = st.lists(st.one_of(st.sampled_from(ATTACK_PIECES), st.text(ANY_CHAR, max_size=8)), max_size=24).map(
    "".join
)
