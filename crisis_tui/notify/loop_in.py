"""Escalations to other departments and how long each took to answer: the time to loop them in.

Read from the event log alone: every `comment.status` escalation (whom, why, by whom,
when) and the `escalation.answered` that closed it (the department's answer, who
recorded it, when). An escalation nobody answered yet is listed with no answer, so
the evaluation shows what was left waiting.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from crisis_tui import events as ev
from crisis_tui.model import Event


class LoopIn(msgspec.Struct, kw_only=True):
    comment_id: int
    #: Who wrote the comment escalated.
    author: str
    #: The department (or person) the comment was escalated to, as written.
    to: str
    reason: str
    escalated_by: str
    escalated_at: float
    escalated_seq: int
    answer: str = ""
    answered_by: str = ""
    answered_at: float | None = None
    #: Seconds from the escalation to its recorded answer: the time to loop the department in.
    seconds: float | None = None


def loop_ins(events: Iterable[Event]) -> list[LoopIn]:
    """Every escalation, in log order, with its answer when one was recorded."""
    out: list[LoopIn] = []
    by_seq: dict[int, LoopIn] = {}
    for event in events:
        match event.body:
            case ev.CommentMarked(status="escalated") as b:
                item = LoopIn(comment_id=b.comment_id, author=b.author, to=b.to if isinstance(b.to, str) else "", reason=b.reason,
                              escalated_by=event.actor, escalated_at=event.ts, escalated_seq=event.seq)
                by_seq[event.seq] = item
                out.append(item)
            case ev.EscalationAnswered() as b:
                closed = by_seq.get(b.escalated_seq)
                if closed is not None and closed.answered_at is None:
                    closed.answer, closed.answered_by, closed.answered_at = b.answer, event.actor, event.ts
                    closed.seconds = max(0.0, event.ts - closed.escalated_at)
    return out


def waiting(events: Iterable[Event]) -> list[LoopIn]:
    """The escalations still waiting for their department's answer."""
    return [item for item in loop_ins(events) if item.answered_at is None]
