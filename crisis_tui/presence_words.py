"""The words for someone not in the room, one per state, for the timeline and the committee pane.

"left": they quit (or their room closed cleanly). "gone": their heartbeat stopped, whether the
store has already recorded it (an expiry, reason "timeout") or the room sees it stale. The
record used to say "timed out" where the pane said "left" for that same state.
"""

from __future__ import annotations

LEFT = "left"
GONE = "gone"

#: OperatorLeft's reason for an expiry the store wrote (no heartbeat for gone_after_seconds).
EXPIRED = "timeout"


def absence_word(left_reason: str) -> str:
    """The word for a member who is no longer here, from the reason their leaving was recorded with."""
    return GONE if left_reason == EXPIRED else LEFT
