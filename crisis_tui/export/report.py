"""The evaluation document's content, once, for both the md and the html writer.

The report is a list of sections holding neutral blocks (paragraphs, tables,
bullets, the timeline, charts, the review questions). Every string in it is
plain text: untrusted values (names, titles, reasons, comment authors) are
already squeezed through `one_line` (no controls, no bidi tricks; the words
sent keep their lines through `display_text`), and each
writer escapes them for its own syntax. So md and html cannot drift apart in
what they say, and neither can forget to escape a field the other escapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from crisis_tui.drill import report as drill_report
from crisis_tui.export import wording as w
from crisis_tui.export.metrics import Metrics
from crisis_tui.export.record import IncidentRecord
from crisis_tui.export.sent_texts import SentText, sent_texts
from crisis_tui.notify.loop_in import loop_ins
from crisis_tui.playbook import Playbook
from crisis_tui.publish.outbound import outbound, where_it_went
from crisis_tui.safe_text import display_text, one_line
from crisis_tui.timeline_text import human_lines
from crisis_tui.tone import ToneChecker, ToneContext

#: The longest lists the document prints in full; the json and csv exports hold all.
MAX_BREACHES = 25
MAX_TIMELINE = 20_000


def safe(value: object, width: int = 200) -> str:
    """An untrusted value as one safe line (the writers still escape it)."""
    return one_line("" if value is None else str(value), width)


@dataclass
class Paragraph:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Timeline:
    lines: list[str]
    left_out: int = 0


@dataclass
class Chart:
    """A chart the html draws as inline SVG; md shows `fallback` text instead."""

    kind: str  # "volume" | "negative" | "responses"
    title: str
    fallback: str


@dataclass
class Questions:
    items: list[str]


@dataclass
class Said:
    """One text the committee sent: its heading, facts, the words themselves (each line
    already made safe, not squeezed onto one) and its checklist."""

    heading: str
    facts: list[tuple[str, str]]
    lines: list[str]
    checklist: list[str]


Block = Paragraph | Bullets | Table | Timeline | Chart | Questions | Said


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    metrics: Metrics


BARS = "▁▂▃▄▅▆▇█"


def text_spark(values: Sequence[float | None], width: int = 60) -> str:
    """A one-line sparkline of up to `width` characters (blank where no value)."""
    if not values:
        return ""
    if len(values) > width:
        size = len(values) / width
        folded: list[float | None] = []
        for i in range(width):
            chunk = [v for v in values[int(i * size): int((i + 1) * size) or 1] if v is not None]
            folded.append(max(chunk) if chunk else None)
        values = folded
    top = max((v for v in values if v is not None), default=0.0) or 1.0
    return "".join(" " if v is None else BARS[min(7, int(v / top * 7.999))] for v in values)


def _n(count: int, one: str, many: str = "") -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def _summary(record: IncidentRecord, m: Metrics, playbook: Playbook) -> Section:
    inc = record.incident
    severity = playbook.severity(inc.severity)
    end = inc.closed_at if inc.closed_at is not None else m.as_of
    members = [f"{safe(p.name, 40)} ({safe(p.role, 20)})" for p in record.presence]
    rows = [
        ["Incident", safe(inc.title)],
        ["Id", safe(inc.id, 80)],
        ["Brand", safe(inc.brand) or w.DASH],
        ["Severity", f"{severity.name if severity else safe(inc.severity, 20)} "
                     f"(SLA {w.duration(playbook.sla_seconds(inc.severity))})"],
        ["Status", inc.status],
        ["Our fault", "yes" if inc.our_fault else "no"],
        ["Opened", w.when(inc.opened_at)],
        ["Closed", w.when(inc.closed_at) if inc.closed_at is not None else f"still {inc.status} at {w.when(m.as_of)}"],
        ["Duration", w.duration(end - inc.opened_at)],
        ["Events in the log", f"{m.events:,}"],
        ["Comments", f"{m.comments:,}"],
        ["Committee", ", ".join(members) or w.DASH],
    ]
    highlights = [
        f"First public answer {w.duration(m.time_to_first_response_s)} after the first comment.",
        f"{_n(m.responses.count, 'comment')} answered with a reply: median {w.duration(m.responses.median_s)}, "
        f"p90 {w.duration(m.responses.p90_s)}.",
        f"{_n(m.sla.breaches, 'SLA breach', 'SLA breaches')} ({m.sla.resolved_late:,} resolved late, "
        f"{m.sla.still_waiting:,} still waiting).",
        f"Answered {w.percent(m.answered_share)}, ignored {w.percent(m.ignored_share)}, "
        f"removal requested {w.percent(m.removal_share)}.",
        f"Checklist pass rate {w.percent(m.checklist.pass_rate)} over {_n(m.checklist.approvals, 'approval')}; "
        f"{_n(len(m.checklist.overrides), 'override')}.",
        f"Spike alert to holding statement: {w.duration(m.spike_to_statement_s)}"
        + ("" if m.first_spike_at is not None else " (no spike alert)")
        + ("" if m.first_spike_at is None or m.holding_statement_at is not None else " (no statement sent after the spike)"),
    ]
    return Section("Summary", [Table(["", ""], rows), Bullets(highlights)])


def _metrics(m: Metrics) -> Section:
    blocks: list[Block] = []
    blocks.append(Table(["Metric", "Value", "How it is measured"], [
        ["Time to first response", w.duration(m.time_to_first_response_s), "first comment to the first reply or statement sent"],
        ["Replies sent to comments", f"{m.responses.count:,}", "comments with at least one reply sent"],
        ["Median response time", w.duration(m.responses.median_s), "comment posted to its first reply sent"],
        ["p90 response time", w.duration(m.responses.p90_s), "nearest-rank 90th percentile"],
        ["Slowest response", w.duration(m.responses.max_s), ""],
        ["SLA breaches", f"{m.sla.breaches:,}", "waited (from posting) longer than the SLA of the severity in force on arrival"],
        ["Within SLA", f"{m.sla.within:,}", "resolved, or still waiting, within the SLA"],
        ["Checklist pass rate", w.percent(m.checklist.pass_rate),
         f"{m.checklist.passed} of {m.checklist.approvals} approvals had no failing rule"],
        ["Median decision latency", w.duration(m.median_decision_latency_s), "proposed to approved or rejected"],
        ["Spike to holding statement", w.duration(m.spike_to_statement_s),
         "first spike alert to the first statement sent after it"],
    ]))
    blocks.append(Chart("responses", "Response times", _histogram_text(m)))
    share_rows = [
        [status.replace("_", " "), f"{count:,}", w.percent(count / m.comments if m.comments else None)]
        for status, count in sorted(m.statuses.items(), key=lambda kv: -kv[1])
    ]
    blocks.append(Table(["Final status of comments", "Comments", "Share"], share_rows, caption="Answered, ignored, removal"))
    volume = [float(v) for v in m.curve.volume]
    blocks.append(Chart("volume", "Comment volume",
                        f"per {w.duration(m.curve.step)} from {w.clock_s(m.curve.start)}: "
                        f"{text_spark(volume) or w.DASH} (peak {max(m.curve.volume, default=0):,})"))
    blocks.append(Chart("negative", "Negative share",
                        f"share of comments with negativity >= 0.5, per {w.duration(m.curve.step)}: "
                        f"{text_spark(m.curve.negative_share()) or w.DASH} "
                        f"(overall {w.percent(sum(m.curve.negative) / sum(m.curve.volume) if sum(m.curve.volume) else None)})"))
    if m.sla.breached:
        rows = [
            [f"#{b.comment_id}", safe(b.author, 40), safe(b.source, 20), w.clock_s(b.since),
             w.duration(b.waited_s), w.duration(b.sla_s), "resolved late" if b.resolved else "still waiting"]
            for b in m.sla.breached[:MAX_BREACHES]
        ]
        more = len(m.sla.breached) - MAX_BREACHES
        caption = "SLA breaches, longest wait first" + (f" ({more:,} more in the json/csv export)" if more > 0 else "")
        blocks.append(Table(["Comment", "Author", "Source", "Posted", "Waited", "SLA", "State"], rows, caption=caption))
    if m.checklist.overrides:
        blocks.append(Table(["Draft", "Kind", "Approved by", "At", "Failing rules", "Reason given"], [
            [str(o.draft_id), o.kind, safe(o.actor, 40), w.clock_s(o.at), safe(", ".join(o.failing), 80), safe(o.reason, 200)]
            for o in m.checklist.overrides
        ], caption="Checklist overrides"))
    else:
        blocks.append(Paragraph("No approval overrode the tone checklist."))
    blocks.append(Table(
        ["Operator", "Role", "Claims", "Replies sent", "Statements sent", "Approvals", "Overrides", "Decisions proposed",
         "Votes", "Marked", "Notes", "Median response"],
        [[safe(o.name, 40), safe(o.role, 20), str(o.claims), str(o.replies_sent), str(o.statements_sent), str(o.approvals),
          str(o.overrides), str(o.decisions_proposed), str(o.votes),
          ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(o.marked.items())) or "0", str(o.notes),
          w.duration(o.median_response_s)] for o in m.operators],
        caption="Per operator",
    ))
    if len(m.severity_changes) > 1:
        blocks.append(Bullets([f"{w.clock_s(c.at)} {safe(c.actor, 40)} set severity {safe(c.severity, 20)}"
                               for c in m.severity_changes]))
    return Section("Metrics", blocks)


def _histogram_text(m: Metrics) -> str:
    edges = m.responses.histogram.edges
    parts = []
    for index, count in enumerate(m.responses.histogram.counts):
        low = edges[index - 1] if index > 0 else None
        high = edges[index] if index < len(edges) else None
        parts.append(f"{w.edge_label(low, high)}: {count}")
    return "replies by response time: " + ", ".join(parts)


def _escalations(record: IncidentRecord) -> list[Block]:
    items = loop_ins(record.events)
    rows = [
        [f"#{i.comment_id}", safe(i.author, 40), safe(i.escalated_by, 40), w.clock_s(i.escalated_at),
         safe(i.to, 200) or "not recorded",
         safe(i.reason, 500) or "not recorded",
         w.clock_s(i.answered_at) if i.answered_at is not None else "no answer recorded",
         w.duration(i.seconds), safe(i.answer, 500) or w.DASH]
        for i in items
    ]
    if not rows:
        return [Paragraph("No comment was escalated.")]
    return [Paragraph("Time to loop in: from the escalation to the department's answer, as recorded in the room."),
            Table(["Comment", "Author", "Escalated by", "At", "To", "Why", "Answered", "Time to loop in", "Answer"],
                  rows, caption="Escalations")]


def _decisions(m: Metrics, record: IncidentRecord) -> Section:
    if not m.decisions:
        return Section("Decisions", [Paragraph("No decision was proposed."), *_escalations(record)])
    rows = [
        [str(d.id), safe(d.title, 200), safe(d.rationale, 300) or w.DASH, safe(d.proposer, 40), w.clock_s(d.proposed_at),
         d.status + (f" (supersedes #{d.supersedes})" if d.supersedes is not None else "")
         + (" (not ours: the owner's call)" if d.owner_decides else ""),
         safe(d.decided_by, 40) if d.decided_by else w.DASH, w.clock_s(d.decided_at), w.duration(d.latency_s),
         ", ".join(safe(n, 40) for n in d.present) or w.DASH]
        for d in m.decisions
    ]
    return Section("Decisions", [Table(
        ["#", "Decision", "Why", "Proposed by", "Proposed", "Outcome", "Decided by", "Decided", "Latency", "Present"], rows,
    ), *_escalations(record)])


def _checklist(sent: SentText, checker: ToneChecker) -> list[str]:
    """Each rule of the playbook for the version sent: failed (and overridden) as the store
    recorded it at approval; which rules concern this text, the checker says again."""
    failing = {rule for a in sent.approvals for rule in a.failing}
    reasons = "; ".join(safe(a.override_reason, 300) for a in sent.approvals if a.override_reason)
    approved_at = sent.approvals[-1].at if sent.approvals else sent.sent_at
    verdicts = checker.check(sent.text, ToneContext(
        lang=sent.comment_lang, kind=sent.kind, comment_text=sent.comment_text, platform=sent.comment_source,
        our_fault=sent.our_fault, comment_received_at=sent.comment_since, now=approved_at,
        approved_by_decision_power=True, ticked={rule: True for rule in sent.ticked},
    ))
    out = []
    for verdict in verdicts:
        name = safe(verdict.label or verdict.rule, 80)
        if verdict.rule in failing:
            out.append(f"✗ {name}: failing when approved, overridden" + (f" ({reasons})" if reasons else ""))
        elif not verdict.applicable:
            out.append(f"– {name}: {safe(verdict.reason, 120)}")
        elif verdict.kind == "manual":
            out.append(f"✓ {name}: ticked by a person" if verdict.rule in sent.ticked else f"– {name}: not ticked")
        else:
            out.append(f"✓ {name}")
    for gone in sorted(failing - {v.rule for v in verdicts}):
        out.append(f"✗ {safe(gone, 80)}: failing when approved, overridden (no longer in the playbook)")
    return out


def _said(sent: SentText, checker: ToneChecker) -> Said:
    what = "Statement" if sent.kind == "statement" else "Reply"
    version = f"v{sent.version}" if sent.version is not None else "v?"
    to = f" to #{sent.comment_id} {safe(sent.comment_author, 40)}" if sent.comment_id is not None else ""
    facts = [("Sent", f"{w.when(sent.sent_at)} by {safe(sent.sent_by, 40)} ({version} of draft {sent.draft_id})")]
    if sent.comment_id is not None:
        facts.append(("Answering", f"#{sent.comment_id} {safe(sent.comment_author, 40)}: {safe(sent.comment_text, 300)}"))
    facts.append(("Written by", ", ".join(safe(n, 40) for n in sent.editors) or w.DASH))
    if sent.approvals:
        for a in sent.approvals:
            approved = f"{safe(a.actor, 40)} at {w.clock_s(a.at)}, v{a.version if a.version is not None else '?'}"
            if a.failing:
                approved += (f", overriding {safe(', '.join(a.failing), 120)}: "
                             f"{safe(a.override_reason, 500) or 'no reason recorded'}")
            facts.append(("Approved", approved))
    else:
        facts.append(("Approved", f"no approval of {version} on record"))
    lines = display_text(sent.text).split("\n") if sent.text else ["(the log holds no text for this version)"]
    return Said(f"{what}{to}, {w.clock_s(sent.sent_at)}", facts, lines, _checklist(sent, checker))


def _what_was_said(record: IncidentRecord, playbook: Playbook) -> Section:
    sent = sent_texts(record.events)
    if not sent:
        return Section("What was said", [Paragraph("No reply or statement was sent.")])
    replies = sum(1 for s in sent if s.kind != "statement")
    intro = Paragraph(f"{_n(len(sent) - replies, 'statement')} and {_n(replies, 'reply', 'replies')} sent, "
                      "each with the words that went out, its approval and its checklist as it stood when approved "
                      "(✓ did not fail; ✗ failed and was overridden; – does not concern this text, or not ticked).")
    checker = ToneChecker(playbook)
    return Section("What was said", [intro, *(_said(s, checker) for s in sent)])


def _outbound(record: IncidentRecord) -> Section:
    items = outbound(record.events)
    if not items:
        return Section("Outbound", [Paragraph("Nothing left the room.")])
    rows = [[w.when(o.sent_at), f"draft {o.draft_id} v{o.version}: {safe(o.text, 120)}",
             "statement" if o.kind == "statement" else f"reply to #{o.comment_id} on {safe(o.where, 20)}",
             safe(o.approved_by, 40), safe(o.sent_by, 40), safe(where_it_went(o), 200)] for o in items]
    return Section("Outbound", [Table(["Sent", "What", "Where", "Approved by", "Sent by", "Post (or by hand)"], rows,
                                      caption="Everything that left the room, as it went out")])


def _timeline(record: IncidentRecord) -> Section:
    lines = human_lines(record.events, whole=True)
    left_out = max(0, len(lines) - MAX_TIMELINE)
    if left_out:
        lines = lines[:MAX_TIMELINE // 2] + lines[-MAX_TIMELINE // 2:]
    return Section("Timeline", [Timeline(lines, left_out)])


def _review(playbook: Playbook) -> Section:
    questions = [safe(q, 500) for q in playbook.review.questions] or [
        "What failed?", "What can improve?", "How good were the answers?", "How did people and processes perform?",
    ]
    return Section("Review", [
        Paragraph("For the committee to answer together after the crisis (questions from the playbook's [review])."),
        Questions(questions),
    ])


def _drill(record: IncidentRecord, playbook: Playbook) -> list[Section]:
    """A drill's report against its scenario's targets, first (crisis_tui.drill.report)."""
    scores = drill_report.score(record.events, playbook) if record.incident.drill else None
    if scores is None:
        return []
    return [Section("Drill", [Paragraph("DRILL: a rehearsal. Nothing was published; only drill targets were "
                                        "notified; it is left out of every real incident's figures."),
                              Bullets([safe(line) for line in drill_report.lines(scores)])])]


def build(record: IncidentRecord, metrics: Metrics, playbook: Playbook, exported_at: float) -> Report:
    inc = record.incident
    return Report(
        title=f"{'DRILL · ' if inc.drill else ''}Evaluation: {safe(inc.title)}",
        subtitle=(f"{safe(inc.brand) + ' · ' if inc.brand else ''}{safe(inc.id, 80)} · exported {w.when(exported_at)} "
                  f"from the log's {record.head.line()}"),
        sections=[
            *_drill(record, playbook),
            _summary(record, metrics, playbook),
            _timeline(record),
            _what_was_said(record, playbook),
            _decisions(metrics, record),
            _metrics(metrics),
            _outbound(record),
            _review(playbook),
        ],
        metrics=metrics,
    )
