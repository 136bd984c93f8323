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
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from crisis_tui import events as ev
from crisis_tui.eventlog import GENESIS, ChainBreak, chain_hash
from crisis_tui.log_head import Head, head_of
from crisis_tui.store.connection import file_uri, immutable_uri, wants_immutable
from crisis_tui.store.projector import INSERT_COMMENT, arrived_row, project, project_body
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
_decode = msgspec.json.Decoder().decode
INGESTED = ev.kind_of(ev.CommentIngested)
_INGESTED_DECODER = msgspec.json.Decoder(ev.CommentIngested)
#: What `_Replay.feed` is given for a payload that decoded (its body is what it reads).
_NOT_NONE: dict[str, Any] = {}
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
            problems.append(Problem(where=f"{name}, column {column}",
                                    what=f"is {_shown(have)} in the file, the log says {_shown(want)}"))
    return problems


def compare(db: sqlite3.Connection, incident_id: str, stored: str = "stored",
            skip: Sequence[str] = ()) -> list[Problem]:
    """Every projection table of the file (attached as `stored`) against the replay (main)."""
    problems: list[Problem] = []
    for table in TABLES:
        if table in skip:
            continue
        columns = _columns(db, table)
        try:
            mine = _only_in(db, stored, "main", table, columns, incident_id)
            theirs = _only_in(db, "main", stored, table, columns, incident_id)
        except sqlite3.DatabaseError as exc:
            problems.append(Problem(where=f"table {table}", what=f"cannot be read ({exc})"))
            continue
        problems += compare_table(table, columns, mine, theirs)
    return problems


# ------------------------------------------------------------ the stream
#: Comments replayed at a time: compared with the file's rows of the same ids, then let go.
BATCH = 20_000
#: Stored event rows fetched at a time.
FETCH = 2000


class _Chain:
    """`verify_chain`, one row at a time (the log is streamed, never held)."""

    def __init__(self) -> None:
        self.expected_prev = GENESIS
        self.checked = 0
        self.broken: ChainBreak | None = None

    def feed(self, row: Row, *, typed: bool = False) -> None:
        """One row in seq order (`typed`: its fields are of the types hashed, no coercion needed)."""
        if self.broken is not None:
            return
        seq, inc, ts, actor, kind, payload, prev_hash, digest = row if typed else chain_rows((row,))[0]
        if prev_hash != self.expected_prev:
            self.broken = ChainBreak(seq=seq, reason="its previous-hash does not match the event before it "
                                                     "(an event was removed or reordered)")
        elif chain_hash(prev_hash, inc, ts, actor, kind, payload) != digest:
            self.broken = ChainBreak(seq=seq, reason="its content does not match its hash (it was altered)")
        else:
            self.expected_prev = digest
            self.checked += 1


class _Replay:
    """The log replayed into the connection's main tables, with the comments let go a batch at a time.

    Every table but comments is replayed whole (they are small). A batch of ingested comments is
    compared with the file's rows of the same ids, in SQL, and deleted from the replay; a row that
    differs waits in `pending`, since a later event may still change it. An event that changes a
    comment already let go brings its row back first (the replay's own row when it differed, else
    the file's, which was equal to it), and that comment is compared at the end (`kept`). So the
    replay holds one batch and the comments the log changes, never the whole incident.
    """

    def __init__(self, db: sqlite3.Connection, incident_id: str, stored: str) -> None:
        self.db = db
        self.incident_id = incident_id
        self.stored = stored
        self.columns = _columns(db, "comments")
        self.problems: list[Problem] = []
        #: Ingest rows not yet inserted (one executemany), and the ids of the batch in the replay.
        self.inserts: list[tuple[Row, tuple[Any, ...]]] = []
        self.batch_low: int | None = None
        self.batch_high: int | None = None
        self.batched = 0
        #: Id ranges already compared and let go, merged.
        self.flushed: list[list[int]] = []
        #: id -> (the file's row, the replay's row), either None, for rows that differed at their batch.
        self.pending: dict[int, tuple[Row | None, Row | None]] = {}
        self.kept: set[int] = set()
        db.execute("CREATE TEMP TABLE audit_kept (id INTEGER PRIMARY KEY)")

    # -- the comments
    def _flushed_has(self, comment_id: int) -> bool:
        if not self.flushed or comment_id > self.flushed[-1][1]:
            return False  # the common case: ids only grow
        return any(low <= comment_id <= high for low, high in self.flushed)

    def _insert_pending(self) -> None:
        """The batch's waiting inserts in one executemany; one that fails (a key given twice) is
        named as a full replay names it, and the rest still go in."""
        waiting, self.inserts = self.inserts, []
        while waiting:
            before = self.db.total_changes
            try:
                self.db.executemany(INSERT_COMMENT, [params for _, params in waiting])
                return
            except sqlite3.Error as exc:
                done = self.db.total_changes - before
                self._refused(waiting[done][0], exc)
                waiting = waiting[done + 1:]

    def ingest(self, row: Row, body: ev.CommentIngested) -> None:
        comment_id = body.comment.id
        if self._flushed_has(comment_id):
            self.bring_back(comment_id)  # an id given twice: the replay's insert meets it, as a full replay does
            self.execute(row, project_body(self.incident_id, row[2], row[3], body))
            return
        self.inserts.append((row, arrived_row(self.incident_id, body.comment)))
        self.batch_low = comment_id if self.batch_low is None else min(self.batch_low, comment_id)
        self.batch_high = comment_id if self.batch_high is None else max(self.batch_high, comment_id)
        self.batched += 1
        if len(self.inserts) >= FETCH:
            self._insert_pending()
        if self.batched >= BATCH:
            self.flush()

    def bring_back(self, comment_id: int) -> None:
        """A comment a later event changes: into the replay again if let go, and compared at the end."""
        if comment_id in self.kept:
            return
        self.kept.add(comment_id)
        self.db.execute("INSERT INTO temp.audit_kept (id) VALUES (?)", (comment_id,))
        if self.batch_low is not None and self.batch_low <= comment_id <= (self.batch_high or 0):
            return  # still in the replay
        if not self._flushed_has(comment_id):
            return
        mine, theirs = self.pending.pop(comment_id, (None, None)) if comment_id in self.pending else (None, None)
        picked = ", ".join(self.columns)
        if theirs is not None:
            self.db.execute(f"INSERT INTO main.comments ({picked}) VALUES ({', '.join('?' for _ in theirs)})", theirs)
        elif mine is None:  # it matched the file's row: that row is the replay's
            self.db.execute(f"INSERT INTO main.comments ({picked}) SELECT {picked} FROM {self.stored}.comments "
                            "WHERE incident_id = ? AND id = ?", (self.incident_id, comment_id))

    def flush(self) -> None:
        """Compare the batch with the file's rows of its ids, keep what differs, let the rest go."""
        self._insert_pending()
        if self.batch_low is None or self.batch_high is None:
            return
        low, high = self.batch_low, self.batch_high
        picked = ", ".join(self.columns)
        where = ("WHERE incident_id = ?1 AND id BETWEEN ?2 AND ?3 AND id NOT IN (SELECT id FROM temp.audit_kept)")
        params = (self.incident_id, low, high)
        mine = self.db.execute(f"SELECT {picked} FROM {self.stored}.comments {where} "
                               f"EXCEPT SELECT {picked} FROM main.comments {where}", params).fetchall()
        theirs = self.db.execute(f"SELECT {picked} FROM main.comments {where} "
                                 f"EXCEPT SELECT {picked} FROM {self.stored}.comments {where}", params).fetchall()
        self._pend(mine, theirs)
        self.db.execute(f"DELETE FROM main.comments {where}", params)
        self.flushed.append([low, high])
        self.flushed.sort()
        merged: list[list[int]] = []
        for span in self.flushed:
            if merged and span[0] <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], span[1])
            else:
                merged.append(span)
        self.flushed = merged
        self.batch_low = self.batch_high = None
        self.batched = 0

    def _pend(self, mine: list[Row], theirs: list[Row]) -> None:
        at = self.columns.index("id")
        for r in mine:
            self.pending[r[at]] = (r, self.pending.get(r[at], (None, None))[1])
        for r in theirs:
            self.pending[r[at]] = (self.pending.get(r[at], (None, None))[0], r)

    def finish(self) -> tuple[list[Row], list[Row]]:
        """The comments rows only in the file and only in the replay, over the whole incident."""
        self.flush()
        picked = ", ".join(self.columns)
        # the comments the log changed, as the replay leaves them
        where = "WHERE incident_id = ?1 AND id IN (SELECT id FROM temp.audit_kept)"
        mine = self.db.execute(f"SELECT {picked} FROM {self.stored}.comments {where} "
                               f"EXCEPT SELECT {picked} FROM main.comments {where}", (self.incident_id,)).fetchall()
        theirs = self.db.execute(f"SELECT {picked} FROM main.comments {where} "
                                 f"EXCEPT SELECT {picked} FROM {self.stored}.comments {where}",
                                 (self.incident_id,)).fetchall()
        # the file's rows outside every id the log ingested
        gaps: list[tuple[int, int]] = []
        edge = -(1 << 62)
        for low, high in self.flushed:
            gaps.append((edge, low - 1))
            edge = high + 1
        gaps.append((edge, 1 << 62))
        outside = ("WHERE incident_id = ?1 AND id BETWEEN ?2 AND ?3 AND id NOT IN (SELECT id FROM temp.audit_kept)")
        for low, high in gaps:
            mine += self.db.execute(
                f"SELECT {picked} FROM {self.stored}.comments {outside} EXCEPT SELECT {picked} FROM main.comments "
                f"{outside}", (self.incident_id, low, high)).fetchall()
        # rows the replay made outside the batches (an ingest the slow way), as the file has them or not
        left = "WHERE incident_id = ?1 AND id NOT IN (SELECT id FROM temp.audit_kept)"
        theirs += self.db.execute(f"SELECT {picked} FROM main.comments {left} EXCEPT SELECT {picked} FROM "
                                  f"{self.stored}.comments {left}", (self.incident_id,)).fetchall()
        for r, replayed in self.pending.values():
            if r is not None:
                mine.append(r)
            if replayed is not None:
                theirs.append(replayed)
        return mine, theirs

    # -- every event
    def feed(self, row: Row, payload: dict[str, Any] | None, body: ev.EventBody | None) -> None:
        """Replay one event (`payload` None: its stored bytes are no JSON object, named already)."""
        if payload is None:
            return
        seq, inc, ts, actor, kind = row[:5]
        if isinstance(body, ev.CommentIngested) and inc == self.incident_id:
            self.ingest(row, body)
            return
        try:
            statements = project(inc, ts, actor, kind, payload)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self._refused(row, exc)
            return
        touched = [params[-1] for sql, params in statements if sql.startswith("UPDATE comments")]
        if touched:
            self._insert_pending()
            for comment_id in touched:
                if isinstance(comment_id, int):
                    self.bring_back(comment_id)
        self.execute(row, statements)

    def execute(self, row: Row, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        if statements and statements[0][0].startswith("INSERT INTO comments"):
            self._insert_pending()
        several = len(statements) > 1
        try:
            if several:  # all of the event or nothing of it
                self.db.execute("SAVEPOINT event")
            try:
                for sql, params in statements:
                    self.db.execute(sql, params)
            except sqlite3.Error:
                if several:
                    self.db.execute("ROLLBACK TO event")
                raise
            finally:
                if several:
                    self.db.execute("RELEASE event")
        except sqlite3.Error as exc:
            self._refused(row, exc)

    def _refused(self, row: Row, exc: Exception) -> None:
        what = f"{exc.__class__.__name__}: {exc}" if not isinstance(exc, KeyError) else f"it has no {exc}"
        self.problems.append(Problem(where=f"event {row[0]}", what=f"its {row[4]} payload does not replay ({what})"))


def _fast_ingest(row: Row) -> tuple[dict[str, Any], ev.CommentIngested] | None:
    """A well-formed comment.ingested row decoded once, straight to its body (the common case);
    None sends the row the slow way, which names whatever is wrong with it."""
    _seq, _inc, ts, actor, kind, payload, prev_hash, digest = row
    if kind != INGESTED or not isinstance(payload, bytes) or not isinstance(ts, (float, int)) \
            or not isinstance(actor, str) or not isinstance(prev_hash, str) or not isinstance(digest, str):
        return None
    try:
        body = _INGESTED_DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return _NOT_NONE, body


# --------------------------------------------------------------- together
def _integrity_beside(path: Path | None, file: str) -> tuple[threading.Thread | None, list[list[str]]]:
    """SQLite's integrity check of the file on its own connection and thread, while the log streams
    (SQLite lets the GIL go while it checks: on a machine with a core free it costs no time)."""
    found: list[list[str]] = []
    if path is None:
        return None, found

    def check() -> None:
        db = sqlite3.connect("file::memory:", uri=True, isolation_level=None)
        try:
            _attach(db, path)
            found.append(integrity(db, file, "stored"))
        except sqlite3.DatabaseError as exc:
            found.append([f"{file} is damaged: {exc}"])
        finally:
            db.close()

    thread = threading.Thread(target=check, name="audit-integrity", daemon=True)
    thread.start()
    return thread, found


def audit_attached(db: sqlite3.Connection, incident_id: str, file: str, at: int | None = None,
                   path: Path | None = None) -> AuditReport:
    """The whole audit on a connection whose main database is an empty copy of the schema and
    which has the file attached as `stored` (see `audit_path`). The log is streamed: the events
    are checked, chained and replayed as they are read, in bounded memory (`_Replay`).
    With `path`, the integrity check runs on its own connection beside the stream."""
    report = AuditReport(incident_id=incident_id, file=file)
    thread, beside = _integrity_beside(path, file)
    if thread is None:
        report.damaged = integrity(db, file, "stored")
    chain = _Chain()
    replayed = _Replay(db, incident_id, "stored")
    last: Row | None = None
    try:
        cursor = db.execute(
            "SELECT seq, incident_id, ts, actor, kind, payload, prev_hash, hash FROM stored.events "
            "WHERE incident_id = ? ORDER BY seq", (incident_id,))
        while rows := cursor.fetchmany(FETCH):
            for row in rows:
                report.events += 1
                last = row
                if at is not None and report.events == at:
                    report.at = Head(number=at, hash=str(row[7]), seq=int(row[0]))
                fast = _fast_ingest(row)
                if fast is not None:
                    chain.feed(row, typed=True)
                    replayed.feed(row, fast[0], fast[1])
                    continue
                wrong, payload = check_event(row)
                if wrong is not None:
                    report.broken.append(Problem(where=f"event {row[0]}", what=wrong))
                chain.feed(row)
                replayed.feed(row, payload, None)
    except sqlite3.DatabaseError as exc:
        if thread is not None:
            thread.join()
            report.damaged = beside[0] if beside else []
        report.damaged.append(f"{file} is damaged: its events cannot be read ({exc})")
        return report
    report.head = head_of([str(last[7])] if last is not None else [])
    if last is not None:
        report.head = Head(number=report.events, hash=str(last[7]), seq=int(last[0]))
    if chain.broken is not None:
        report.broken.append(Problem(
            where=f"chain BROKEN at event {chain.broken.seq}",
            what=f"{chain.broken.reason} ({chain.checked} events before it are intact)",
        ))
    try:
        mine, theirs = replayed.finish()
        unreadable: list[Problem] = []
    except sqlite3.DatabaseError as exc:
        mine, theirs = [], []
        unreadable = [Problem(where="table comments", what=f"cannot be read ({exc})")]
    report.broken += replayed.problems
    report.differences = compare(db, incident_id, skip=("comments",))
    columns = _columns(db, "comments")
    ordered: list[Problem] = []
    for table in TABLES:
        if table == "comments":
            ordered += unreadable + compare_table("comments", columns, mine, theirs)
        else:
            ordered += [p for p in report.differences if p.where.startswith(f"table {table}")]
    report.differences = ordered
    if thread is not None:
        thread.join()
        report.damaged = (beside[0] if beside else []) + report.damaged
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
            return audit_attached(db, incident_id, file, at, path)
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
