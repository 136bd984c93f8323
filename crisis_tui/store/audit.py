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
import operator
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from crisis_tui import events as ev
from crisis_tui.eventlog import GENESIS, ChainBreak, chain_hash
from crisis_tui.log_head import Head, head_of
from crisis_tui.model import NEGATIVE_AT
from crisis_tui.store.connection import file_uri, immutable_uri, wants_immutable, with_floor_sync
from crisis_tui.store.projector import (
    COMMENT_COLUMNS,
    INSERT_COMMENT,
    MINUTE_SQL,
    arrived_row,
    project,
    project_body,
)
from crisis_tui.store.schema import MIGRATIONS

#: Projection table -> its key within an incident. The incidents table is keyed by the incident id itself.
TABLES: dict[str, tuple[str, ...]] = {
    "incidents": ("id",),
    "comments": ("id",),
    "drafts": ("id",),
    "decisions": ("id",),
    "notes": ("id",),
    "presence": ("name",),
    "notices": ("about_seq",),
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
    with_floor_sync(db)
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
#: Stored event rows (and the file's comment rows beside them) fetched at a time.
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
    """The log replayed into the connection's main tables, but for the comments it only ever changed
    by arriving, which are compared with the file's rows as they come.

    Every table but comments is replayed whole (they are small). An arriving comment's row is
    built as the replay would insert it and compared, in Python, with the file's row of its id,
    read by a cursor over the file's comments in id order beside the log (a merge: ids are given
    in arrival order). A row that differs waits in `pending`, since a later event may still
    change it. An event that changes a comment brings its row into the replay (the replay's own
    row when it differed, else the file's, which was equal to it), and those comments (`kept`) are
    compared in SQL at the end. So the replay holds the comments the log changes, never the
    whole incident.
    """

    def __init__(self, db: sqlite3.Connection, incident_id: str, stored: str) -> None:
        self.db = db
        self.incident_id = incident_id
        self.stored = stored
        self.columns = _columns(db, "comments")
        self.picked = ", ".join(self.columns)
        self.id_at = self.columns.index("id")
        self.problems: list[Problem] = []
        #: Every id up to this one has been compared (or was never there).
        self.merged = 0
        #: id -> (the file's row, the replay's row), either None, for rows that differed when compared.
        self.pending: dict[int, tuple[Row | None, Row | None]] = {}
        self.kept: set[int] = set()
        db.execute("CREATE TEMP TABLE audit_kept (id INTEGER PRIMARY KEY)")
        layout = self._row_layout()
        #: The arrived_row's values, then the table's defaults: a replayed row is picked from these.
        self._defaults = tuple(default for at, default in layout if at < 0)
        extra = iter(range(len(COMMENT_COLUMNS), len(COMMENT_COLUMNS) + len(self._defaults)))
        positions = [at if at >= 0 else next(extra) for at, _ in layout]
        self._pick: Callable[[tuple[Any, ...]], Row] | None = (
            None if positions == list(range(len(positions))) else _picker(positions))
        self._file: sqlite3.Cursor | None = None
        self._file_rows: list[Row] = []
        self._next = 0

    def _row_layout(self) -> list[tuple[int, Any]]:
        """Per column of the table: (where it is in `arrived_row`, or -1 and the value the table
        gives it by default), found by inserting one row and reading it back."""
        sample = ev.ArrivedComment(id=-1, source="x", external_id="x", author="x", text="x", received_at=0.0)
        self.db.execute("SAVEPOINT layout")
        try:
            self.db.execute(INSERT_COMMENT, arrived_row("\x00layout", sample))
            back = self.db.execute(f"SELECT {self.picked} FROM main.comments WHERE incident_id = ?",
                                   ("\x00layout",)).fetchone()
        finally:
            self.db.execute("ROLLBACK TO layout")
            self.db.execute("RELEASE layout")
        where = {name: n for n, name in enumerate(COMMENT_COLUMNS)}
        return [(where.get(name, -1), None if name in where else back[n]) for n, name in enumerate(self.columns)]

    def _replayed(self, params: tuple[Any, ...]) -> Row:
        """The row the replay's insert of `params` would leave (in the table's column order)."""
        values = params + self._defaults
        return values if self._pick is None else self._pick(values)

    # -- the file's comments, in id order
    def _file_row(self) -> Row | None:
        if self._next >= len(self._file_rows):
            if self._file is None:
                self._file = self.db.execute(
                    f"SELECT {self.picked} FROM {self.stored}.comments WHERE incident_id = ? ORDER BY id",
                    (self.incident_id,))
            self._file_rows, self._next = self._file.fetchmany(FETCH), 0
            if not self._file_rows:
                return None
        return self._file_rows[self._next]

    def _merge_to(self, comment_id: int | None) -> Row | None:
        """Pass the file's rows before `comment_id` (None: all): those no arrival made wait in
        `pending`; the file's row of `comment_id` itself, if it has one."""
        while (row := self._file_row()) is not None:
            at = row[self.id_at]
            if comment_id is not None and isinstance(at, int) and at >= comment_id:
                if at == comment_id:
                    self._next += 1
                    return row
                return None
            self._next += 1
            if at not in self.kept:
                self.pending[at] = (row, None)
        return None

    # -- the comments
    def ingest(self, row: Row, body: ev.CommentIngested) -> None:
        comment_id = body.comment.id
        if comment_id <= self.merged or comment_id in self.kept:
            # an id given twice, or out of order: the replay's insert meets it, as a full replay does
            self.bring_back(comment_id)
            self.execute(row, project_body(self.incident_id, row[2], row[3], body))
            return
        replayed = self._replayed(arrived_row(self.incident_id, body.comment))
        mine = self._merge_to(comment_id)
        self.merged = comment_id
        if mine != replayed:
            self.pending[comment_id] = (mine, replayed)

    def bring_back(self, comment_id: int) -> None:
        """A comment a later event changes: into the replay if it was compared, and compared at the end."""
        if comment_id in self.kept:
            return
        self.kept.add(comment_id)
        self.db.execute("INSERT INTO temp.audit_kept (id) VALUES (?)", (comment_id,))
        if comment_id > self.merged:
            return
        mine, theirs = self.pending.pop(comment_id, (None, None)) if comment_id in self.pending else (False, None)
        if theirs is not None:
            self.db.execute(f"INSERT INTO main.comments ({self.picked}) VALUES ({', '.join('?' for _ in theirs)})",
                            theirs)
        elif mine is False:  # it matched the file's row (or neither had one): that row is the replay's
            self.db.execute(f"INSERT INTO main.comments ({self.picked}) SELECT {self.picked} FROM "
                            f"{self.stored}.comments WHERE incident_id = ? AND id = ?", (self.incident_id, comment_id))

    def finish(self) -> tuple[list[Row], list[Row]]:
        """The comments rows only in the file and only in the replay, over the whole incident."""
        self._merge_to(None)
        picked = self.picked
        # the comments the log changed, as the replay leaves them
        where = "WHERE incident_id = ?1 AND id IN (SELECT id FROM temp.audit_kept)"
        mine = self.db.execute(f"SELECT {picked} FROM {self.stored}.comments {where} "
                               f"EXCEPT SELECT {picked} FROM main.comments {where}", (self.incident_id,)).fetchall()
        theirs = self.db.execute(f"SELECT {picked} FROM main.comments {where} "
                                 f"EXCEPT SELECT {picked} FROM {self.stored}.comments {where}",
                                 (self.incident_id,)).fetchall()
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
        for sql, params in statements:
            if sql.startswith("UPDATE comments") and isinstance(params[-1], int):
                self.bring_back(params[-1])
            elif sql.startswith("INSERT INTO comments") and isinstance(params[0], int):
                self.bring_back(params[0])  # an arrival the slow way: replayed, compared at the end
        self.execute(row, statements)

    def execute(self, row: Row, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
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


def _picker(positions: list[int]) -> Callable[[tuple[Any, ...]], Row]:
    get = operator.itemgetter(*positions)
    return lambda values: tuple(get(values)) if len(positions) > 1 else (get(values),)


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
        with_floor_sync(db)
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
    report.differences = ordered + counted(db, incident_id, "stored")
    if thread is not None:
        thread.join()
        report.damaged = (beside[0] if beside else []) + report.damaged
    return report


def counted(db: sqlite3.Connection, incident_id: str, stored: str) -> list[Problem]:
    """The kept counts (comment_counts, what the header and the wallboard show) against a count of
    the file's comments by status: no event makes that table, so no replay checks it; a count
    edited by hand, or one a write forgot to move, is named here."""
    try:
        kept = dict(db.execute(f"SELECT status, n FROM {stored}.comment_counts WHERE incident_id = ?",
                               (incident_id,)).fetchall())
        real = dict(db.execute(f"SELECT status, count(*) FROM {stored}.comments WHERE incident_id = ? GROUP BY status",
                               (incident_id,)).fetchall())
    except sqlite3.DatabaseError as exc:
        return [Problem(where="table comment_counts", what=f"cannot be read ({exc})")]
    problems = [Problem(where=f"table comment_counts, status {_shown(status)}",
                        what=f"counts {kept.get(status, 0)} comments, the file holds {real.get(status, 0)}")
                for status in sorted(set(kept) | set(real), key=str) if kept.get(status, 0) != real.get(status, 0)]
    return problems + counted_minutes(db, incident_id, stored)


def counted_minutes(db: sqlite3.Connection, incident_id: str, stored: str) -> list[Problem]:
    """arrival_minutes (what the wallboard starts from) against the file's comments counted by minute of
    posting: like comment_counts, no event makes it, so no replay checks it."""
    try:
        kept = {int(m): (n, neg) for m, n, neg in db.execute(
            f"SELECT minute, n, negative FROM {stored}.arrival_minutes WHERE incident_id = ?", (incident_id,))}
        real = {int(m): (n, neg) for m, n, neg in db.execute(
            f"SELECT minute, count(*), sum(negative) FROM (SELECT {MINUTE_SQL} AS minute, "
            f"CASE WHEN negativity >= {NEGATIVE_AT!r} THEN 1 ELSE 0 END AS negative FROM {stored}.comments "
            f"INDEXED BY comments_waiting WHERE incident_id = ?) AS posted GROUP BY minute", (incident_id,))}
    except sqlite3.DatabaseError as exc:
        return [Problem(where="table arrival_minutes", what=f"cannot be read ({exc})")]
    return [Problem(where=f"table arrival_minutes, minute {minute}",
                    what=(f"counts {kept.get(minute, (0, 0))[0]} comments ({kept.get(minute, (0, 0))[1]} negative), "
                          f"the file holds {real.get(minute, (0, 0))[0]} ({real.get(minute, (0, 0))[1]} negative)"))
            for minute in sorted(set(kept) | set(real)) if kept.get(minute, (0, 0)) != real.get(minute, (0, 0))]


def audit_path(path: Path, incident_id: str, at: int | None = None) -> AuditReport:
    """Audit one incident of the file at `path`: read-only, in one read transaction, with the
    replay in memory beside it."""
    file = str(path)
    db = sqlite3.connect("file::memory:", uri=True, isolation_level=None)  # uri: the ATTACH below is one
    with_floor_sync(db)
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
