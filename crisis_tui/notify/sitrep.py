"""The situation report: what leadership reads every N minutes, in a dozen plain lines.

Severity and counts, the trend, unanswered and the oldest wait against the SLA,
decisions since the last report, statements sent and open escalations (with each department
whose answer is still awaited, and for how long). Built from the
store's own answers (`counts`, `decisions`, `drafts`, the escalated comments) and the
time of the last report, so two reports with nothing between them say so.
"""

from __future__ import annotations

import time

from crisis_tui import events as ev
from crisis_tui.model import Event
from crisis_tui.notify import loop_in
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import one_line
from crisis_tui.sla import standing
from crisis_tui.store.protocol import IncidentStore

#: How many comments a log page reads while looking for the last report and the trend.
PAGE = 1000


def _clock(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m" if whole >= 3600 else f"{whole // 60}m{whole % 60:02d}s"


async def last_report_at(store: IncidentStore, incident_id: str) -> float | None:
    """When the newest situation report went out (None before the first)."""
    last: float | None = None
    after = 0
    while True:
        page: list[Event] = await store.events_after(incident_id, after, PAGE)
        if not page:
            return last
        for event in page:
            if isinstance(event.body, ev.SitrepIssued):
                last = event.ts
        after = page[-1].seq


async def _escalations(store: IncidentStore, incident_id: str) -> list[Event]:
    """The log's escalations and answers (a page at a time: the rest of the log is not kept)."""
    kept: list[Event] = []
    after = 0
    while page := await store.events_after(incident_id, after, PAGE):
        kept.extend(e for e in page if isinstance(e.body, ev.CommentMarked | ev.EscalationAnswered))
        after = page[-1].seq
    return kept


async def build(store: IncidentStore, incident_id: str, playbook: Playbook, *, since: float | None,
                now: float | None = None) -> str:
    """The report's text (plain lines; every name and title cut to one line)."""
    now = time.time() if now is None else now
    incident = await store.get_incident(incident_id)
    counts = await store.counts(incident_id)
    decisions = await store.decisions(incident_id)
    drafts = await store.drafts(incident_id)
    sla = playbook.sla_seconds(incident.severity)
    mark = "DRILL · " if incident.drill else ""
    lines = [f"{mark}Situation report · {one_line(incident.title, 100)} · {incident.severity.upper()} · "
             f"{'our fault' if incident.our_fault else 'not our fault'} · {incident.status}",
             f"as of {time.strftime('%Y-%m-%d %H:%M', time.gmtime(now))} UTC, open {_clock(now - incident.opened_at)}"
             + (f", last report {_clock(now - since)} ago" if since is not None else ", first report")]
    lines.append(f"comments {counts.total:,}: unanswered {counts.unanswered:,} (new {counts.new:,}, claimed "
                 f"{counts.claimed:,}, escalated {counts.escalated:,}), answered {counts.answered:,}, "
                 f"ignored {counts.ignored:,}, removal asked {counts.removal_requested:,}")
    if counts.oldest_unanswered_at is not None and counts.unanswered:
        waited = now - counts.oldest_unanswered_at
        where = {"over": "OVER SLA", "near": "near SLA", "within": "within SLA"}[standing(waited, sla)]
        lines.append(f"oldest unanswered waits {_clock(waited)} ({where}: {_clock(sla)})")
    else:
        lines.append("nothing waits for an answer")
    fresh = [d for d in decisions if since is None or max(d.proposed_at, d.decided_at or 0) >= since]
    lines.append(f"decisions since the last report: {len(fresh)}" if fresh else "no decision since the last report")
    for d in fresh:
        lines.append(f"  {d.status}: {one_line(d.title, 100)} (by {one_line(d.proposer, 40)})")
    sent = [d for d in drafts if d.kind == "statement" and d.status == "sent"]
    lines.append(f"public statements sent: {len(sent)}")
    waiting = [d for d in decisions if d.status == "proposed"]
    if waiting:
        lines.append(f"decisions waiting for a vote: {len(waiting)}")
    lines.append(f"open escalations: {counts.escalated:,}")
    for item in loop_in.waiting(await _escalations(store, incident_id)):
        lines.append(f"  waiting for {one_line(item.to or 'the committee', 40)}'s answer: #{item.comment_id} "
                     f"for {_clock(now - item.escalated_at)}")
    return "\n".join(lines)
