"""A stored draft's situation, from rows, as the tone rules see it.

The store's approval guard and the room's preview both build the ToneContext
here from the same rows (the draft, its comment, the incident, the other
drafts, who holds which seat), so the room previews exactly what the store
decides. Reads nothing: the caller fetches the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crisis_tui.model import Comment, Draft, Incident
from crisis_tui.playbook import Playbook
from crisis_tui.tone.checker import ToneChecker
from crisis_tui.tone.verdict import ToneContext, Verdict


@dataclass(frozen=True)
class Situation:
    """The rows a draft is judged against besides its own text."""

    incident: Incident
    comment: Comment | None
    drafts: Sequence[Draft]
    #: Each member's role as the room knows it (the latest join).
    roles: Mapping[str, str]


def earlier_bodies(draft: Draft, others: Sequence[Draft]) -> tuple[str, ...]:
    """Bodies this draft must not copy: drafts started before it, and anything sent."""
    return tuple(
        d.body
        for d in others
        if d.id != draft.id and d.status != "withdrawn" and d.body.strip() and (d.id < draft.id or d.status == "sent")
    )


def draft_context(
    draft: Draft, situation: Situation, playbook: Playbook, *, approver_role: str | None = None,
    now: float | None = None,
) -> ToneContext:
    """The ToneContext of `draft`; with `approver_role`, as if that member's approval were given
    (a decision-power approver settles "authority")."""
    comment = situation.comment
    roles = situation.roles
    approved = any(playbook.has_decision_power(roles.get(name, "")) for name in draft.approvals)
    if approver_role is not None and playbook.has_decision_power(approver_role):
        approved = True
    return ToneContext(
        lang=comment.lang if comment else "",
        kind=draft.kind,
        comment_text=comment.text if comment else "",
        platform=comment.source if comment else "",
        our_fault=situation.incident.our_fault,
        severity=situation.incident.severity,
        comment_received_at=comment.since if comment else None,
        now=now,
        earlier_replies=earlier_bodies(draft, situation.drafts),
        approved_by_decision_power=approved,
        ticked=dict(draft.checklist),
        bot_reasons=tuple(comment.bot_reasons) if comment else (),
    )


def approval_verdicts(checker: ToneChecker, draft: Draft, situation: Situation, approver_role: str,
                      *, now: float | None = None) -> list[Verdict]:
    """The checklist an approval by a member of `approver_role` is judged on."""
    ctx = draft_context(draft, situation, checker.playbook, approver_role=approver_role, now=now)
    return checker.check(draft.body, ctx)


def blocking_rules(checker: ToneChecker, draft: Draft, situation: Situation, approver_role: str,
                   *, now: float | None = None) -> list[str]:
    """The automatic rules that fail if `approver_role` approves `draft` now: each needs a written reason."""
    return checker.failing(approval_verdicts(checker, draft, situation, approver_role, now=now))
