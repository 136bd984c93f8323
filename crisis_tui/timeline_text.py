"""The event log in human words: "14:02 Luis approved decision: publish holding statement".

Shared by the room's timeline, the wallboard, the headless demo and the
evaluation export, so the record reads the same everywhere. Output is plain
text made safe with `one_line` (names and titles can be hostile too).
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import Any

from crisis_tui import events as ev
from crisis_tui.model import Event
from crisis_tui.presence_words import GONE, LEFT, absence_word
from crisis_tui.safe_text import one_line


def is_quiet(body: ev.EventBody) -> bool:
    """Bookkeeping, not story (focus changes, checklist ticks): left out of the human timeline."""
    return isinstance(body, ev.Quiet)


#: Set while the evaluation export writes its lines: names and quotes whole (up to WHOLE
#: characters, a hostile megabyte is still cut) instead of cut for a pane's row.
_whole: ContextVar[bool] = ContextVar("whole", default=False)
WHOLE = 10_000


def _who(handle: Any) -> str:
    return one_line(str(handle or "?"), WHOLE if _whole.get() else 40)


def _quote(text: Any, width: int = 60) -> str:
    return one_line(str(text or ""), WHOLE if _whole.get() else width)


def _draft_moved(actor: str, b: ev.DraftMoved) -> str:
    what = "public statement" if b.kind == "statement" else "reply"
    draft = f"{what} (draft {b.draft_id})"
    if b.status == "in_review" and b.edited_after_approval:
        return f"{actor} saved v{b.version or '?'} of the {draft}: edited after approval: back in review"
    if b.status == "in_review":
        return f"{actor} submitted the {draft} for approval"
    if b.status == "approved":
        text = f"{actor} approved the {draft}"
        if b.override_reason:
            text += f" overriding {_quote(', '.join(b.failing or []), 80)}: {_quote(b.override_reason, 50)}"
        return text
    if b.status == "sent":
        target = f" to #{b.comment_id}" if b.comment_id is not None else ""
        return f"{actor} sent the {draft}{target}"
    if b.status == "withdrawn":
        return f"{actor} withdrew the {draft}"
    return f"{actor} sent the {draft} back to draft"


def _failures(failed: dict[str, str], words: str = "failed") -> str:
    return f"; {words}: {_quote('; '.join(f'{k}: {v}' for k, v in failed.items()), 120)}" if failed else ""


def _deliveries(delivered: list[str], failed: dict[str, str]) -> str:
    return (f" to {_quote(', '.join(delivered), 80)}" if delivered else "") + _failures(failed, "not delivered")


def describe(event: Event) -> str:
    """One line, without the time, saying what happened and who did it."""
    actor = _who(event.actor)
    match event.body:
        case ev.IncidentCreated(incident=inc):
            return f"{actor} opened the incident: {_quote(inc.title)} ({_quote(inc.severity, 10)})"
        case ev.IncidentUpdated(changes=changes, reason=reason, role=role):
            parts = []
            for key, value in changes.items():
                if key == "our_fault":
                    parts.append("marked the error as ours" if value else "marked the error as not ours")
                elif key == "status":
                    parts.append({"closed": "closed the incident", "open": "reopened the incident"}.get(
                        str(value), f"set the incident {_quote(value, 20)}"))
                else:
                    parts.append(f"set {_quote(key, 20)} to {_quote(value, 40)}")
            seat = f" ({_quote(role, 20)})" if isinstance(role, str) and role else ""
            why = f": {_quote(reason, 60)}" if isinstance(reason, str) and reason else ""
            return f"{actor}{seat} " + ", ".join(parts) + why
        case ev.CommentIngested(comment=c):
            return f"new comment on {_quote(c.source, 12)} from {_who(c.author)}: {_quote(c.text, 50)}"
        case ev.CommentClaimed(comment_id=cid, author=author):
            return f"{actor} claimed {_who(author)} (#{cid})"
        case ev.CommentReleased(comment_id=cid, author=author):
            return f"{actor} released {_who(author)} (#{cid})"
        case ev.CommentHandedOver(comment_id=cid, author=author, holder=holder, previous=previous, reason=reason):
            why = f": {_quote(reason, 40)}" if reason else ""
            if holder == event.actor:
                return f"{actor} took over {_who(author)} (#{cid}) from {_who(previous)}{why}"
            return f"{actor} handed {_who(author)} (#{cid}) from {_who(previous)} to {_who(holder)}{why}"
        case ev.ClaimLapsed(comment_id=cid, author=author, holder=holder, after_seconds=after):
            return (f"{_who(author)} (#{cid}) was freed: {_who(holder)} held it and has been gone "
                    f"{after:.0f}s (their draft is kept)")
        case ev.CommentMarked(comment_id=cid, author=author, status=status, reason=reason, to=to):
            why = f": {_quote(reason, 40)}" if reason else ""
            whom = f" to {_quote(to, 40)}" if isinstance(to, str) and to else ""
            return f"{actor} marked {_who(author)} (#{cid}) {_quote(status.replace('_', ' '), 20)}{whom}{why}"
        case ev.CommentTagged(comment_id=cid, author=author, tags=tags):
            return f"{actor} tagged {_who(author)} (#{cid}): {_quote(', '.join(tags), 40)}"
        case ev.DraftSaved() as b:
            what = "public statement" if b.kind == "statement" else f"reply to #{b.comment_id}"
            verb = "started" if b.version == 1 else "edited"
            return f"{actor} {verb} a {what} (draft {b.draft_id} v{b.version})"
        case ev.DraftConflict() as b:
            return (f"{actor}'s save of draft {b.draft_id} was refused: it was based on "
                    f"v{b.based_on}, the draft is at v{b.current_version} (text kept in the log)")
        case ev.DraftTicked() as b:
            return f"{actor} {'ticked' if b.ticked else 'unticked'} {_quote(b.rule, 20)} on draft {b.draft_id}"
        case ev.DraftMoved() as b:
            return _draft_moved(actor, b)
        case ev.DecisionProposed() as b:
            why = f" ({_quote(b.rationale, 40)})" if b.rationale else ""
            owner = " · not ours: the owner approves" if b.owner_decides else ""
            return f"{actor} proposed decision: {_quote(b.title)}{why}{owner}"
        case ev.DecisionVoted() as b:
            verb = "approved" if b.vote == "approve" else "rejected"
            present = ", ".join(_who(n) for n in b.present)
            return f"{actor} {verb} decision: {_quote(b.title)} (present: {present})"
        case ev.OperatorJoined(role=role):
            return f"{actor} joined as {_quote(role, 20)}"
        case ev.OperatorLeft(name=name, reason=reason):
            return f"{_who(name)} {'is gone (no heartbeat)' if absence_word(reason) == GONE else LEFT}"
        case ev.OperatorFocus(focus=focus):
            return f"{actor} is {_quote(focus, 50)}"
        case ev.NoteAdded(text=text):
            return f"{actor} noted: {_quote(text, 80)}"
        case ev.SpikeAlert() as b:
            return (f"spike: {b.per_minute}/min against a baseline of "
                    f"{b.baseline}/min (x{b.factor})")
        case ev.SlaAlert(detail=detail):
            return f"SLA breached: {_quote(detail, 60)}"
        case ev.DrillStarted() as b:
            pace = "without waiting" if not b.speed else f"at x{b.speed:g}"
            return f"DRILL: {actor} started scenario {_quote(b.name or b.scenario, 60)}, played {pace}"
        case ev.DrillInject() as b:
            return f"DRILL inject at minute {b.minute:g}: {_quote(b.text, 100)}"
        case ev.DrillEnded(reason=reason):
            return f"DRILL: {actor} ended the drill" + (f": {_quote(reason, 60)}" if reason else "")
        case ev.ReplyPublished() as b:
            where = _quote(b.url, 80) if b.url else f"as {_quote(b.post_id, 40)}"
            what = "reply" if b.comment_id is not None else "statement"
            return f"{actor} published {what} draft {b.draft_id} v{b.version} on {_quote(b.platform, 20)}: {where}"
        case ev.ReplyPublishFailed() as b:
            return (f"publish failed on {_quote(b.platform, 20)}: {_quote(b.error, 120)} "
                    f"({'reply' if b.comment_id is not None else 'statement'} draft {b.draft_id} v{b.version} "
                    "stays approved; send again to retry)")
        case ev.SitrepIssued() as b:
            return f"{actor} issued a situation report{_deliveries(b.delivered, b.failed)}"
        case ev.NotificationClaimed() as b:
            return f"{actor} ({_quote(b.runner, 60)}) is sending the notice of event {b.about_seq}"
        case ev.NotificationSent() as b:
            return f"told {_quote(', '.join(b.delivered) or 'nobody', 80)} of {_quote(b.about, 30)}{_failures(b.failed)}"
        case ev.EscalationAnswered() as b:
            took = _took(event.ts - b.escalated_at)
            return (f"{_quote(b.to or 'the committee', 40)} answered the escalation of {_who(b.author)} (#{b.comment_id}) "
                    f"after {took}, recorded by {actor}: {_quote(b.answer, 80)}")
        case ev.UnknownEvent(kind=kind):
            return f"{actor}: unknown event kind {_quote(kind, 40)} (written by a newer crisis-tui, kept as it is)"
        case ev.BrokenEvent(kind=kind, error=error):
            return f"{actor}: unreadable {_quote(kind, 40)} event ({_quote(error, 60)}), kept as it is"
    return f"{actor} {one_line(event.kind, 30)}"  # pragma: no cover - every body is matched above


def _took(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m" if whole >= 3600 else f"{whole // 60}m{whole % 60:02d}s"


_SOURCE_NAMES: dict[str, str] = {}


def arrival_source(body: ev.CommentIngested) -> str:
    """The platform an arriving comment came from, as the folded arrival lines name it.

    A burst has a handful of platforms and thousands of arrivals: each name is made
    safe once (a bounded cache, since a hostile feed may invent names).
    """
    raw = body.comment.source
    name = _SOURCE_NAMES.get(raw)
    if name is None:
        name = one_line(raw or "?", 12)
        if len(_SOURCE_NAMES) < 256:
            _SOURCE_NAMES[raw] = name
    return name


def clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M")


def describe_whole(event: Event) -> str:
    """`describe` with names and quotes uncut (up to WHOLE): the room keeps its lines whole, its
    pane crops them to its width and Enter shows one in full."""
    token = _whole.set(True)
    try:
        return describe(event)
    finally:
        _whole.reset(token)


def line(event: Event) -> str:
    return f"{clock(event.ts)} {describe(event)}"


def human_lines(events: list[Event], fold_over: int = 3, *, whole: bool = False) -> list[str]:
    """The story: quiet kinds left out, and a run of more than `fold_over`
    arriving comments folded into one line ("42 new comments: x 30, instagram 12").
    `whole`: quotes and names uncut (the export), not cut to fit a pane.
    """
    token = _whole.set(whole)
    try:
        return _story(events, fold_over)
    finally:
        _whole.reset(token)


def _story(events: list[Event], fold_over: int) -> list[str]:
    out: list[str] = []
    run: list[Event] = []
    sources: list[str] = []

    def flush() -> None:
        if len(run) > fold_over:
            by_source: dict[str, int] = {}
            for source in sources:
                by_source[source] = by_source.get(source, 0) + 1
            parts = ", ".join(f"{s} {n}" for s, n in sorted(by_source.items(), key=lambda kv: -kv[1]))
            out.append(f"{clock(run[0].ts)} {len(run)} new comments: {parts}")
        else:
            out.extend(line(e) for e in run)
        run.clear()
        sources.clear()

    for event in events:
        body = event.body
        if isinstance(body, ev.CommentIngested):
            run.append(event)
            sources.append(arrival_source(body))
            continue
        flush()
        if not is_quiet(body):
            out.append(line(event))
    flush()
    return out
