"""The drill report: how the committee did against the scenario's targets, from the log alone.

Times are the scenario's minutes: the log's seconds times the speed the drill
was played at (a drill at x10 that answered in 30 s answered in 5 scenario
minutes); a drill played without waiting keeps the log's own times. The
definitions follow the evaluation's (crisis_tui.export.metrics):

- first response: the first comment's arrival to the first reply or statement sent;
- holding statement: the first comment's arrival to the first statement sent;
- SLA breaches: among the `top_reach` comments with the widest reach
  (triage.priority.reach), those resolved (reply sent, or marked answered,
  ignored or removal requested) later than the severity's SLA, or still
  unresolved past it when the drill ended;
- checklist pass rate and decision latency (median) as the evaluation counts them.

A drill is measured up to its end, and never past the scenario's length: one
ended (or exported) long after its script would have run out is not scored on
the hours nobody was playing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from crisis_tui import events as ev
from crisis_tui.export.metrics import RESOLVING, compute, median
from crisis_tui.model import Event
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import one_line
from crisis_tui.triage.priority import reach


class TargetResult(msgspec.Struct, kw_only=True, frozen=True):
    """One target: what was asked, what was done, and whether it was met (None: not reached)."""

    name: str
    target: float
    actual: float | None
    met: bool
    #: "min" (scenario minutes) or "count".
    unit: str = "min"


class DrillScore(msgspec.Struct, kw_only=True):
    incident_id: str
    scenario: str
    name: str
    started_at: float
    ended_at: float | None
    speed: float
    comments: int
    first_response_min: float | None
    holding_statement_min: float | None
    top_reach: int
    top_breaches: int
    checklist_pass_rate: float | None
    decision_latency_min: float | None
    targets: list[TargetResult]
    #: Targets met over targets set (0..1).
    score: float
    #: The export this drill replayed (`drill --from`), else empty.
    replayed: str = ""


class _Comment:
    __slots__ = ("arrived", "reach", "resolved", "sla_s")

    def __init__(self, arrived: float, reach: float, sla_s: float) -> None:
        self.arrived, self.reach, self.sla_s = arrived, reach, sla_s
        self.resolved: float | None = None


def score(events: Sequence[Event], playbook: Playbook) -> DrillScore | None:
    """The drill's scores; None when the log holds no drill (a real incident)."""
    started: ev.DrillStarted | None = None
    started_at = 0.0
    ended_at: float | None = None
    incident_id = ""
    severity = playbook.default_severity
    comments: dict[int, _Comment] = {}
    answers: list[float] = []
    statements: list[float] = []
    for e in events:
        match e.body:
            case ev.IncidentCreated(incident=inc):
                incident_id, severity = inc.id, inc.severity or severity
            case ev.IncidentUpdated(changes=changes) if isinstance(changes.get("severity"), str):
                severity = str(changes["severity"])
            case ev.DrillStarted() as b if started is None:
                started, started_at = b, e.ts
            case ev.DrillEnded() if ended_at is None:
                ended_at = e.ts
            case ev.CommentIngested(comment=c):
                comments[c.id] = _Comment(c.since, reach(c), playbook.sla_seconds(severity))
            case ev.CommentMarked(comment_id=cid, status=status) if status in RESOLVING:
                _resolve(comments.get(cid), e.ts)
            case ev.DraftMoved(status="sent", kind=kind, comment_id=cid):
                answers.append(e.ts)
                if kind == "statement":
                    statements.append(e.ts)
                elif cid is not None:
                    _resolve(comments.get(cid), e.ts)
    if started is None:
        return None
    scale = started.speed or 1.0
    end = ended_at if ended_at is not None else max((e.ts for e in events), default=started_at)
    if started.duration_minutes is not None:  # ended (or exported) after its script's length: measured to it
        end = min(end, started_at + started.duration_minutes * 60.0 / scale)
    first = min((c.arrived for c in comments.values()), default=None)

    def after_first(times: list[float]) -> float | None:
        if first is None:
            return None
        later = [t for t in times if t >= first]
        return (min(later) - first) * scale / 60.0 if later else None

    top = sorted(comments.items(), key=lambda kv: (-kv[1].reach, kv[0]))[: started.top_reach]
    breaches = sum(
        1 for _, c in top
        if ((c.resolved if c.resolved is not None else end) - c.arrived) * scale > c.sla_s
    )
    m = compute(list(events), playbook, as_of=end)
    latencies = [d.latency_s * scale / 60.0 for d in m.decisions if d.latency_s is not None]
    first_response, holding = after_first(answers), after_first(statements)
    targets = []
    if started.first_response_minutes is not None:
        targets.append(_target("first response (min)", started.first_response_minutes, first_response))
    if started.holding_statement_minutes is not None:
        targets.append(_target("holding statement (min)", started.holding_statement_minutes, holding))
    targets.append(TargetResult(name=f"SLA breaches in the top {started.top_reach} by reach", target=0,
                                actual=float(breaches), met=breaches == 0, unit="count"))
    return DrillScore(
        incident_id=incident_id, scenario=started.scenario, name=started.name, started_at=started_at,
        ended_at=ended_at, speed=started.speed, comments=len(comments), first_response_min=first_response,
        holding_statement_min=holding, top_reach=started.top_reach, top_breaches=breaches,
        checklist_pass_rate=m.checklist.pass_rate, decision_latency_min=median(latencies), targets=targets,
        score=sum(t.met for t in targets) / len(targets), replayed=started.source,
    )


def _resolve(c: _Comment | None, at: float) -> None:
    if c is not None and c.resolved is None:
        c.resolved = at


def _target(name: str, target: float, actual: float | None) -> TargetResult:
    return TargetResult(name=name, target=target, actual=actual, met=actual is not None and actual <= target)


def minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def lines(s: DrillScore) -> list[str]:
    """The report in plain lines (the headless drill's ending, the md and html exports)."""
    pace = "played without waiting" if not s.speed else f"played at x{s.speed:g}"
    out = [f"DRILL {one_line(s.scenario, 60)}: {one_line(s.name, 100)} ({pace}; times in scenario minutes)"]
    for t in s.targets:
        mark = "✓ met" if t.met else "✗ missed"
        done = "never" if t.actual is None else (f"{t.actual:g}" if t.unit == "count" else minutes(t.actual))
        out.append(f"{mark}  {t.name}: {done} (target {t.target:g})")
    out.append(f"checklist pass rate {percent(s.checklist_pass_rate)} · decision latency "
               f"{minutes(s.decision_latency_min)} min (median) · score {percent(s.score)}")
    return out


TREND_HEADER = ("scenario", "run", "incident", "first resp", "holding", "SLA top", "checklist", "decision",
                "score")


def runs(scores: Iterable[DrillScore]) -> list[DrillScore]:
    """Each run once (a drill read from its file and from its export is one run), each
    scenario's runs together, oldest first."""
    seen: dict[tuple[str, float], DrillScore] = {}
    for s in scores:
        seen.setdefault((s.incident_id, s.started_at), s)
    return sorted(seen.values(), key=lambda s: (s.scenario, s.started_at))


def trend(scores: Iterable[DrillScore]) -> list[tuple[str, ...]]:
    """One row per run, each scenario's runs together and oldest first: the trend to improve."""
    from datetime import datetime  # noqa: PLC0415 - only the table needs dates

    rows: list[tuple[str, ...]] = []
    for s in runs(scores):
        when = datetime.fromtimestamp(s.started_at).strftime("%Y-%m-%d %H:%M")
        rows.append((one_line(s.scenario, 40), when, one_line(s.incident_id, 60),
                     minutes(s.first_response_min), minutes(s.holding_statement_min),
                     f"{s.top_breaches}/{s.top_reach}", percent(s.checklist_pass_rate),
                     minutes(s.decision_latency_min), percent(s.score)))
    return rows


def progress(scores: Iterable[DrillScore]) -> list[str]:
    """For each scenario run more than once: its first run against its latest."""
    by_scenario: dict[str, list[DrillScore]] = {}
    for s in runs(scores):
        by_scenario.setdefault(s.scenario, []).append(s)
    out = []
    for name, done in by_scenario.items():
        if len(done) < 2:
            continue
        first, last = done[0], done[-1]
        out.append(f"{one_line(name, 40)}: {len(done)} runs; first response {minutes(first.first_response_min)} -> "
                   f"{minutes(last.first_response_min)} min, holding statement {minutes(first.holding_statement_min)} "
                   f"-> {minutes(last.holding_statement_min)} min, SLA breaches {first.top_breaches} -> "
                   f"{last.top_breaches}, score {percent(first.score)} -> {percent(last.score)}")
    return out


def table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...] = TREND_HEADER) -> list[str]:
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    return ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in (header, *rows)]
