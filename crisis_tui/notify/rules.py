"""Which log events other departments hear of, in which words, and which targets get them.

Pure functions over typed event bodies (crisis_tui.events) and the playbook's `[[notify]]`
targets: the runner asks `about(event)` for the kind and the words, then `chosen(...)`
for the targets (their events, their quiet period, drills only to drill targets, an
escalation to a department to that department's targets too).
"""

from __future__ import annotations

from collections.abc import Sequence

from crisis_tui import events as ev
from crisis_tui.model import Event, Incident
from crisis_tui.playbook import NotifyTarget, Playbook
from crisis_tui.safe_text import one_line


def _q(text: str, cap: int = 160) -> str:
    return one_line(text, cap)


def about(event: Event, incident: Incident, playbook: Playbook) -> tuple[str, str, str] | None:
    """(kind, department, words) for an event other departments hear of; None for the rest."""
    head = f"{'[DRILL] ' if incident.drill else ''}[{incident.severity.upper()}] {_q(incident.title, 80)}: "
    match event.body:
        case ev.SpikeAlert() as b:
            return "spike", "", head + f"comment spike, {b.per_minute:g}/min against {b.baseline:g}/min usual"
        case ev.SlaAlert() as b:
            return "sla_breach", "", head + "an answer is over its SLA" + (f": {_q(b.detail)}" if b.detail else "")
        case ev.DecisionProposed() as b:
            return "decision_proposed", "", head + f"{_q(event.actor, 40)} proposes: {_q(b.title)} ({_q(b.rationale)})"
        case ev.DecisionVoted(status="approved") as b:
            return "decision_approved", "", head + f"decision approved: {_q(b.title)} ({_q(event.actor, 40)})"
        case ev.DraftMoved(status="sent", kind="statement") as b:
            return "statement_sent", "", head + f"public statement (draft {b.draft_id}) sent by {_q(event.actor, 40)}"
        case ev.CommentMarked(status="escalated") as b:
            to = b.to if isinstance(b.to, str) else ""
            why = f": {_q(b.reason)}" if b.reason else ""
            whom = _q(to or "the committee", 40)
            return "escalation", to, head + f"{_q(event.actor, 40)} escalates comment {b.comment_id} to {whom}{why}"
        case ev.EscalationAnswered() as b:
            took = max(0, int(event.ts - b.escalated_at))
            return "escalation_answered", "", head + (f"{_q(b.to or 'the committee', 40)} answered on comment "
                                                      f"{b.comment_id} after {took // 60}m{took % 60:02d}s: {_q(b.answer)}")
        case ev.IncidentUpdated() as b if "severity" in b.changes:
            return "severity_changed", "", head + f"severity now {_q(str(b.changes['severity']), 20)} ({_q(event.actor, 40)})"
    return None


def chosen(targets: Sequence[NotifyTarget], kind: str, department: str, *, drill: bool, now: float,
           last_sent: dict[str, float]) -> list[NotifyTarget]:
    """The targets that get a notice of `kind`: those following it (or, for an escalation, the
    department's own), drill targets only in a drill, none inside its quiet period."""
    out = []
    for target in targets:
        wants = kind in target.events or (bool(department) and target.department.casefold() == department.casefold())
        if not wants or (drill and not target.drill):
            continue
        if target.quiet_seconds and now - last_sent.get(target.name, float("-inf")) < target.quiet_seconds:
            continue
        out.append(target)
    return out
