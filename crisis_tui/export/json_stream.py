"""The json export written as the log streams by, in bounded memory (the format is to_json's).

`to_json.write` encodes one `ExportDocument` held whole: at a million comments that is the
log, every comment twice and a breach per comment, gigabytes. Here the same bytes are
written piece by piece. The log is read a page at a time up to the head read first; each
page is written as it comes and fed to the metrics (`metrics.Folding`, one pass, in columns).
Runs of comment.ingested rows, nearly all of a big log, are decoded a run at a time
(`arrivals`); the other events one by one, their payloads re-encoded from the stored bytes as
the export always did. The final state of each comment needs events that come after it, so
each comment's JSON goes to a spool file as it arrives and only the changes later events make
are remembered; after the log, the spool is copied into the document in blocks, the few changed
comments re-encoded. The SLA breaches, a million at most, are encoded a block at a time. The
writing itself happens in a thread of its own (`background`), beside the encoding.

The document's own keys and the parts that are small (incident, head, drafts, decisions,
presence, notes, counts, the metrics but their breaches, outbound) come from encoding an
`ExportDocument` whose big lists are markers (`\\x01E` ...: a byte msgspec never writes
unescaped), cut at those markers: so the key order and spelling are the struct's, and a test
holds the file equal, byte for byte, to `to_json.write`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import tempfile
from array import array
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from functools import partial
from itertools import accumulate, chain, groupby
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import IO, Any, cast

import msgspec

from crisis_tui import events as ev
from crisis_tui.drill import report as drill_report
from crisis_tui.errors import CrisisError, InvalidInput
from crisis_tui.eventlog import event_from_row
from crisis_tui.export.arrivals import INGESTED, RunDecoder
from crisis_tui.export.background import Writes
from crisis_tui.export.metrics import Breaches, Folding
from crisis_tui.export.record import Progress, no_progress
from crisis_tui.export.to_json import ExportDocument, State, terminal_safe
from crisis_tui.log_head import EMPTY, Head
from crisis_tui.model import Comment, Counts, Event, Incident, Note
from crisis_tui.notify.loop_in import loop_ins
from crisis_tui.playbook import Playbook
from crisis_tui.publish.outbound import outbound
from crisis_tui.store.protocol import IncidentStore

#: Events read at a time: at 5,000 the pages in flight (read ahead, decoded, queued to be written)
#: put the 1M export's peak near 300 MB; at 2,500 it is 20 MB lower, and no slower.
PAGE = 2500
_EVENTS, _COMMENTS, _BREACHES = msgspec.Raw(b"\x01E"), msgspec.Raw(b"\x01C"), msgspec.Raw(b"\x01B")
_encode = msgspec.json.Encoder().encode
_comment = msgspec.json.Decoder(Comment).decode
#: Where pieces of a file go, in order.
Emit = Callable[[bytes | memoryview], None]
#: Where the spool's bytes [start, end) go, in order with the pieces.
Copy = Callable[[int, int], None]
_KIND = itemgetter(4)
#: Breaches encoded at a time: a few megabytes.
_BREACHES_AT_ONCE = 10_000
#: What a Comment holds after its received_at when it arrives.
_FRESH = b',"status":"new","holder":null,"tags":[]}'
_UNANSWERED = frozenset({"new", "claimed", "escalated"})
#: Bodies outbound() reads besides the comments it answers (the creation says whether it is a drill).
_OUTBOUND = (ev.IncidentCreated, ev.DraftSaved, ev.ReplyPublished, ev.DraftMoved)
#: Bodies loop_ins() reads: the escalations and their answers (a few, kept whole).
_LOOP_INS = (ev.CommentMarked, ev.EscalationAnswered)


def _safe(data: bytes) -> bytes:
    """to_json.terminal_safe, looked for before it is run (most pieces have neither byte)."""
    return terminal_safe(data) if b"\x7f" in data or b"\xc2" in data else data


def _inside(data: bytes) -> memoryview:
    """A JSON list's items, made terminal-safe, without copying them out of the list's bytes."""
    return memoryview(_safe(data))[1:-1]


async def pages(store: IncidentStore, incident_id: str, head: Head,
                progress: Progress = no_progress) -> AsyncIterator[list[Any]]:
    """The log up to `head`, a page at a time: a store that offers its stored rows
    (`raw_events_after`, SqliteStore) gives them as they are, (seq, incident_id, ts, actor,
    kind, payload, prev_hash, hash) tuples; any other gives Events."""
    raw = getattr(store, "raw_events_after", None)
    seq_of: Callable[[Any], int] = itemgetter(0) if raw is not None else attrgetter("seq")

    async def read(after: int) -> list[Any]:
        if raw is not None:
            return list(await raw(incident_id, after, PAGE))
        return list(await store.events_after(incident_id, after, PAGE))

    done = 0
    coming = asyncio.ensure_future(read(0)) if head.number else None
    try:
        while coming is not None:
            page = await coming
            if page and seq_of(page[-1]) > head.seq:
                page = [e for e in page if seq_of(e) <= head.seq]
            coming = None
            if not page:
                break
            done += len(page)
            if done < head.number:  # the store reads the next page while this one is written
                coming = asyncio.ensure_future(read(seq_of(page[-1])))
            yield page
            progress("reading the log", done, head.number)
    finally:
        if coming is not None:
            coming.cancel()
            with contextlib.suppress(asyncio.CancelledError, CrisisError):
                await coming


class _Comments:
    """The state's comments as the log leaves them (the rules of record.comments_from), their
    JSON spooled as they arrive and only what later events change kept in memory.

    The spool holds each comment's JSON, made terminal-safe, followed by a comma, in first-arrival
    order (the fold's rows), and `lengths` their sizes: most comments are copied out of it by the
    kernel (background.Writes.copy), untouched."""

    def __init__(self, incident_id: str, spool: IO[bytes], put: Emit, knows: Callable[[int], bool]) -> None:
        self.incident_id = incident_id
        self._incident = b',"incident_id":' + _encode(incident_id)
        #: read back at the end; written through `put` (which may write in another thread)
        self.spool = spool
        self.put = put
        self.knows = knows
        self.lengths = array("I")
        #: id -> [status, holder, tags] for the comments a later event changed
        self.changed: dict[int, list[Any]] = {}
        #: id -> the JSON of its last arrival, for an id given again (it keeps its first place)
        self.again: dict[int, bytes] = {}

    def comment_json(self, c: ev.ArrivedComment) -> bytes:
        """`Comment(**asdict(c), incident_id=...)` encoded, without building it: a Comment's fields
        are an ArrivedComment's with incident_id before its last (received_at) and status, holder
        and tags after it, so its JSON is the arrival's with those spliced in."""
        data = _encode(c)
        cut = data.rfind(b',"received_at":')
        if cut < 0 or not data.endswith(b"}"):
            return _encode(Comment(**msgspec.structs.asdict(c), incident_id=self.incident_id))
        return b"".join((data[:cut], self._incident, data[cut:-1], _FRESH))

    def _of(self, comment_id: int) -> list[Any]:
        found = self.changed.get(comment_id)
        if found is None:
            found = self.changed[comment_id] = ["new", None, []]
        return found

    def arrive_run(self, comments: list[Any]) -> None:
        """Spool a run of new comments (arrivals.Run's, whose ids the log had not brought)."""
        datas = list(map(_encode, comments))
        joined = b",".join(datas)
        if b"\x7f" in joined or b"\xc2" in joined:
            datas = list(map(_safe, datas))
            joined = b",".join(datas)
        self.lengths.extend(map(len, datas))
        self.put(joined)
        self.put(b",")

    def feed(self, body: ev.EventBody) -> None:
        if isinstance(body, ev.CommentIngested):
            c = body.comment
            data = _safe(self.comment_json(c))
            if self.knows(c.id):
                self.again[c.id] = data
                self.changed.pop(c.id, None)
                return
            self.lengths.append(len(data))
            self.put(data + b",")
        elif isinstance(body, ev.DraftMoved):
            if body.status == "sent" and body.comment_id is not None and self.knows(body.comment_id):
                self._of(body.comment_id)[0] = "answered"
        elif isinstance(body, ev.CommentChange):
            if not self.knows(body.comment_id):
                return
            now = self._of(body.comment_id)
            match body:
                case ev.CommentClaimed(holder=holder) | ev.CommentHandedOver(holder=holder):
                    now[0], now[1] = "claimed", holder
                case ev.CommentReleased() | ev.ClaimLapsed():
                    now[0], now[1] = "new", None
                case ev.CommentMarked(status=status):
                    now[0] = status
                    if status == "new":
                        now[1] = None
                case ev.CommentTagged(tags=tags):
                    now[2] = list(tags)


    def write(self, emit: Emit, copy: Copy, counts: Counts, folding: Folding, wanted: set[int]) -> dict[int, Comment]:
        """Copy the spool (all of it written) to `emit` as the comments' JSON list, counting them into `counts` (as
        record.counts_of does); the comments whose ids are `wanted`, decoded. The fold that saw
        the same log knows each comment's place (its row, the spool's order) and `since`."""
        self.spool.flush()
        ends = array("q", accumulate(n + 1 for n in self.lengths))  # each comment's comma's end
        total = len(self.lengths)
        touched = {r for r in map(folding.row, chain(self.changed, self.again, wanted)) if r is not None}
        ids = folding.ids_by_row
        found: dict[int, Comment] = {}
        by_status = {"new": total - len(touched)}
        #: rows a later event took out of the unanswered (their `since` does not count)
        answered: list[int] = []
        emit(b"[")
        at = 0
        for r in sorted(touched):
            start = ends[r] - self.lengths[r] - 1
            if at < start:
                copy(at, start)
            self.spool.seek(start)
            data = self.spool.read(self.lengths[r])
            at = ends[r]
            comment_id = ids[r]
            data = self.again.get(comment_id) or data
            change = self.changed.get(comment_id)
            status = "new"
            if change is not None or comment_id in wanted:
                comment = _comment(data)
                if change is not None:
                    comment.status, comment.holder, comment.tags = change
                    status = comment.status
                    data = _encode(comment)
                found[comment_id] = comment
            emit(_safe(data) if r == total - 1 else _safe(data) + b",")
            by_status[status] = by_status.get(status, 0) + 1
            if status not in _UNANSWERED:
                answered.append(r)
        if at < (end := ends[-1] - 1 if total else 0):
            copy(at, end)
        emit(b"]")
        for status, n in by_status.items():
            if n and hasattr(counts, status):
                setattr(counts, status, getattr(counts, status) + n)
            counts.total += n
        counts.oldest_unanswered_at = _oldest(folding.since_by_row, answered)
        return found


def _oldest(since: Sequence[float], leaving_out: list[int]) -> float | None:
    """The smallest `since` but those of the rows left out (None when no row is left)."""
    if len(leaving_out) >= len(since):
        return None
    if not leaving_out:
        return min(since)
    kept = array("d", since)
    for r in leaving_out:
        kept[r] = math.inf
    return min(kept)


def _arrival(comment: Comment) -> Event:
    """A comment.ingested event for outbound(), which reads the source and address of what it answers."""
    fields = {name: getattr(comment, name) for name in ev.ArrivedComment.__struct_fields__}
    return Event(seq=0, incident_id=comment.incident_id, ts=comment.received_at, actor="", kind=ev.kind_of(ev.CommentIngested),
                 payload={"comment": msgspec.to_builtins(fields)}, prev_hash="", hash="")


class _Log:
    """What the export gathers from the log as it streams by, beside the events it writes."""

    def __init__(self, incident: Incident, playbook: Playbook, spool: IO[bytes], put: Emit) -> None:
        self.folding = Folding(playbook)
        self.comments = _Comments(incident.id, spool, put, self.folding.knows)
        self.notes: list[Note] = []
        self.for_outbound: list[Event] = []
        self.for_loop_ins: list[Event] = []
        #: A drill's log, which its scores read whole (drill_report.score): a rehearsal's size.
        self.drill_events: list[Event] | None = [] if incident.drill and playbook is not None else None
        #: Runs of arrivals decoded at once; a drill keeps every Event for its scores.
        self.runs = RunDecoder(incident.id) if self.drill_events is None else None
        #: The comments a reply was sent to.
        self.answered: set[int] = set()

    def rows(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """Take in a page of stored rows; what to write for them (StoredEvents and Events)."""
        written: list[Any] = []
        runs: Iterable[tuple[str, list[tuple[Any, ...]]]]
        if list(map(_KIND, rows)).count(INGESTED) == len(rows):  # most pages: one run
            runs = [(INGESTED, rows)]
        else:
            runs = ((kind, list(group)) for kind, group in groupby(rows, key=_KIND))
        for kind, run in runs:
            if kind == INGESTED and self.runs is not None:
                arrived = self.runs.decode(run)
                if arrived is not None and self.folding.arrive_run(arrived.comments):
                    self.comments.arrive_run(arrived.comments)
                    written += arrived.events
                    continue
            events = [event_from_row(row, raw_values=True) for row in run]
            self.events(events)
            written += events
        return written

    def events(self, events: list[Event]) -> None:
        """Take in events one by one."""
        if self.drill_events is not None:
            self.drill_events.extend(events)
        for event in events:
            body = event.body
            self.comments.feed(body)
            self.folding.feed(event)
            if isinstance(body, _LOOP_INS) and (isinstance(body, ev.EscalationAnswered)
                                                or body.status == "escalated"):
                self.for_loop_ins.append(event)
            if isinstance(body, ev.NoteAdded):
                self.notes.append(Note(id=body.note_id, incident_id=event.incident_id, author=event.actor,
                                       text=body.text, at=event.ts))
            elif isinstance(body, _OUTBOUND):
                self.for_outbound.append(event)
                if isinstance(body, ev.DraftMoved) and body.status == "sent" and body.comment_id is not None:
                    self.answered.add(body.comment_id)


def _write_breaches(emit: Emit, breaches: Breaches) -> None:
    """The breaches as a JSON list, encoded a block of them at a time."""
    emit(b"[")
    first = True
    for block in breaches.blocks(_BREACHES_AT_ONCE):
        if not first:
            emit(b",")
        emit(_inside(_encode(block)))
        first = False
    emit(b"]")


async def write_json(store: IncidentStore, incident_id: str, playbook: Playbook, out: Path, *,
                     exported_at: float, progress: Progress = no_progress) -> list[Path]:
    """The json export of `incident_id` at `out` (written beside it, then moved in place)."""
    incident = await store.get_incident(incident_id)
    found = await store.log_head(incident_id)
    head = Head(number=found.number, hash=found.hash, seq=found.seq) if found is not None else EMPTY
    shown = Head(number=head.number, hash=head.hash) if found is not None else EMPTY  # as record.head
    raw = hasattr(store, "raw_events_after")
    part = out.with_name(out.name + ".part")
    try:
        with (open(part, "wb", buffering=0) as file, tempfile.TemporaryFile(prefix="crisis-export-") as spool,
              Writes() as writes):
            emit = partial(writes.write, file)
            # what comes before the events, and between them and the comments, is known now
            opening = _encode(ExportDocument(
                exported_at=exported_at, incident=incident, head=shown, events=cast(Any, _EVENTS),
                state=State(comments=cast(Any, _COMMENTS), drafts=[], decisions=[], presence=[], notes=[],
                            counts=Counts()),
                metrics=cast(Any, msgspec.Raw(b"0"))))
            emit(_safe(opening[:opening.index(_EVENTS)]))
            log = _Log(incident, playbook, spool, partial(writes.write, spool))
            count, last = 0, ""
            emit(b"[")
            async for page in pages(store, incident_id, head, progress):
                if raw:
                    written = log.rows(page)
                    last = page[-1][7]
                else:
                    log.events(page)
                    written, last = page, page[-1].hash
                if count:
                    emit(b",")
                emit(_inside(_encode(written)))  # one encode a page: the events, comma-separated
                count += len(page)
            emit(b"]")
            if count != head.number or (count and last != head.hash):
                raise InvalidInput("incident", f"its log changed while it was read ({count:,} events, not "
                                               f"{head.number:,} up to its head); export again")
            progress("reading the final state", 0, 1)
            drafts = await store.drafts(incident_id)
            decisions = await store.decisions(incident_id)
            presence = await store.presence(incident_id)
            progress("reading the final state", 1, 1)
            progress("computing metrics", 0, 1)
            metrics, breaches = log.folding.result(exported_at)
            progress("computing metrics", 1, 1)
            progress("writing json", 0, 1)
            counts = Counts()
            between = opening[opening.index(_EVENTS) + len(_EVENTS):opening.index(_COMMENTS)]
            emit(_safe(between))
            writes.drain()
            picked = log.comments.write(emit, partial(writes.copy, file, spool), counts, log.folding, log.answered)
            metrics.sla.breached = cast(Any, _BREACHES)
            document = ExportDocument(
                exported_at=exported_at, incident=incident, head=shown, events=cast(Any, _EVENTS),
                state=State(comments=cast(Any, _COMMENTS), drafts=drafts, decisions=decisions, presence=presence,
                            notes=log.notes, counts=counts),
                metrics=metrics,
                outbound=outbound([_arrival(c) for c in picked.values()] + log.for_outbound),
                loop_ins=loop_ins(log.for_loop_ins),
                drill=drill_report.score(log.drill_events, playbook) if log.drill_events is not None else None,
            )
            whole = _encode(document)
            before_breaches, tail = whole[whole.index(_COMMENTS) + len(_COMMENTS):].split(_BREACHES, 1)
            emit(_safe(before_breaches))
            _write_breaches(emit, breaches)
            emit(_safe(tail))
            emit(b"\n")
        os.replace(part, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        raise InvalidInput("output", f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    progress("writing json", 1, 1)
    return [out]
