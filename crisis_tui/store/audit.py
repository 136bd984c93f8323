"""The audit behind `crisis-tui verify`: is this file's record of an incident the log's?

The hash chain alone proves only that the events left agree with each other: a
log cut at its tail, or emptied, still chains. So the audit also replays the
whole log from nothing into a fresh in-memory database (the same schema, the
same `project()` as the live store) and compares every projection table with
the replay, row by row and column by column; runs SQLite's own integrity check
on the file; and names any event whose stored payload is not the bytes that
were hashed (TEXT instead of BLOB, not JSON, not a JSON object, or a shape its
kind cannot replay) instead of failing on it.

It attaches the file read-only to its own in-memory connection (which holds
the replay) and reads it in one read transaction, so it sees one committed
moment even while a room writes, and compares in SQL. The functions below are
plain sqlite3 (no Textual, no event loop); `audit_file` runs them on a worker
thread.
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
from crisis_tui.store.connection import file_uri, immutable_uri, wants_immutable
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
#: JSON objects compared as objects: rows written before the extra keys were sorted kept the comment's own
#: key order, which the log (sorted) does not record; the same keys and values are the same record.
AS_OBJECTS: dict[str, frozenset[str]] = {"comments": frozenset({"extra"})}


def _same_object(have: object, want: object) -> bool:
    if not (isinstance(have, str) and isinstance(want, str)):
        return False
    try:
        return bool(msgspec.json.decode(have) == msgspec.json.decode(want))
    except msgspec.DecodeError:
        return False
_SQL_TYPES = {bytes: "BLOB", str: "TEXT", int: "INTEGER", float: "REAL", type(None): "NULL"}
_decode = msgspec.json.Decoder().decode
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


def read_events(db: sqlite3.Connection, incident_id: str, schema: str = "main") -> list[Row]:
    """The incident's stored event rows, as stored (nothing decoded), in seq order."""
    return db.execute(
        f"SELECT seq, incident_id, ts, actor, kind, payload, prev_hash, hash FROM {schema}.events "
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
def with_fresh_schema(db: sqlite3.Connection) -> None:
    """Give the connection's main database (in memory) the incident file's schema, empty."""
    for migration in MIGRATIONS:
        db.executescript(migration)


def replay(db: sqlite3.Connection, rows: Sequence[Row], payloads: Sequence[dict[str, Any] | None]) -> list[Problem]:
    """Replay the log from nothing into `db`'s main tables through `project()`; an event its
    kind cannot apply is named and skipped (the rest still replays)."""
    problems: list[Problem] = []
    for row, payload in zip(rows, payloads, strict=True):
        if payload is None:
            continue
        seq, inc, ts, actor, kind = row[:5]
        try:
            statements = project(inc, ts, actor, kind, payload)
            several = len(statements) > 1
            if several:  # all of the event or nothing of it
                db.execute("SAVEPOINT event")
            try:
                for sql, params in statements:
                    db.execute(sql, params)
            except sqlite3.Error:
                if several:
                    db.execute("ROLLBACK TO event")
                raise
            finally:
                if several:
                    db.execute("RELEASE event")
        except (KeyError, TypeError, ValueError, AttributeError, sqlite3.Error) as exc:
            what = f"{exc.__class__.__name__}: {exc}" if not isinstance(exc, KeyError) else f"it has no {exc}"
            problems.append(Problem(where=f"event {seq}", what=f"its {kind} payload does not replay ({what})"))
    return problems


# ------------------------------------------------------------ the compare
def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in db.execute(f"PRAGMA main.table_info({table})")]


def _only_in(db: sqlite3.Connection, schema: str, other: str, table: str, columns: list[str],
             incident_id: str) -> list[Row]:
    """Rows of `schema`.table (this incident's) that `other` has not, column for column (in SQL:
    at 100k comments, fetching both tables into Python cost ten times more)."""
    where = "id" if table == "incidents" else "incident_id"
    picked = ", ".join(columns)
    return db.execute(
        f"SELECT {picked} FROM {schema}.{table} WHERE {where} = ?1 "
        f"EXCEPT SELECT {picked} FROM {other}.{table} WHERE {where} = ?1",
        (incident_id,),
    ).fetchall()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def compare_table(table: str, columns: list[str], stored: Sequence[Row], replayed: Sequence[Row]) -> list[Problem]:
    """Every row and column where the file's rows and the replay's rows of `table` disagree."""
    key_at = [columns.index(k) for k in TABLES[table]]
    forward = MOVED_FORWARD.get(table, frozenset())
    objects = AS_OBJECTS.get(table, frozenset())

    def keyed(rows: Sequence[Row]) -> dict[tuple[Any, ...], Row]:
        return {tuple(r[i] for i in key_at): r for r in rows}

    mine, theirs = keyed(stored), keyed(replayed)
    differing = [k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k)]
    try:
        differing.sort()
    except TypeError:  # a key column edited to another type
        differing.sort(key=repr)
    problems: list[Problem] = []
    for key in differing:
        name = f"table {table}, row {', '.join(str(k) for k in key)}"
        have_row, want_row = mine.get(key), theirs.get(key)
        if want_row is None:
            problems.append(Problem(where=name, what="is in the file, but no event of the log makes it"))
            continue
        if have_row is None:
            problems.append(Problem(where=name, what="is missing from the file, but the log makes it"))
            continue
        for column, have, want in zip(columns, have_row, want_row, strict=True):
            if have == want:
                continue
            if column in forward and isinstance(have, float) and isinstance(want, float) and have >= want:
                continue
            if column in objects and _same_object(have, want):
                continue
            problems.append(Problem(where=f"{name}, column {column}",
                                    what=f"is {_shown(have)} in the file, the log says {_shown(want)}"))
    return problems


def compare(db: sqlite3.Connection, incident_id: str, stored: str = "stored") -> list[Problem]:
    """Every projection table of the file (attached as `stored`) against the replay (main)."""
    problems: list[Problem] = []
    for table in TABLES:
        columns = _columns(db, table)
        try:
            mine = _only_in(db, stored, "main", table, columns, incident_id)
            theirs = _only_in(db, "main", stored, table, columns, incident_id)
        except sqlite3.DatabaseError as exc:
            problems.append(Problem(where=f"table {table}", what=f"cannot be read ({exc})"))
            continue
        problems += compare_table(table, columns, mine, theirs)
    return problems


# --------------------------------------------------------------- together
def audit_attached(db: sqlite3.Connection, incident_id: str, file: str, at: int | None = None) -> AuditReport:
    """The whole audit on a connection whose main database is an empty copy of the schema and
    which has the file attached as `stored` (see `audit_path`)."""
    report = AuditReport(incident_id=incident_id, file=file)
    report.damaged = integrity(db, file, "stored")
    try:
        rows = read_events(db, incident_id, "stored")
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
    report.broken += replay(db, rows, payloads)
    report.differences = compare(db, incident_id)
    return report


def audit_path(path: Path, incident_id: str, at: int | None = None) -> AuditReport:
    """Audit one incident of the file at `path`: read-only, in one read transaction, with the
    replay in memory beside it."""
    file = str(path)
    db = sqlite3.connect("file::memory:", uri=True, isolation_level=None)  # uri: the ATTACH below is one
    try:
        with_fresh_schema(db)
        db.execute("PRAGMA busy_timeout = 10000")
        _attach(db, path)
        db.execute("BEGIN")
        try:
            return audit_attached(db, incident_id, file, at)
        finally:
            db.execute("ROLLBACK")  # the replay is thrown away; the file was only read
    except sqlite3.DatabaseError as exc:
        return AuditReport(incident_id=incident_id, file=file, damaged=[f"{file} is damaged: {exc}"])
    finally:
        db.close()


def _attach(db: sqlite3.Connection, path: Path) -> None:
    """The file as schema `stored`, read-only (immutable on a read-only folder or medium)."""
    try:
        db.execute("ATTACH DATABASE ? AS stored", (file_uri(path, mode="ro"),))
        db.execute("SELECT count(*) FROM stored.sqlite_master").fetchall()
    except sqlite3.OperationalError as exc:
        if not wants_immutable(exc, path):
            raise
        if any(row[1] == "stored" for row in db.execute("PRAGMA database_list")):
            db.execute("DETACH DATABASE stored")
        db.execute("ATTACH DATABASE ? AS stored", (immutable_uri(path),))


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
