"""The json export written as the log streams by, in bounded memory (the format is to_json's).

`to_json.write` encodes one `ExportDocument` held whole: at a million comments that is the
log, every comment twice and a breach per comment, gigabytes. Here the same bytes are
written piece by piece. The log is read a page at a time up to the head read first; each
event is written as it comes (its payload re-encoded from the stored bytes, as the export
always did) and fed to the metrics (`metrics.Folding`, one pass, in columns). The final
state of each comment needs events that come after it, so each comment's JSON goes to a
spool file as it arrives and only the changes later events make are remembered; after
the log, the spool is copied into the document, the few changed comments re-encoded. The
SLA breaches, a million at most, are written one by one from the fold's columns.

The document's own keys and the parts that are small (incident, head, drafts, decisions,
presence, notes, counts, the metrics but their breaches, outbound) come from encoding an
`ExportDocument` whose big lists are markers (`\\x01E` ...: a byte msgspec never writes
unescaped), cut at those markers: so the key order and spelling are the struct's, and a test
holds the file equal, byte for byte, to `to_json.write`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import IO, Any, cast

import msgspec

from crisis_tui import events as ev
from crisis_tui.drill import report as drill_report
from crisis_tui.errors import CrisisError, InvalidInput
from crisis_tui.eventlog import event_from_row
from crisis_tui.export.metrics import Folding
from crisis_tui.export.record import Progress, no_progress
from crisis_tui.export.to_json import ExportDocument, State, terminal_safe
from crisis_tui.log_head import EMPTY, Head
from crisis_tui.model import Comment, Counts, Event, Note
from crisis_tui.notify.loop_in import loop_ins
from crisis_tui.playbook import Playbook
from crisis_tui.publish.outbound import outbound
from crisis_tui.store.protocol import IncidentStore

PAGE = 5000
_EVENTS, _COMMENTS, _BREACHES = msgspec.Raw(b"\x01E"), msgspec.Raw(b"\x01C"), msgspec.Raw(b"\x01B")
_encode = msgspec.json.Encoder().encode
_comment = msgspec.json.Decoder(Comment).decode
_HEADER = struct.Struct("<qI")
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


async def pages(store: IncidentStore, incident_id: str, head: Head,
                progress: Progress = no_progress) -> AsyncIterator[list[Event]]:
    """The log up to `head`, a page at a time; a store that offers its stored rows
    (`raw_events_after`, SqliteStore) gives them undecoded, the payloads kept raw."""
    raw = getattr(store, "raw_events_after", None)

    async def read(after: int) -> list[Event]:
        if raw is not None:
            return [event_from_row(row, raw_values=True) for row in await raw(incident_id, after, PAGE)]
        return list(await store.events_after(incident_id, after, PAGE))

    done = 0
    coming = asyncio.ensure_future(read(0)) if head.number else None
    try:
        while coming is not None:
            page = [e for e in await coming if e.seq <= head.seq]
            coming = None
            if not page:
                break
            done += len(page)
            if done < head.number:  # the store reads the next page while this one is written
                coming = asyncio.ensure_future(read(page[-1].seq))
            yield page
            progress("reading the log", done, head.number)
    finally:
        if coming is not None:
            coming.cancel()
            with contextlib.suppress(asyncio.CancelledError, CrisisError):
                await coming


class _Comments:
    """The state's comments as the log leaves them (the rules of record.comments_from), their
    JSON spooled as they arrive and only what later events change kept in memory."""

    def __init__(self, incident_id: str, spool: IO[bytes], knows: Callable[[int], bool]) -> None:
        self.incident_id = incident_id
        self._incident = b',"incident_id":' + _encode(incident_id)
        self.spool = spool
        self.knows = knows
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

    def feed(self, body: ev.EventBody) -> None:
        if isinstance(body, ev.CommentIngested):
            c = body.comment
            data = self.comment_json(c)
            if self.knows(c.id):
                self.again[c.id] = data
                self.changed.pop(c.id, None)
                return
            self.spool.write(_HEADER.pack(c.id, len(data)))
            self.spool.write(data)
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

    def write(self, out: IO[bytes], counts: Counts, since: Sequence[float],
              wanted: set[int]) -> dict[int, Comment]:
        """Copy the spool into `out` as the comments' JSON list, counting them into `counts` (as
        record.counts_of does); the comments whose ids are `wanted`, decoded. `since` is each
        comment's `since` in first-arrival order, the spool's own."""
        self.spool.flush()
        self.spool.seek(0)
        found: dict[int, Comment] = {}
        first = True
        out.write(b"[")
        read = self.spool.read
        by_status: dict[str, int] = {}
        oldest: float | None = None
        row = -1
        while header := read(_HEADER.size):
            row += 1
            comment_id, size = _HEADER.unpack(header)
            data = self.again.get(comment_id) or read(size)
            if comment_id in self.again:
                read(size)
            change = self.changed.get(comment_id)
            status = "new"
            if change is not None or comment_id in wanted:
                comment = _comment(data)
                if change is not None:
                    comment.status, comment.holder, comment.tags = change
                    status = comment.status
                    data = _encode(comment)
                found[comment_id] = comment
            out.write(_safe(data) if first else b"," + _safe(data))
            first = False
            by_status[status] = by_status.get(status, 0) + 1
            if status in _UNANSWERED:
                at = since[row]
                if oldest is None or at < oldest:
                    oldest = at
        out.write(b"]")
        for status, n in by_status.items():
            if hasattr(counts, status):
                setattr(counts, status, getattr(counts, status) + n)
            counts.total += n
        counts.oldest_unanswered_at = oldest
        return found


def _arrival(comment: Comment) -> Event:
    """A comment.ingested event for outbound(), which reads the source and address of what it answers."""
    fields = {name: getattr(comment, name) for name in ev.ArrivedComment.__struct_fields__}
    return Event(seq=0, incident_id=comment.incident_id, ts=comment.received_at, actor="", kind=ev.kind_of(ev.CommentIngested),
                 payload={"comment": msgspec.to_builtins(fields)}, prev_hash="", hash="")


async def write_json(store: IncidentStore, incident_id: str, playbook: Playbook, out: Path, *,
                     exported_at: float, progress: Progress = no_progress) -> list[Path]:
    """The json export of `incident_id` at `out` (written beside it, then moved in place)."""
    incident = await store.get_incident(incident_id)
    found = await store.log_head(incident_id)
    head = Head(number=found.number, hash=found.hash, seq=found.seq) if found is not None else EMPTY
    shown = Head(number=head.number, hash=head.hash) if found is not None else EMPTY  # as record.head
    part = out.with_name(out.name + ".part")
    try:
        with open(part, "wb", buffering=1 << 20) as dst, tempfile.TemporaryFile(prefix="crisis-export-") as spool:
            # what comes before the events, and between them and the comments, is known now
            opening = _encode(ExportDocument(
                exported_at=exported_at, incident=incident, head=shown, events=cast(Any, _EVENTS),
                state=State(comments=cast(Any, _COMMENTS), drafts=[], decisions=[], presence=[], notes=[],
                            counts=Counts()),
                metrics=cast(Any, msgspec.Raw(b"0"))))
            dst.write(_safe(opening[:opening.index(_EVENTS)]))
            folding = Folding(playbook)
            comments = _Comments(incident_id, spool, folding.knows)
            notes: list[Note] = []
            for_outbound: list[Event] = []
            for_loop_ins: list[Event] = []
            #: A drill's log, which its scores read whole (drill_report.score): a rehearsal's size.
            drill_events: list[Event] | None = [] if incident.drill and playbook is not None else None
            answered: set[int] = set()
            count, last = 0, ""
            dst.write(b"[")
            async for page in pages(store, incident_id, head, progress):
                data = _safe(_encode(page)[1:-1])  # one encode a page: the events, comma-separated
                dst.write(data if not count else b"," + data)
                count += len(page)
                last = page[-1].hash
                if drill_events is not None:
                    drill_events.extend(page)
                for event in page:
                    body = event.body
                    comments.feed(body)
                    folding.feed(event)
                    if isinstance(body, _LOOP_INS) and (isinstance(body, ev.EscalationAnswered)
                                                        or body.status == "escalated"):
                        for_loop_ins.append(event)
                    if isinstance(body, ev.NoteAdded):
                        notes.append(Note(id=body.note_id, incident_id=event.incident_id, author=event.actor,
                                          text=body.text, at=event.ts))
                    elif isinstance(body, _OUTBOUND):
                        for_outbound.append(event)
                        if isinstance(body, ev.DraftMoved) and body.status == "sent" and body.comment_id is not None:
                            answered.add(body.comment_id)
            dst.write(b"]")
            if count != head.number or (count and last != head.hash):
                raise InvalidInput("incident", f"its log changed while it was read ({count:,} events, not "
                                               f"{head.number:,} up to its head); export again")
            progress("reading the final state", 0, 1)
            drafts = await store.drafts(incident_id)
            decisions = await store.decisions(incident_id)
            presence = await store.presence(incident_id)
            progress("reading the final state", 1, 1)
            progress("computing metrics", 0, 1)
            metrics, breaches = folding.result(exported_at)
            progress("computing metrics", 1, 1)
            progress("writing json", 0, 1)
            counts = Counts()
            between = opening[opening.index(_EVENTS) + len(_EVENTS):opening.index(_COMMENTS)]
            dst.write(_safe(between))
            picked = comments.write(dst, counts, folding.since_by_row, answered)
            metrics.sla.breached = cast(Any, _BREACHES)
            document = ExportDocument(
                exported_at=exported_at, incident=incident, head=shown, events=cast(Any, _EVENTS),
                state=State(comments=cast(Any, _COMMENTS), drafts=drafts, decisions=decisions, presence=presence,
                            notes=notes, counts=counts),
                metrics=metrics,
                outbound=outbound([_arrival(c) for c in picked.values()] + for_outbound),
                loop_ins=loop_ins(for_loop_ins),
                drill=drill_report.score(drill_events, playbook) if drill_events is not None else None,
            )
            whole = _encode(document)
            before_breaches, tail = whole[whole.index(_COMMENTS) + len(_COMMENTS):].split(_BREACHES, 1)
            dst.write(_safe(before_breaches))
            dst.write(b"[")
            for n, breach in enumerate(breaches):
                data = _safe(_encode(breach))
                dst.write(data if not n else b"," + data)
            dst.write(b"]")
            dst.write(_safe(tail))
            dst.write(b"\n")
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
