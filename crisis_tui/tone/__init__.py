"""The tone checklist: rules from the playbook, evaluated on a draft.

`ToneChecker(playbook).check(text, ToneContext(...))` gives one `Verdict` per
enabled rule, in the playbook's order; `failing()` names those that block
approval. Headless (no Textual): the room, `crisis-tui lint-reply`, the
approval flow and the server share it.
"""

from crisis_tui.tone.checker import ToneChecker, validate
from crisis_tui.tone.situation import (
    Situation,
    approval_verdicts,
    blocking_rules,
    draft_context,
)
from crisis_tui.tone.verdict import (
    SYMBOLS,
    ToneContext,
    Verdict,
    failing_rules,
    summary,
)

__all__ = [
    "SYMBOLS",
    "Situation",
    "ToneChecker",
    "ToneContext",
    "Verdict",
    "approval_verdicts",
    "blocking_rules",
    "draft_context",
    "failing_rules",
    "summary",
    "validate",
]
