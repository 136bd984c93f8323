"""What the log's newest events mean for *me*: the toasts of hand-overs and approvals.

A member with decision power took over or gave away the comment I hold; the
store freed my claim while I was gone; a draft I can approve was submitted; a
draft I wrote was approved, sent back or withdrawn. Plain Python over the
room's state (no Textual), so the routing is tested alone; who may approve is
judged by the store's own guard (`guards.approver`), never guessed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from crisis_tui import events as ev
from crisis_tui.errors import Forbidden
from crisis_tui.model import Draft, Event
from crisis_tui.playbook import Playbook
from crisis_tui.room_state import RoomState
from crisis_tui.safe_text import one_line
from crisis_tui.store import guards


@dataclass(frozen=True)
class Notice:
    title: str
    text: str
    severity: Literal["information", "warning", "error"] = "information"


def _who(name: str) -> str:
    return one_line(name or "?", 40)


def _what(draft: Draft | None, b: ev.DraftMoved, state: RoomState) -> str:
    if b.kind == "statement":
        return f"the public statement (draft {b.draft_id})"
    row = state.rows.get(b.comment_id) if b.comment_id is not None else None
    to = f" to {_who(row.author)}" if row is not None else (f" to #{b.comment_id}" if b.comment_id is not None else "")
    return f"the reply{to} (draft {b.draft_id})"


def can_approve(draft: Draft, *, me: str, role: str | None, playbook: Playbook) -> bool:
    """Whether the store would let `me` approve `draft` (seat, decision power, four eyes)."""
    try:
        guards.approver(draft, actor=me, role=role, playbook=playbook)
    except Forbidden:
        return False
    return True


def needs_my_approval(state: RoomState, *, me: str, role: str | None, playbook: Playbook) -> list[Draft]:
    """The drafts in review that I could approve, oldest submitted first: the approval inbox."""
    waiting = [d for d in state.drafts.values() if d.status == "in_review"]
    return sorted((d for d in waiting if can_approve(d, me=me, role=role, playbook=playbook)),
                  key=lambda d: (d.updated_at, d.id))


def _mine(draft: Draft | None, me: str) -> bool:
    return draft is not None and (draft.author == me or me in draft.editors)


def _draft_notice(e: Event, b: ev.DraftMoved, state: RoomState, me: str, role: str | None,
                  playbook: Playbook) -> Notice | None:
    draft = state.drafts.get(b.draft_id)
    what = _what(draft, b, state)
    actor = _who(e.actor)
    if b.status == "in_review" and draft is not None and can_approve(draft, me=me, role=role, playbook=playbook):
        return Notice("Needs your approval", f"{actor} submitted {what}: x lists what waits for you", "warning")
    if not _mine(draft, me):
        return None
    if b.status == "approved":
        return Notice("Approved", f"{actor} approved {what}: it can be sent")
    if b.status == "draft" and b.previous in ("in_review", "approved"):
        return Notice("Sent back", f"{actor} sent {what} back to draft", "warning")
    if b.status == "withdrawn":
        return Notice("Withdrawn", f"{actor} withdrew {what}", "warning")
    return None


def notices(events: Iterable[Event], state: RoomState, *, me: str, role: str | None, playbook: Playbook) -> list[Notice]:
    """The toasts `me` gets for `events` (already applied to `state`); my own acts tell me nothing."""
    out: list[Notice] = []
    for e in events:
        body = e.body
        notice: Notice | None = None
        match body:
            case ev.CommentHandedOver(previous=previous, holder=holder, author=author, comment_id=cid, reason=why):
                because = f": {one_line(why, 60)}" if why else ""
                if e.actor == me:
                    continue
                if previous == me:
                    to = "themselves" if holder == e.actor else _who(holder)
                    notice = Notice("Comment taken over", f"{_who(e.actor)} gave {_who(author)} (#{cid}) to {to}"
                                    f"{because}; your draft stays with the comment", "warning")
                elif holder == me:
                    notice = Notice("Comment handed to you", f"{_who(e.actor)} gave you {_who(author)} (#{cid}) "
                                    f"from {_who(previous)}{because}")
            case ev.ClaimLapsed(holder=holder, author=author, comment_id=cid) if holder == me:
                notice = Notice("Claim freed", f"{_who(author)} (#{cid}) was freed while you were away; "
                                "your draft is kept (claim it again to go on)", "warning")
            case ev.DraftMoved() if e.actor != me:
                notice = _draft_notice(e, body, state, me, role, playbook)
        if notice is not None:
            out.append(notice)
    return out
