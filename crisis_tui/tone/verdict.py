"""What the tone rules look at (ToneContext) and what they say (Verdict).

Plain frozen dataclasses: the room's editor, `crisis-tui lint-reply`, the
approval flow and the server all build and read them without Textual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

State = Literal["pass", "fail", "pending", "n/a"]

#: A symbol for each state: the checklist never relies on colour alone.
SYMBOLS: dict[str, str] = {"pass": "✓", "fail": "✗", "pending": "?", "n/a": "–"}


@dataclass(frozen=True)
class ToneContext:
    """Everything about a draft's situation the rules need besides its text."""

    lang: str = ""  # "en" | "es" | "it"; "" = guess from the text with the playbook's word lists
    kind: str = "reply"  # "reply" | "statement"
    comment_text: str = ""  # what the reply answers (focus rule)
    platform: str = ""  # comment source (length rule via playbook.platform_limit)
    our_fault: bool = False  # apology rule
    severity: str = ""  # SLA rule via playbook.sla_seconds
    comment_received_at: float | None = None  # when its SLA clock started: model.waiting_since (posting)
    now: float | None = None  # default time.time()
    earlier_replies: tuple[str, ...] = ()  # other reply bodies in this incident (canned/personal rule)
    approved_by_decision_power: bool = False
    ticked: Mapping[str, bool] = field(default_factory=dict)  # manual rules ticked by a person (draft.checklist)
    bot_reasons: tuple[str, ...] = ()  # why triage suspects a bot (shown beside "real user")


@dataclass(frozen=True)
class Verdict:
    """One rule's answer about one draft."""

    rule: str  # rule id from the playbook
    label: str  # short label for the checklist ("calm", "next step")
    kind: str  # "auto" | "manual"
    passed: bool | None  # None = not applicable / pending (the reason says which)
    reason: str  # a few words on why it fails or passes
    applicable: bool = True  # False: the rule does not concern this draft (shown as "–")
    ticked: bool | None = None  # a person's tick for tickable rules; None = not tickable

    @property
    def state(self) -> State:
        if self.passed is True:
            return "pass"
        if self.passed is False:
            return "fail"
        return "pending" if self.applicable else "n/a"

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.state]

    @property
    def blocking(self) -> bool:
        """A failing automatic rule blocks approval unless overridden with a reason."""
        return self.kind == "auto" and self.passed is False


def failing_rules(verdicts: Sequence[Verdict]) -> list[str]:
    return [v.rule for v in verdicts if v.blocking]


def summary(verdicts: Sequence[Verdict]) -> str:
    """The compact one-line form: "✓ calm ✗ apology ? real user"."""
    return " ".join(f"{v.symbol} {v.label}" for v in verdicts)
