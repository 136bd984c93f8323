"""The audit behind `crisis-tui verify`: is this file's record of an incident the log's?

The hash chain alone proves only that the events left agree with each other: a
log cut at its tail, or emptied, still chains. So the audit also replays the
whole log from nothing into a fresh in-memory database (the same schema, the
same `project()` as the live store) and compares every projection table with
the replay, row by row and column by column; runs SQLite's own integrity check
on the file; and names any event whose stored payload is not the bytes that
were hashed (TEXT instead of BLOB, not JSON, not a JSON object, or a shape its
kind cannot replay) instead of failing on it.

It reads the file through its own read-only connection in one read
transaction, so it sees one committed moment even while a room writes. The
functions below it are pure over plain sqlite3 connections (no Textual, no
event loop); `audit_file` runs them on a worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from crisis_tui.eventlog import verify_chain
from crisis_tui.log_head import Head, head_of
from crisis_tui.store.projector import project
from crisis_tui.store.schema import MIGRATIONS

#: Projection table -> its key within an incident. The incidents table is keyed by the incident id itself.
TABLES: dict[str, tuple[str, ...]] = {
    "incidents": ("id",),
    "comments": ("id",),
    "drafts": ("id",),
    "decisions": ("id",),
    "notes": ("id",),
    "presence": ("name",),
}
#: Columns something other than an event moves: a heartbeat (no event) only ever moves heartbeat_at
#: forward, so the file's value may be later than the replay's, never earlier.
MOVED_FORWARD: dict[str, frozenset[str]] = {"presence": frozenset({"heartbeat_at"})}
_SQL_TYPES = {bytes: "BLOB", str: "TEXT", int: "INTEGER", float: "REAL", type(None): "NULL"}
_decode = msgspec.json.decode
Row = tuple[Any, ...]


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that is wrong, named where a person can look: `where` is an event, a table row or the file."""

    where: str
    what: str

    def line(self) -> str:
        return f"{self.where}: {self.what}"


class AuditReport(msgspec.Struct, kw_only=True):
    """What verify prints; also the body of the server's audit endpoint."""

    incident_id: str
    file: str
    events: int = 0
    head: Head | None = None
    #: The event numbered as asked (`at`), when the log holds it; for --expect-head.
    at: Head | None = None
    damaged: list[str] = msgspec.field(default_factory=list)
    broken: list[Problem] = msgspec.field(default_factory=list)
    differences: list[Problem] = msgspec.field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not (self.damaged or self.broken or self.differences)


# ----------------------------------------------------------------- the file
def integrity(db: sqlite3.Connection, file: str, schema: str = "main") -> list[str]:
    """SQLite's integrity check of the file: an empty list when it finds nothing wrong."""
    try:
        found = [str(r[0]) for r in db.execute(f"PRAGMA {schema}.integrity_check(20)")]
    except sqlite3.DatabaseError as exc:
        return [f"{file} is damaged: {exc}"]
    if found == ["ok"]:
        return []
    return [f"{file} is damaged: {line}" for line in found]


def read_events(db: sqlite3.Connection, incident_id: str) -> list[Row]:
    """The incident's stored event rows, as stored (nothing decoded), in seq order."""
    return db.execute(
        "SELECT seq, incident_id, ts, actor, kind, payload, prev_hash, hash FROM events "
        "WHERE incident_id = ? ORDER BY seq",
        (incident_id,),
    ).fetchall()


# --------------------------------------------------------------- the events
def _sql_type(value: object) -> str:
    return _SQL_TYPES.get(type(value), type(value).__name__)


def check_event(row: Row) -> tuple[str | None, dict[str, Any] | None]:
    """(what is wrong with this stored row, its payload) — the payload only when it decodes to an object."""
    seq, _inc, ts, actor, kind, payload, prev_hash, digest = row
    for name, value, wanted in (("ts", ts, (float, int)), ("actor", actor, str), ("kind", kind, str),
                                ("prev_hash", prev_hash, str), ("hash", digest, str)):
        if not isinstance(value, wanted):
            return f"its {name} is stored as {_sql_type(value)}", None
    if not isinstance(payload, bytes):
        return f"its payload is stored as {_sql_type(payload)}, not as the BLOB of bytes that were hashed", None
    try:
        data = _decode(payload)
    except msgspec.DecodeError as exc:
        return f"its payload is not JSON ({exc})", None
    if not isinstance(data, dict):
        return f"its payload is a JSON {type(data).__name__}, not an object", None
    return None, data


def chain_rows(rows: Sequence[Row]) -> list[Row]:
    """The rows with every field coerced so the chain check can hash them (a wrong type only
    changes the hash, and is named by `check_event` already)."""
    out: list[Row] = []
    for seq, inc, ts, actor, kind, payload, prev_hash, digest in rows:
        body = payload if isinstance(payload, bytes) else str(payload).encode("utf-8", "surrogatepass")
        out.append((seq, inc, ts if isinstance(ts, (int, float)) else 0.0, str(actor), str(kind), body,
                    str(prev_hash), str(digest)))
    return out


# --------------------------------------------------------------- the replay
def fresh_database() -> sqlite3.Connection:
    """An empty in-memory database with the incident file's schema."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    for migration in MIGRATIONS:
        db.executescript(migration)
    return db


def replay(rows: Sequence[Row], payloads: Sequence[dict[str, Any] | None]) -> tuple[sqlite3.Connection, list[Problem]]:
    """The tables as the log makes them, replayed from nothing through `project()`; an event
    its kind cannot apply is named and skipped (the rest still replays)."""
    db = fresh_database()
    problems: list[Problem] = []
    db.execute("BEGIN")
    for row, payload in zip(rows, payloads, strict=True):
        if payload is None:
            continue
        seq, inc, ts, actor, kind = row[:5]
        db.execute("SAVEPOINT event")
        try:
            for sql, params in project(inc, ts, actor, kind, payload):
                db.execute(sql, params)
        except (KeyError, TypeError, ValueError, AttributeError, sqlite3.Error) as exc:
            db.execute("ROLLBACK TO event")
            what = f"{exc.__class__.__name__}: {exc}" if not isinstance(exc, KeyError) else f"it has no {exc}"
            problems.append(Problem(where=f"event {seq}", what=f"its {kind} payload does not replay ({what})"))
        db.execute("RELEASE event")
    db.execute("COMMIT")
    return db, problems


# ------------------------------------------------------------ the compare
def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in db.execute(f"PRAGMA main.table_info({table})")]


def _rows(db: sqlite3.Connection, schema: str, table: str, columns: list[str], incident_id: str) -> list[Row]:
    where = "id" if table == "incidents" else "incident_id"
    return db.execute(f"SELECT {', '.join(columns)} FROM {schema}.{table} WHERE {where} = ?", (incident_id,)).fetchall()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def compare_table(table: str, columns: list[str], stored: Sequence[Row], replayed: Sequence[Row]) -> list[Problem]:
    """Every row and column where the file's table and the replay disagree."""
    key_at = [columns.index(k) for k in TABLES[table]]
    forward = MOVED_FORWARD.get(table, frozenset())

    def keyed(rows: Sequence[Row]) -> dict[tuple[Any, ...], Row]:
        return {tuple(r[i] for i in key_at): r for r in rows}

    mine, theirs = keyed(stored), keyed(replayed)
    problems: list[Problem] = []
    keys = mine.keys() | theirs.keys()
    try:
        ordered = sorted(keys)
    except TypeError:  # a key column edited to another type
        ordered = sorted(keys, key=repr)
    for key in ordered:
        name = f"table {table}, row {', '.join(str(k) for k in key)}"
        if key not in theirs:
            problems.append(Problem(where=name, what="is in the file, but no event of the log makes it"))
            continue
        if key not in mine:
            problems.append(Problem(where=name, what="is missing from the file, but the log makes it"))
            continue
        for column, have, want in zip(columns, mine[key], theirs[key], strict=True):
            if have == want:
                continue
            if column in forward and isinstance(have, float) and isinstance(want, float) and have >= want:
                continue
            problems.append(Problem(where=f"{name}, column {column}",
                                    what=f"is {_shown(have)} in the file, the log says {_shown(want)}"))
    return problems


def compare(db: sqlite3.Connection, replayed: sqlite3.Connection, incident_id: str, schema: str = "main") -> list[Problem]:
    """Every projection table of the file (`db`, in `schema`) against the replay."""
    problems: list[Problem] = []
    for table in TABLES:
        columns = _columns(replayed, table)
        try:
            stored = _rows(db, schema, table, columns, incident_id)
        except sqlite3.DatabaseError as exc:
            problems.append(Problem(where=f"table {table}", what=f"cannot be read ({exc})"))
            continue
        problems += compare_table(table, columns, stored, _rows(replayed, "main", table, columns, incident_id))
    return problems


# --------------------------------------------------------------- together
def audit_rows(db: sqlite3.Connection, incident_id: str, file: str, at: int | None = None) -> AuditReport:
    """The whole audit over an open connection to the file (see the module docstring)."""
    report = AuditReport(incident_id=incident_id, file=file)
    report.damaged = integrity(db, file)
    try:
        rows = read_events(db, incident_id)
    except sqlite3.DatabaseError as exc:
        report.damaged.append(f"{file} is damaged: its events cannot be read ({exc})")
        return report
    report.events = len(rows)
    hashes = [str(r[7]) for r in rows]
    report.head = head_of(hashes)
    if report.head.number:
        report.head = Head(number=report.head.number, hash=report.head.hash, seq=int(rows[-1][0]))
    if at is not None and 0 < at <= len(rows):
        report.at = Head(number=at, hash=hashes[at - 1], seq=int(rows[at - 1][0]))
    payloads: list[dict[str, Any] | None] = []
    for row in rows:
        wrong, payload = check_event(row)
        if wrong is not None:
            report.broken.append(Problem(where=f"event {row[0]}", what=wrong))
        payloads.append(payload)
    checked, chain_break = verify_chain(chain_rows(rows))
    if chain_break is not None:
        report.broken.append(Problem(
            where=f"chain BROKEN at event {chain_break.seq}",
            what=f"{chain_break.reason} ({checked} events before it are intact)",
        ))
    replayed, unreplayable = replay(rows, payloads)
    try:
        report.broken += unreplayable
        report.differences = compare(db, replayed, incident_id)
    finally:
        replayed.close()
    return report


def audit_path(path: Path, incident_id: str, at: int | None = None) -> AuditReport:
    """Open `path` read-only and audit one incident in one read transaction."""
    file = str(path)
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        return AuditReport(incident_id=incident_id, file=file, damaged=[f"{file} cannot be opened: {exc}"])
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        db.execute("BEGIN")
        return audit_rows(db, incident_id, file, at)
    except sqlite3.DatabaseError as exc:
        return AuditReport(incident_id=incident_id, file=file, damaged=[f"{file} is damaged: {exc}"])
    finally:
        db.close()


async def audit_file(path: Path, incident_id: str, at: int | None = None) -> AuditReport:
    """`audit_path` on a worker thread (a 100k-event incident takes a few seconds)."""
    return await asyncio.to_thread(audit_path, path, incident_id, at)


def describe(report: AuditReport, limit: int = 20) -> list[str]:
    """The report as verify prints it, one finding a line (at most `limit` of each kind)."""
    inc = report.incident_id
    lines: list[str] = []
    for found in (report.damaged, [p.line() for p in report.broken], [p.line() for p in report.differences]):
        lines += [f"{inc}: {line}" for line in found[:limit]]
        if len(found) > limit:
            lines.append(f"{inc}: ... and {len(found) - limit:,} more like these")
    if report.intact:
        lines.append(f"{inc}: {report.events} events, chain intact, every table matches a replay of the log, "
                     f"file intact")
    else:
        findings = len(report.damaged) + len(report.broken) + len(report.differences)
        lines.append(f"{inc}: {report.events} events; the record is NOT the log's ({findings} findings above)")
    return lines
