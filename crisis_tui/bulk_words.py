"""One line that tells what a bulk action did: how many comments changed, and why each
skipped one was left (the store's own guard's words), so nothing is refused without a word.

Plain Python (no Textual): the room shows it as a toast, tests read it alone.
"""

from __future__ import annotations

from crisis_tui.model import BulkResult
from crisis_tui.safe_text import one_line

#: The past tense of each bulk action (store.guards.BULK_ACTIONS).
DONE = {"ignore": "ignored", "request_removal": "asked removal of", "tag": "tagged", "release": "released"}
#: How many skipped comments are named one by one before the rest are counted.
NAMED = 3


def _comments(n: int) -> str:
    return f"{n:,} comment" + ("" if n == 1 else "s")


def summary(result: BulkResult) -> str:
    """`ignored 12 comments; 2 skipped: #5 comment 5 is held by Ana; #9 no such comment`."""
    verb = DONE.get(result.action, result.action)
    line = f"{verb} {_comments(len(result.done))}"
    if result.unchanged:
        line += f" ({len(result.unchanged):,} already so)"
    if result.skipped:
        named = "; ".join(f"#{s.comment_id} {one_line(s.reason, 80)}" for s in result.skipped[:NAMED])
        more = len(result.skipped) - NAMED
        line += f"; {len(result.skipped):,} skipped: {named}" + (f"; and {more:,} more" if more > 0 else "")
    return line
