"""The csv export: one file per entity (events, comments, replies, decisions) for spreadsheets.

`-o` names a folder (an existing one, or any path ending in `/`): the files are
`events.csv`, `comments.csv`, `replies.csv` and `decisions.csv` inside it. Any
other `-o` is a prefix: `-o eval/refund` writes `eval/refund-events.csv` and so
on (a trailing `.csv` is dropped first).

events.csv has each event's number in the incident's log (its last row is the
head the export was made from: `number:hash` is what `verify --expect-head`
takes) and JSON payload, except for arriving comments
(comment.ingested), whose content is the row of the same id in comments.csv.

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@` (or a tab or CR) as
a formula, also after leading whitespace or a newline and in fullwidth forms
(`＝`), and comment text comes from hostile strangers: such cells of
untrusted text get a leading `'`, and control characters and terminal escape
sequences are removed from every text cell, so a `cat` of the file cannot drive
a terminal (the payload column's JSON writes DEL and C1 as `\\u00XX` escapes, as it
already does C0). The json export is the loss-free one.
"""

from __future__ import annotations

import csv
import os
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from crisis_tui import events as ev
from crisis_tui.errors import InvalidInput
from crisis_tui.export.metrics import Metrics
from crisis_tui.export.record import IncidentRecord, Progress, no_progress
from crisis_tui.export.to_json import terminal_safe
from crisis_tui.export.wording import iso
from crisis_tui.model import Event
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import display_text
from crisis_tui.timeline_text import describe

ENTITIES = ("events", "comments", "replies", "decisions")
_FORMULA_START = frozenset("=+-@")
_TEXT_CAP = 256 * 1024


def cell(value: object) -> str:
    """Untrusted text made safe for a spreadsheet cell (see the module docstring)."""
    text = "" if value is None else str(value)
    if not (text.isprintable() and len(text) <= _TEXT_CAP):
        # isprintable() is False for every character display_text would change
        # (controls, escapes, format characters such as bidi overrides, surrogates).
        text = display_text(text, _TEXT_CAP)
    return "'" + text if _looks_like_formula(text) else text


def _looks_like_formula(text: str) -> bool:
    """A formula start after any leading whitespace, in any width (fullwidth ＝ is one to some spreadsheets)."""
    if text[:1] in ("\t", "\r"):
        return True
    first = text.lstrip()[:1]
    return bool(first) and unicodedata.normalize("NFKC", first)[:1] in _FORMULA_START


def summary(event: Event) -> str:
    """The event in words; an arriving comment briefly (its text is in comments.csv)."""
    body = event.body
    if isinstance(body, ev.CommentIngested):
        c = body.comment
        return f"new comment #{c.id} on {c.source} from {c.author}"
    return describe(event)


def payload_cell(event: Event, encode: Callable[[object], bytes]) -> str:
    """The payload as stored (unknown and broken ones too), except an arrival's: comments.csv has it."""
    if isinstance(event.body, ev.CommentIngested):
        return ""
    return terminal_safe(encode(event.payload)).decode()


def paths_for(out: Path, raw: str | None = None) -> dict[str, Path]:
    """Where each entity's file goes for `-o OUT` (folder or prefix)."""
    given = raw if raw is not None else str(out)
    if out.is_dir() or given.endswith(("/", os.sep)):
        out.mkdir(parents=True, exist_ok=True)
        return {name: out / f"{name}.csv" for name in ENTITIES}
    if not out.parent.is_dir():
        raise InvalidInput("output", f"folder {out.parent} does not exist")
    stem = out.name[:-4] if out.name.lower().endswith(".csv") else out.name
    return {name: out.parent / f"{stem}-{name}.csv" for name in ENTITIES}


def _write(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    """One csv file; numbers are written by csv itself (floats exactly, None as empty)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write(record: IncidentRecord, metrics: Metrics, playbook: Playbook, out: Path, *,
          exported_at: float, progress: Progress = no_progress, raw_out: str | None = None) -> list[Path]:
    """Write the four files; return their paths."""
    paths = paths_for(out, raw_out)
    encode = msgspec.json.encode
    total = len(ENTITIES)

    progress("writing csv", 0, total)
    actors: dict[str, str] = {}

    def actor(name: str) -> str:
        safe = actors.get(name)
        if safe is None:
            safe = actors[name] = cell(name)
        return safe

    _write(paths["events"], ["number", "seq", "time", "ts", "actor", "kind", "summary", "payload", "prev_hash", "hash"], (
        [number, e.seq, iso(e.ts), e.ts, actor(e.actor), cell(e.kind), cell(summary(e)),
         payload_cell(e, encode), cell(e.prev_hash), cell(e.hash)]
        for number, e in enumerate(record.events, start=1)
    ))
    progress("writing csv", 1, total)

    sent: dict[int, tuple[float, str]] = {}
    for d in record.drafts:
        if d.kind == "reply" and d.status == "sent" and d.comment_id is not None:
            if d.comment_id not in sent or d.updated_at < sent[d.comment_id][0]:
                sent[d.comment_id] = (d.updated_at, d.author)
    authors = {c.id: c.author for c in record.comments}
    _write(paths["comments"], [
        "id", "received_at", "source", "external_id", "author", "lang", "text", "status", "holder", "tags",
        "priority", "negativity", "bot_score", "likes", "shares", "replies", "author_followers", "author_verified",
        "posted_at", "url", "first_reply_at", "response_s",
    ], (
        [c.id, iso(c.received_at), cell(c.source), cell(c.external_id), cell(c.author), cell(c.lang), cell(c.text),
         cell(c.status), cell(c.holder) if c.holder else "", cell(",".join(c.tags)) if c.tags else "", c.priority,
         c.negativity, c.bot_score, c.likes, c.shares, c.replies, c.author_followers, int(c.author_verified),
         iso(c.posted_at), cell(c.url) if c.url else "", iso(sent[c.id][0]) if c.id in sent else "",
         round(sent[c.id][0] - c.since, 3) if c.id in sent else None]
        for c in record.comments
    ))
    progress("writing csv", 2, total)

    received = {c.id: c.since for c in record.comments}  # response times count from posting
    _write(paths["replies"], [
        "id", "kind", "comment_id", "comment_author", "last_editor", "status", "version", "created_at", "updated_at",
        "sent_at", "response_s", "approvals", "checklist_failing", "override_reason", "body",
    ], (
        [d.id, cell(d.kind), d.comment_id, cell(authors.get(d.comment_id, "")) if d.comment_id is not None else "",
         cell(d.author), cell(d.status), d.version, iso(d.created_at), iso(d.updated_at),
         iso(d.updated_at) if d.status == "sent" else "",
         round(d.updated_at - received[d.comment_id], 3) if d.status == "sent" and d.comment_id in received else None,
         cell(",".join(d.approvals)), cell(",".join(k for k, ok in sorted(d.checklist.items()) if not ok)),
         cell(d.override_reason), cell(d.body)]
        for d in record.drafts
    ))
    progress("writing csv", 3, total)

    _write(paths["decisions"], [
        "id", "title", "rationale", "proposer", "status", "proposed_at", "decided_at", "decided_by", "latency_s",
        "approvals", "rejections", "present", "supersedes", "owner_decides",
    ], (
        [d.id, cell(d.title), cell(d.rationale), cell(d.proposer), cell(d.status), iso(d.proposed_at), iso(d.decided_at),
         cell(d.decided_by or ""), round(d.latency_s, 3) if d.latency_s is not None else None,
         cell(",".join(d.approvals)), cell(",".join(d.rejections)), cell(",".join(d.present)), d.supersedes,
         d.owner_decides]
        for d in metrics.decisions
    ))
    progress("writing csv", 4, total)
    return [paths[name] for name in ENTITIES]
