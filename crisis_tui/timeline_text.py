"""The event log in human words: "14:02 Luis approved decision: publish holding statement".

Shared by the room's timeline, the wallboard, the headless demo and the
evaluation export, so the record reads the same everywhere. Output is plain
text made safe with `one_line` (names and titles can be hostile too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crisis_tui.model import Event
from crisis_tui.safe_text import one_line

#: Event kinds that are bookkeeping, not story: left out of the human timeline.
QUIET_KINDS = frozenset({"operator.focus", "draft.checklist"})


def _who(handle: Any) -> str:
    return one_line(str(handle or "?"), 40)


def _quote(text: Any, width: int = 60) -> str:
    return one_line(str(text or ""), width)


def describe(event: Event) -> str:
    """One line, without the time, saying what happened and who did it."""
    p = event.payload
    actor = _who(event.actor)
    kind = event.kind
    if kind == "incident.created":
        inc = p.get("incident", {})
        return f"{actor} opened the incident: {_quote(inc.get('title'))} ({_quote(inc.get('severity'), 10)})"
    if kind == "incident.updated":
        parts = []
        for key, value in p.get("changes", {}).items():
            if key == "our_fault":
                parts.append("marked the error as ours" if value else "marked the error as not ours")
            else:
                parts.append(f"set {key} to {_quote(value, 40)}")
        return f"{actor} " + ", ".join(parts)
    if kind == "comment.ingested":
        c = p.get("comment", {})
        return f"new comment on {_quote(c.get('source'), 12)} from {_who(c.get('author'))}: {_quote(c.get('text'), 50)}"
    if kind == "comment.claimed":
        return f"{actor} claimed {_who(p.get('author'))} (#{p.get('comment_id')})"
    if kind == "comment.released":
        return f"{actor} released {_who(p.get('author'))} (#{p.get('comment_id')})"
    if kind == "comment.status":
        status = str(p.get("status", "")).replace("_", " ")
        why = f": {_quote(p.get('reason'), 40)}" if p.get("reason") else ""
        return f"{actor} marked {_who(p.get('author'))} (#{p.get('comment_id')}) {status}{why}"
    if kind == "comment.tagged":
        return f"{actor} tagged {_who(p.get('author'))} (#{p.get('comment_id')}): {_quote(', '.join(p.get('tags', [])), 40)}"
    if kind == "draft.saved":
        what = "public statement" if p.get("kind") == "statement" else f"reply to #{p.get('comment_id')}"
        verb = "started" if p.get("version") == 1 else "edited"
        return f"{actor} {verb} a {what} (draft {p.get('draft_id')} v{p.get('version')})"
    if kind == "draft.conflict":
        return (f"{actor}'s save of draft {p.get('draft_id')} was refused: it was based on "
                f"v{p.get('based_on')}, the draft is at v{p.get('current_version')} (text kept in the log)")
    if kind == "draft.checklist":
        return f"{actor} {'ticked' if p.get('ticked') else 'unticked'} {_quote(p.get('rule'), 20)} on draft {p.get('draft_id')}"
    if kind == "draft.status":
        what = "public statement" if p.get("kind") == "statement" else "reply"
        status = str(p.get("status"))
        draft = f"{what} (draft {p.get('draft_id')})"
        if status == "in_review":
            return f"{actor} submitted the {draft} for approval"
        if status == "approved":
            text = f"{actor} approved the {draft}"
            if p.get("override_reason"):
                text += f" overriding {', '.join(p.get('failing', []))}: {_quote(p.get('override_reason'), 50)}"
            return text
        if status == "sent":
            target = f" to #{p.get('comment_id')}" if p.get("comment_id") is not None else ""
            return f"{actor} sent the {draft}{target}"
        if status == "withdrawn":
            return f"{actor} withdrew the {draft}"
        return f"{actor} sent the {draft} back to draft"
    if kind == "decision.proposed":
        why = f" ({_quote(p.get('rationale'), 40)})" if p.get("rationale") else ""
        owner = " · not ours: the owner approves" if p.get("owner_decides") else ""
        return f"{actor} proposed decision: {_quote(p.get('title'))}{why}{owner}"
    if kind == "decision.voted":
        verb = "approved" if p.get("vote") == "approve" else "rejected"
        present = ", ".join(_who(n) for n in p.get("present", []))
        return f"{actor} {verb} decision: {_quote(p.get('title'))} (present: {present})"
    if kind == "operator.joined":
        return f"{actor} joined as {_quote(p.get('role'), 20)}"
    if kind == "operator.left":
        how = "timed out" if p.get("reason") == "timeout" else "left"
        return f"{_who(p.get('name'))} {how}"
    if kind == "operator.focus":
        return f"{actor} is {_quote(p.get('focus'), 50)}"
    if kind == "note.added":
        return f"{actor} noted: {_quote(p.get('text'), 80)}"
    if kind == "alert.spike":
        return (f"spike: {p.get('per_minute', '?')}/min against a baseline of "
                f"{p.get('baseline', '?')}/min (x{p.get('factor', '?')})")
    if kind == "alert.sla":
        return f"SLA breached: {_quote(p.get('detail'), 60)}"
    return f"{actor} {one_line(kind, 30)}"


def clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M")


def line(event: Event) -> str:
    return f"{clock(event.ts)} {describe(event)}"


def human_lines(events: list[Event], fold_over: int = 3) -> list[str]:
    """The story: quiet kinds left out, and a run of more than `fold_over`
    arriving comments folded into one line ("42 new comments: x 30, instagram 12").
    """
    out: list[str] = []
    run: list[Event] = []

    def flush() -> None:
        if len(run) > fold_over:
            by_source: dict[str, int] = {}
            for e in run:
                source = one_line(str(e.payload.get("comment", {}).get("source", "?")), 12)
                by_source[source] = by_source.get(source, 0) + 1
            parts = ", ".join(f"{s} {n}" for s, n in sorted(by_source.items(), key=lambda kv: -kv[1]))
            out.append(f"{clock(run[0].ts)} {len(run)} new comments: {parts}")
        else:
            out.extend(line(e) for e in run)
        run.clear()

    for event in events:
        if event.kind == "comment.ingested":
            run.append(event)
            continue
        flush()
        if event.kind not in QUIET_KINDS:
            out.append(line(event))
    flush()
    return out
