"""The evaluation's numbers, computed from the event log alone.

The log is the truth: every figure here is a fold over events in seq order, so
an export of an imported incident gives the same numbers as the original, and
nothing depends on tables that a later write may have changed. Definitions
(they are printed in the md and html exports too):

- a comment's clock starts when it was posted, if its source says so (and not
  "after" we received it: a clock ahead of ours), else at its arrival
  (comment.ingested): a backlog ingested late has waited since its posting;
- response time: a comment's posting to the first reply sent to it
  (draft.status "sent" of a reply draft for that comment);
- time to first response: the first comment's posting to the first public answer
  (a reply or a statement) sent;
- median is the middle value (mean of the two middle ones); p90 is the
  nearest-rank 90th percentile;
- SLA: the severity in force when the comment arrived sets its SLA, counted
  from its posting; a comment breaches when it was resolved (reply sent, or marked answered, ignored or
  removal requested) later than that, or is still unresolved past it at `as_of`;
- shares: each comment's final status over all comments;
- checklist: every approval of a draft (draft.status "approved") passes when it
  carried no failing rule; the others are overrides with their written reason;
- decision latency: decision.proposed to the vote that approved or rejected it;
- curves: comments per bucket of posting time and the share of them with negativity >= 0.5;
- spike to holding statement: the first alert.spike to the first statement sent
  at or after it.
"""

from __future__ import annotations

import math
import statistics
import time
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, compress, islice, repeat
from operator import attrgetter, eq, ge, gt, ne, sub
from typing import Any

import msgspec

from crisis_tui import events as ev
from crisis_tui.model import Event, waiting_since
from crisis_tui.playbook import Playbook

#: A comment at or above this negativity counts as negative in the curves.
NEGATIVE_AT = 0.5
#: Most buckets a curve has; longer incidents get wider buckets.
MAX_BUCKETS = 180
#: Upper edges (seconds) of the response-time histogram's bars; the last bar is open.
HISTOGRAM_EDGES: tuple[float, ...] = (60, 300, 900, 1800, 3600, 7200)
RESOLVING = frozenset({"answered", "ignored", "removal_requested"})
#: Distinct authors and sources remembered to share their str: a comment's author mostly wrote
#: recently, and a dict of a million authors (each distinct in the 1M bench) takes 31 MB.
_STRINGS = 1 << 16
#: Values longest_first sorts at once, and the table that picks slice b out of their slice numbers.
_SORTED_AT_ONCE = 1 << 18
_ONE_OF = [bytes(int(i == b) for i in range(256)) for b in range(256)]
#: Rows the breaches are looked for at a time.
_COLUMN_CHUNK = 1 << 16
#: What the fold reads of an arrival, one C call a comment (see Folding.arrive_run).
_ARRIVAL = attrgetter("id", "received_at", "posted_at", "negativity", "author", "source")


class Curve(msgspec.Struct, kw_only=True):
    """Comments per time bucket from `start`, `step` seconds wide, and how many were negative."""

    start: float
    step: float
    volume: list[int]
    negative: list[int]

    def negative_share(self) -> list[float | None]:
        """Negative share per bucket (None where no comment arrived)."""
        return [n / v if v else None for v, n in zip(self.volume, self.negative, strict=True)]


class Histogram(msgspec.Struct, kw_only=True):
    """Response times counted into bars; `edges` are the upper bounds in seconds."""

    edges: list[float]
    counts: list[int]


class Responses(msgspec.Struct, kw_only=True):
    count: int = 0
    median_s: float | None = None
    p90_s: float | None = None
    max_s: float | None = None
    histogram: Histogram


class Breach(msgspec.Struct):
    """Positional too (no defaults): `Breaches` makes them a column at a time."""

    comment_id: int
    author: str
    source: str
    received_at: float
    #: When its wait started (`waited_s` counts from it): its posting, else `received_at`.
    since: float
    sla_s: float
    waited_s: float
    #: False when still unresolved at `as_of`.
    resolved: bool


class Sla(msgspec.Struct, kw_only=True):
    breaches: int = 0
    resolved_late: int = 0
    still_waiting: int = 0
    within: int = 0
    breached: list[Breach] = []


class Override(msgspec.Struct, kw_only=True):
    draft_id: int
    kind: str
    actor: str
    at: float
    failing: list[str]
    reason: str


class Checklist(msgspec.Struct, kw_only=True):
    approvals: int = 0
    passed: int = 0
    pass_rate: float | None = None
    overrides: list[Override] = []


class OperatorStats(msgspec.Struct, kw_only=True):
    name: str
    role: str = ""
    claims: int = 0
    replies_sent: int = 0
    statements_sent: int = 0
    drafts_started: int = 0
    approvals: int = 0
    overrides: int = 0
    decisions_proposed: int = 0
    votes: int = 0
    marked: dict[str, int] = {}
    notes: int = 0
    median_response_s: float | None = None


class DecisionRecord(msgspec.Struct, kw_only=True):
    id: int
    title: str
    rationale: str
    proposer: str
    proposed_at: float
    status: str = "proposed"
    decided_at: float | None = None
    decided_by: str | None = None
    latency_s: float | None = None
    present: list[str] = []
    approvals: list[str] = []
    rejections: list[str] = []
    supersedes: int | None = None
    #: Not ours to take: the owner (the agency's client) approved or rejected it.
    owner_decides: bool = False


class SeverityChange(msgspec.Struct, kw_only=True):
    at: float
    actor: str
    severity: str


class Metrics(msgspec.Struct, kw_only=True):
    incident_id: str
    title: str
    severity: str
    opened_at: float
    closed_at: float | None
    as_of: float
    events: int
    comments: int
    first_comment_at: float | None
    first_response_at: float | None
    time_to_first_response_s: float | None
    responses: Responses
    sla: Sla
    statuses: dict[str, int]
    answered_share: float | None
    ignored_share: float | None
    removal_share: float | None
    checklist: Checklist
    operators: list[OperatorStats]
    decisions: list[DecisionRecord]
    median_decision_latency_s: float | None
    curve: Curve
    first_spike_at: float | None
    holding_statement_at: float | None
    spike_to_statement_s: float | None
    severity_changes: list[SeverityChange]


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of `values` (need not be sorted)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return float(ordered[rank - 1])


def histogram(values: Iterable[float], edges: Sequence[float] = HISTOGRAM_EDGES) -> Histogram:
    counts = [0] * (len(edges) + 1)
    for value in values:
        for index, edge in enumerate(edges):
            if value <= edge:
                counts[index] += 1
                break
        else:
            counts[-1] += 1
    return Histogram(edges=list(edges), counts=counts)


def bucket_step(span: float, max_buckets: int = MAX_BUCKETS) -> float:
    """Whole minutes per bucket so that `span` seconds fit in `max_buckets`."""
    minutes = max(1, math.ceil(span / 60.0 / max_buckets))
    return minutes * 60.0


def curve(arrivals: Iterable[tuple[float, float]], start: float, end: float, step: float) -> Curve:
    """Bucket (posting time, negativity) pairs into [start, end) by `step` seconds."""
    size = max(1, math.ceil((end - start) / step)) if end > start else 1
    volume = [0] * size
    negative = [0] * size
    for at, negativity in arrivals:
        index = int((at - start) // step)
        if 0 <= index < size:
            volume[index] += 1
            if negativity >= NEGATIVE_AT:
                negative[index] += 1
    return Curve(start=start, step=step, volume=volume, negative=negative)


class _Comments:
    """What the fold remembers of every comment, in columns: a million comments fit in about
    a hundred megabytes, where an object each took a gigabyte. Rows are in first-arrival order
    (a comment id given again keeps its row and takes the new arrival, as a dict would)."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.received_at = array("d")
        self.since = array("d")
        self.sla_s = array("d")
        #: NaN while unresolved
        self.resolved_at = array("d")
        self.replied = bytearray()
        self.status = array("H")
        self.author: list[str] = []
        self.source: list[str] = []
        #: status name <-> its number in `status`
        self.codes: dict[str, int] = {"new": 0}
        self.names: list[str] = ["new"]
        #: id -> row for ids that are not the row's number plus one (ids are 1, 2, 3 ... in a log)
        self.irregular: dict[int, int] = {}
        #: one str object per distinct author and source, among the recent ones (see _STRINGS)
        self._strings: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, comment_id: int | None) -> int | None:
        if comment_id is None:
            return None
        at = comment_id - 1
        if 0 <= at < len(self.ids) and self.ids[at] == comment_id:
            return at
        return self.irregular.get(comment_id)

    def code(self, status: str) -> int:
        found = self.codes.get(status)
        if found is None:
            found = self.codes[status] = len(self.names)
            self.names.append(status)
        return found

    def _recent_strings(self) -> dict[str, str]:
        if len(self._strings) > _STRINGS:
            self._strings.clear()
        return self._strings

    def arrive(self, c: ev.ArrivedComment, sla_s: float) -> None:
        strings = self._recent_strings()
        author = strings.setdefault(c.author, c.author)
        source = strings.setdefault(c.source, c.source)
        fresh = c.id == len(self.ids) + 1 and not self.irregular  # the common case: the next id
        at = None if fresh else self.row(c.id)
        if at is not None:  # the same id again: its row starts over
            self.received_at[at], self.since[at] = c.received_at, c.since
            self.sla_s[at], self.resolved_at[at], self.replied[at], self.status[at] = sla_s, math.nan, 0, 0
            self.author[at], self.source[at] = author, source
            return
        if c.id != len(self.ids) + 1:
            self.irregular[c.id] = len(self.ids)
        self.ids.append(c.id)
        self.received_at.append(c.received_at)
        self.since.append(c.since)
        self.sla_s.append(sla_s)
        self.resolved_at.append(math.nan)
        self.replied.append(0)
        self.status.append(0)
        self.author.append(author)
        self.source.append(source)

    def arrive_run(self, ids: array[int], received_at: array[float], since: array[float],
                   authors: Iterable[str], sources: Iterable[str], sla_s: float) -> bool:
        """`arrive` for a run of comments whose ids are the next ones (1, 2, 3 ... as a log gives
        them), a column at a time; False, and nothing added, for any other run."""
        n = len(ids)
        start = len(self.ids) + 1
        if self.irregular or ids != array("q", range(start, start + n)):
            return False
        strings = self._recent_strings()
        self.ids.extend(ids)
        self.received_at.extend(received_at)
        self.since.extend(since)
        self.sla_s.extend(array("d", [sla_s]) * n)
        self.resolved_at.extend(array("d", [math.nan]) * n)
        self.replied.extend(bytes(n))
        self.status.extend(array("H", bytes(2 * n)))
        self.author.extend(map(strings.setdefault, authors, authors))
        self.source.extend(map(strings.setdefault, sources, sources))
        return True


class _Fold:
    """One pass over the log, in seq order, dispatched on each event's body type."""

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook
        self.incident_id = ""
        self.title = ""
        self.opened_at: float | None = None
        self.severity = playbook.default_severity
        self.sla_s = playbook.sla_seconds(self.severity)
        self.status = "open"
        self.closed_at: float | None = None
        self.count = 0
        self.comments = _Comments()
        #: (posting time, negativity) of every arrival, a comment id given again too
        self.arrival_at = array("d")
        self.arrival_negativity = array("d")
        self.drafts: dict[int, tuple[str, int | None]] = {}
        self.versions: dict[int, int] = {}
        #: Per draft, the approvals counted so far: (version, approver, the override if any).
        self.approved: dict[int, list[tuple[int, str, Override | None]]] = {}
        self.operators: dict[str, OperatorStats] = {}
        self.reply_times: dict[str, list[float]] = {}
        self.responses: list[float] = []
        self.public_answers: list[float] = []
        self.checklist = Checklist(overrides=[])
        self.decisions: dict[int, DecisionRecord] = {}
        self.spikes: list[float] = []
        self.statements_sent: list[float] = []
        self.severity_changes: list[SeverityChange] = []
        #: Body type -> what it does to the figures; the others (focus, tags, checklist ticks,
        #: conflicts, notes' text, unknown kinds, broken payloads) change no metric.
        self.handlers: dict[type[Any], Callable[[Event, Any], None]] = {
            ev.IncidentCreated: self.on_incident_created,
            ev.IncidentUpdated: self.on_incident_updated,
            ev.CommentIngested: self.on_comment_ingested,
            ev.CommentClaimed: self.on_comment_claimed,
            ev.CommentReleased: self.on_comment_released,
            ev.CommentMarked: self.on_comment_marked,
            ev.DraftSaved: self.on_draft_saved,
            ev.DraftMoved: self.on_draft_moved,
            ev.DecisionProposed: self.on_decision_proposed,
            ev.DecisionVoted: self.on_decision_voted,
            ev.OperatorJoined: self.on_operator_joined,
            ev.NoteAdded: self.on_note_added,
            ev.SpikeAlert: self.on_spike,
        }

    def op(self, name: str) -> OperatorStats:
        stats = self.operators.get(name)
        if stats is None:
            stats = self.operators[name] = OperatorStats(name=name, marked={})
        return stats

    def feed(self, event: Event) -> None:
        self.count += 1
        body = event.body
        handler = self.handlers.get(type(body))
        if handler is not None:
            handler(event, body)

    def _severity(self, e: Event, severity: str) -> None:
        self.severity = severity
        self.sla_s = self.playbook.sla_seconds(severity)
        self.severity_changes.append(SeverityChange(at=e.ts, actor=e.actor, severity=severity))

    def on_incident_created(self, e: Event, b: ev.IncidentCreated) -> None:
        self.incident_id, self.title, self.opened_at = b.incident.id, b.incident.title, b.incident.opened_at
        self._severity(e, b.incident.severity or self.severity)

    def on_incident_updated(self, e: Event, b: ev.IncidentUpdated) -> None:
        changes = b.changes
        if "title" in changes:
            self.title = str(changes["title"])
        if "severity" in changes:
            self._severity(e, str(changes["severity"]))
        if "status" in changes:
            self.status = str(changes["status"])
            self.closed_at = e.ts if self.status == "closed" else None

    def arrive_run(self, arrivals: Sequence[Any]) -> bool:
        """`on_comment_ingested` for a run of comment.ingested events (anything with an
        ArrivedComment's fields), or False when the ids are not the next ones (see _Comments)."""
        if not arrivals:
            return True
        ids, received_at, posted_at, negativity, authors, sources = zip(*map(_ARRIVAL, arrivals), strict=True)
        received = array("d", received_at)
        since = array("d", map(waiting_since, posted_at, received_at))
        if not self.comments.arrive_run(array("q", ids), received, since, authors, sources, self.sla_s):
            return False
        self.count += len(arrivals)
        self.arrival_at.extend(since)
        self.arrival_negativity.extend(array("d", negativity))
        return True

    def on_comment_ingested(self, e: Event, b: ev.CommentIngested) -> None:
        c = b.comment
        self.comments.arrive(c, self.sla_s)
        self.arrival_at.append(c.since)
        self.arrival_negativity.append(c.negativity)

    def _status(self, comment_id: int | None, status: str, at: float) -> int | None:
        """Set a comment's status; its row (None for a comment the log has not brought)."""
        comments = self.comments
        row = comments.row(comment_id)
        if row is None:
            return None
        comments.status[row] = comments.code(status)
        if status in RESOLVING and math.isnan(comments.resolved_at[row]):
            comments.resolved_at[row] = at
        return row

    def on_comment_claimed(self, e: Event, b: ev.CommentClaimed) -> None:
        self._status(b.comment_id, "claimed", e.ts)
        self.op(e.actor).claims += 1

    def on_comment_released(self, e: Event, b: ev.CommentReleased) -> None:
        self._status(b.comment_id, "new", e.ts)

    def on_comment_marked(self, e: Event, b: ev.CommentMarked) -> None:
        self._status(b.comment_id, b.status, e.ts)
        marked = self.op(e.actor).marked
        marked[b.status] = marked.get(b.status, 0) + 1

    def on_draft_saved(self, e: Event, b: ev.DraftSaved) -> None:
        self.versions[b.draft_id] = b.version
        if b.version == 1:
            self.drafts[b.draft_id] = (b.kind, b.comment_id)
            self.op(e.actor).drafts_started += 1

    def on_draft_moved(self, e: Event, b: ev.DraftMoved) -> None:
        kind = b.kind or self.drafts.get(b.draft_id, ("reply", None))[0]
        if b.status == "approved":
            failing = list(b.failing or [])
            self.checklist.approvals += 1
            self.op(e.actor).approvals += 1
            override = None
            if failing:
                self.op(e.actor).overrides += 1
                override = Override(draft_id=b.draft_id, kind=kind, actor=e.actor, at=e.ts,
                                    failing=failing, reason=b.override_reason or "")
                self.checklist.overrides.append(override)
            else:
                self.checklist.passed += 1
            version = b.version or self.versions.get(b.draft_id, 1)
            self.approved.setdefault(b.draft_id, []).append((version, e.actor, override))
        elif b.status == "sent":
            self._uncount_unless_approved(b.draft_id, b.version or self.versions.get(b.draft_id, 1))
            self.public_answers.append(e.ts)
            if kind == "statement":
                self.statements_sent.append(e.ts)
                self.op(e.actor).statements_sent += 1
                return
            self.op(e.actor).replies_sent += 1
            row = self._status(b.comment_id, "answered", e.ts)
            if row is not None and not self.comments.replied[row]:
                self.comments.replied[row] = 1
                waited = e.ts - self.comments.since[row]
                self.responses.append(waited)
                self.reply_times.setdefault(e.actor, []).append(waited)

    def _uncount_unless_approved(self, draft_id: int, sent: int) -> None:
        """A draft sent at a version nobody approved (edited after approval, before version
        checks) does not count as approved: its approvals were for another text."""
        approvals = self.approved.pop(draft_id, [])
        if any(version == sent for version, _, _ in approvals):
            return
        for _, actor, override in approvals:
            self.checklist.approvals -= 1
            self.op(actor).approvals -= 1
            if override is None:
                self.checklist.passed -= 1
            else:
                self.checklist.overrides.remove(override)
                self.op(actor).overrides -= 1

    def on_decision_proposed(self, e: Event, b: ev.DecisionProposed) -> None:
        self.decisions[b.decision_id] = DecisionRecord(
            id=b.decision_id, title=b.title, rationale=b.rationale,
            proposer=e.actor, proposed_at=e.ts, supersedes=b.supersedes, approvals=[], rejections=[], present=[],
            owner_decides=bool(b.owner_decides),
        )
        if b.supersedes is not None and b.supersedes in self.decisions:
            self.decisions[b.supersedes].status = "superseded"
        self.op(e.actor).decisions_proposed += 1

    def on_decision_voted(self, e: Event, b: ev.DecisionVoted) -> None:
        record = self.decisions.get(b.decision_id)
        self.op(e.actor).votes += 1
        if record is None:
            return
        (record.approvals if b.vote == "approve" else record.rejections).append(e.actor)
        if b.status:
            record.status = b.status
            record.decided_at = e.ts
            record.decided_by = e.actor
            record.latency_s = e.ts - record.proposed_at
            record.present = list(b.present)

    def on_operator_joined(self, e: Event, b: ev.OperatorJoined) -> None:
        self.op(b.name or e.actor).role = b.role

    def on_note_added(self, e: Event, b: ev.NoteAdded) -> None:
        self.op(e.actor).notes += 1

    def on_spike(self, e: Event, b: ev.SpikeAlert) -> None:
        self.spikes.append(e.ts)


def compute(events: Iterable[Event], playbook: Playbook, *, as_of: float | None = None) -> Metrics:
    """All the evaluation's metrics from the log (see the module docstring).

    `as_of` is the moment unresolved comments are measured against: the close
    of the incident when it is closed, else this argument, else now.
    """
    folded = Folding(playbook)
    for event in events:
        folded.feed(event)
    metrics, breaches = folded.result(as_of)
    metrics.sla.breached = list(breaches)
    return metrics


class Folding:
    """The metrics as the log streams by: `feed` each event in seq order (or `arrive_run` a run of
    arrivals at once), then `result` gives the metrics with the SLA breaches apart, as `Breaches`
    (there may be a million of them: a writer takes them a block at a time instead of holding them)."""

    def __init__(self, playbook: Playbook) -> None:
        self.fold = _Fold(playbook)
        self.feed = self.fold.feed
        self.arrive_run = self.fold.arrive_run

    def row(self, comment_id: int) -> int | None:
        """The comment's place among the comments in first-arrival order (None: not brought)."""
        return self.fold.comments.row(comment_id)

    def knows(self, comment_id: int) -> bool:
        """Whether the log fed so far brought this comment."""
        return self.fold.comments.row(comment_id) is not None

    @property
    def ids_by_row(self) -> Sequence[int]:
        """Each comment's id, in first-arrival order."""
        return self.fold.comments.ids

    @property
    def since_by_row(self) -> Sequence[float]:
        """When each comment started waiting (its last arrival's `since`), in first-arrival order."""
        return self.fold.comments.since

    def result(self, as_of: float | None = None) -> tuple[Metrics, Breaches]:
        """The metrics of the log fed so far (once: the fold lets go of what it no longer needs)."""
        return _result(self.fold, as_of)


def longest_first(values: array[float]) -> Sequence[int]:
    """`sorted(range(len(values)), key=values.__getitem__, reverse=True)` (ties keep their order)
    in a few megabytes: sorting a million at once held 50 MB of keys and indices, the export's
    peak. Values already in order are left so; others are sorted a slice of their range at a
    time (each slice's values all above the next's), slices cut at quantiles of a sample."""
    n = len(values)
    if all(map(ge, values, islice(values, 1, None))):
        return range(n)
    if n <= _SORTED_AT_ONCE or any(map(ne, values, values)):  # few, or a NaN (which no slice holds)
        return array("q", sorted(range(n), key=values.__getitem__, reverse=True))
    slices = min(255, 2 * math.ceil(n / _SORTED_AT_ONCE))
    sample = sorted(values[::max(1, n // (64 * slices))])
    edges = sorted(set(sample[i * len(sample) // slices] for i in range(1, slices)))
    slice_of = bytes(map(bisect_right, repeat(edges), values))  # value v is in slice b: edges[b-1] <= v < edges[b]
    order = array("q")
    for b in range(len(edges), -1, -1):
        members = compress(range(n), slice_of.translate(_ONE_OF[b]))
        order.extend(sorted(members, key=values.__getitem__, reverse=True))
    return order


class Breaches:
    """The SLA breaches, longest wait first, made from the fold's columns when they are read: a
    million of them as objects is a quarter of a gigabyte, so a writer takes them a block at a time."""

    def __init__(self, comments: _Comments, moment: float) -> None:
        self.comments = comments
        self.moment = moment
        self.rows = array("q")
        self.waited = array("d")
        self.still_waiting = 0
        resolved_at, since, sla_s = comments.resolved_at, comments.since, comments.sla_s
        for lo in range(0, len(resolved_at), _COLUMN_CHUNK):  # in chunks: a few megabytes at a time
            hi = lo + _COLUMN_CHUNK
            resolved = resolved_at[lo:hi]
            # NaN (unresolved) is the one value unequal to itself: its wait runs to `moment`
            waited = array("d", map(sub, [moment if r != r else r for r in resolved], since[lo:hi]))
            over = list(map(gt, waited, sla_s[lo:hi]))
            self.rows.extend(compress(range(lo, hi), over))
            self.waited.extend(compress(waited, over))
            self.still_waiting += sum(compress(map(ne, resolved, resolved), over))
        #: breach number -> its place in `rows`, longest wait first (ties in row order)
        self.order = longest_first(self.waited)

    def __len__(self) -> int:
        return len(self.rows)

    def blocks(self, size: int) -> Iterator[list[Breach]]:
        """The breaches in order, `size` at a time (their columns sliced where the rows of a block
        follow each other, as when the comments came in posting order and still wait)."""
        c, rows, waited = self.comments, self.rows, self.waited
        in_order = isinstance(self.order, range)
        for start in range(0, len(self.order), size):
            if in_order:
                at, waits = rows[start:start + size], waited[start:start + size]
            else:
                order = self.order[start:start + size]
                at, waits = array("q", map(rows.__getitem__, order)), array("d", map(waited.__getitem__, order))
            columns: list[Sequence[Any]]
            if in_order and at[-1] - at[0] == len(at) - 1:  # rows increase: no gap between them
                lo, hi = at[0], at[-1] + 1
                columns = [c.ids[lo:hi], c.author[lo:hi], c.source[lo:hi], c.received_at[lo:hi], c.since[lo:hi],
                           c.sla_s[lo:hi], waits, c.resolved_at[lo:hi]]
            else:
                columns = [list(map(column.__getitem__, at)) for column in
                           (c.ids, c.author, c.source, c.received_at, c.since, c.sla_s)]
                columns += [waits, list(map(c.resolved_at.__getitem__, at))]
            resolved = columns.pop()
            yield list(map(Breach, *columns, map(eq, resolved, resolved)))

    def __iter__(self) -> Iterator[Breach]:
        return chain.from_iterable(self.blocks(10_000))


def _result(fold: _Fold, as_of: float | None) -> tuple[Metrics, Breaches]:
    moment = fold.closed_at if fold.closed_at is not None else (as_of if as_of is not None else time.time())

    first_comment = min(fold.arrival_at) if fold.arrival_at else None
    if fold.arrival_at:
        start = math.floor(first_comment / 60.0) * 60.0 if first_comment is not None else 0.0
        end = max(fold.arrival_at)
        step = bucket_step(end - start)
        flow = curve(zip(fold.arrival_at, fold.arrival_negativity, strict=True), start, end + 1e-9, step)
    else:
        flow = Curve(start=fold.opened_at if fold.opened_at is not None else moment, step=60.0, volume=[], negative=[])
    # the arrival columns are done with: let them go before the breaches are ordered
    fold.arrival_at, fold.arrival_negativity = array("d"), array("d")

    sla = Sla(breached=[])
    comments = fold.comments
    by_code = [0] * len(comments.names)
    for code, n in Counter(comments.status).items():
        by_code[code] = n
    breaches = Breaches(comments, moment)
    sla.breaches = len(breaches)
    sla.still_waiting = breaches.still_waiting
    sla.resolved_late = sla.breaches - sla.still_waiting
    sla.within = len(comments) - sla.breaches

    statuses = {comments.names[code]: n for code, n in enumerate(by_code) if n}
    total = len(comments)
    first_answer = None
    if first_comment is not None:
        first_answer = min((t for t in fold.public_answers if t >= first_comment), default=None)

    check = fold.checklist
    check.pass_rate = check.passed / check.approvals if check.approvals else None

    for name, stats in fold.operators.items():
        stats.median_response_s = median(fold.reply_times.get(name, []))

    decisions = sorted(fold.decisions.values(), key=lambda d: d.id)
    latencies = [d.latency_s for d in decisions if d.latency_s is not None]


    spike = fold.spikes[0] if fold.spikes else None
    statement = next((t for t in fold.statements_sent if spike is not None and t >= spike), None)

    def share(*names: str) -> float | None:
        return sum(statuses.get(n, 0) for n in names) / total if total else None

    metrics = Metrics(
        incident_id=fold.incident_id,
        title=fold.title,
        severity=fold.severity,
        opened_at=fold.opened_at or 0.0,
        closed_at=fold.closed_at,
        as_of=moment,
        events=fold.count,
        comments=total,
        first_comment_at=first_comment,
        first_response_at=first_answer,
        time_to_first_response_s=(first_answer - first_comment)
        if first_answer is not None and first_comment is not None else None,
        responses=Responses(
            count=len(fold.responses),
            median_s=median(fold.responses),
            p90_s=percentile(fold.responses, 90),
            max_s=max(fold.responses) if fold.responses else None,
            histogram=histogram(fold.responses),
        ),
        sla=sla,
        statuses=dict(sorted(statuses.items())),
        answered_share=share("answered"),
        ignored_share=share("ignored"),
        removal_share=share("removal_requested"),
        checklist=check,
        operators=sorted(fold.operators.values(), key=lambda o: o.name.lower()),
        decisions=decisions,
        median_decision_latency_s=median(latencies),
        curve=flow,
        first_spike_at=spike,
        holding_statement_at=statement,
        spike_to_statement_s=statement - spike if statement is not None and spike is not None else None,
        severity_changes=fold.severity_changes,
    )
    return metrics, breaches
