"""The json export: the whole event log and the final state, loss-free.

`crisis-tui import` reads it back (crisis_tui.importer): the events carry their
time, actor, kind, payload and hashes exactly, so the imported incident has the
same chain, which `crisis-tui verify` then confirms. The final state and the
metrics ride along for readers that want them without replaying the log.

JSON escapes C0 controls (ESC is written `\\u001b`) but may carry DEL and the C1
controls raw, which some terminals obey; they are written as `\\u` escapes too,
so a `cat` of the file cannot drive a terminal and decoding gives back every
character exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from crisis_tui import __version__
from crisis_tui.drill import report as drill_report
from crisis_tui.export.metrics import Metrics
from crisis_tui.export.record import IncidentRecord, Progress, no_progress
from crisis_tui.log_head import Head
from crisis_tui.model import Comment, Counts, Decision, Draft, Event, Incident, Note, Presence
from crisis_tui.notify.loop_in import LoopIn, loop_ins
from crisis_tui.playbook import Playbook
from crisis_tui.publish.outbound import Outbound, outbound

FORMAT = "crisis-tui-export"
#: DEL, and C1 controls as UTF-8 (0xC2 leads no other character, so this matches nothing else).
_RAW_CONTROLS = re.compile(rb"\x7f|\xc2[\x80-\x9f]")
VERSION = 1


class State(msgspec.Struct, kw_only=True):
    comments: list[Comment]
    drafts: list[Draft]
    decisions: list[Decision]
    presence: list[Presence]
    notes: list[Note]
    counts: Counts


class ExportDocument(msgspec.Struct, kw_only=True):
    """What the json file holds, in this key order."""

    format: str = FORMAT
    version: int = VERSION
    generator: str = f"crisis-tui {__version__}"
    exported_at: float
    incident: Incident
    #: The log's newest event when the export was made: `import` refuses a file whose events end elsewhere.
    head: Head
    events: list[Event]
    state: State
    metrics: Metrics
    #: What left the room (crisis_tui.publish.outbound), derived from `events`.
    outbound: list[Outbound] = []
    #: Every escalation and its department's answer, with the time to loop it in (crisis_tui.notify.loop_in).
    loop_ins: list[LoopIn] = []
    #: A drill's scores against its scenario's targets (crisis_tui.drill.report); None for a real incident.
    drill: drill_report.DrillScore | None = None


def document(record: IncidentRecord, metrics: Metrics, exported_at: float,
             playbook: Playbook | None = None) -> ExportDocument:
    scores = (drill_report.score(record.events, playbook)
              if record.incident.drill and playbook is not None else None)
    return ExportDocument(
        exported_at=exported_at,
        incident=record.incident,
        head=record.head,
        events=record.events,
        state=State(comments=record.comments, drafts=record.drafts, decisions=record.decisions,
                    presence=record.presence, notes=record.notes, counts=record.counts),
        metrics=metrics,
        outbound=outbound(record.events),
        loop_ins=loop_ins(record.events),
        drill=scores,
    )


def terminal_safe(data: bytes) -> bytes:
    """msgspec's JSON with DEL and C1 controls as `\\u` escapes (the same JSON value)."""
    return _RAW_CONTROLS.sub(lambda m: b"\\u%04x" % ord(m.group().decode()), data)


def write(record: IncidentRecord, metrics: Metrics, playbook: Playbook, out: Path, *,
          exported_at: float, progress: Progress = no_progress) -> list[Path]:
    """Write one json file at `out`."""
    progress("writing json", 0, 1)
    data = terminal_safe(msgspec.json.encode(document(record, metrics, exported_at, playbook)))
    out.write_bytes(data + b"\n")
    progress("writing json", 1, 1)
    return [out]
