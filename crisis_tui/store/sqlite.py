"""SqliteStore: the incident log in one SQLite file, shared by operators on one host.

WAL mode lets readers go on while one writer commits; every command runs in a
BEGIN IMMEDIATE transaction (the write lock is taken up front, so two processes
never deadlock upgrading a read) with a busy timeout, checks its guard, appends
its events with the hash chain and applies their projections before COMMIT.
synchronous=NORMAL in WAL mode keeps every committed transaction through a
kill -9 of the process (only a power cut may lose the newest ones).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec

from crisis_tui import events as ev
from crisis_tui import file_faults
from crisis_tui import playbook as playbook_mod
from crisis_tui.comment_shape import storable_comments
from crisis_tui.errors import (
    CrisisError,
    Forbidden,
    InvalidInput,
    NotFound,
    PublishFailed,
    StorageFault,
    StoreUnavailable,
)
from crisis_tui.eventlog import GENESIS, chain_hash, encode_payload, verify_chain
from crisis_tui.log_head import Head
from crisis_tui.model import (
    BulkResult,
    BulkSkip,
    Comment,
    Decision,
    Draft,
    Event,
    Incident,
    IngestResult,
    NewComment,
    Note,
    Presence,
)
from crisis_tui.playbook import Playbook
from crisis_tui.publish import deliver
from crisis_tui.publish.reply import Outgoing, Reply
from crisis_tui.store import guards
from crisis_tui.store.arrivals import INSERT_ARRIVAL, Arrivals, arrival_rows, unseen, wanted_keys
from crisis_tui.store.connection import closed_on_failure, connect
from crisis_tui.store.guards import Append
from crisis_tui.store.projector import (
    COMMENT_COLUMNS,
    COUNT_ARRIVALS,
    COUNT_MINUTES,
    INSERT_COMMENT,
    minute_rows,
    project,
)
from crisis_tui.store.queries import ESCALATION_EVENTS, Reads, escalation_events, escalation_params
from crisis_tui.store.rows import CommentState
from crisis_tui.store.schema import MIGRATIONS, SCHEMA_VERSION
from crisis_tui.store.waker import Waker
from crisis_tui.tone import ToneChecker

#: Where INSERT_COMMENT's row holds what a comment's minute is counted from (COUNT_MINUTES).
_SINCE, _NEGATIVITY = COMMENT_COLUMNS.index("since"), COMMENT_COLUMNS.index("negativity")
#: (incident id): whether the incident exists, its next comment id and its chain's head (NULL: none
#: yet), what ingest reads before it writes, in one statement instead of three.
_ARRIVAL_READ = ("SELECT (SELECT 1 FROM incidents WHERE id = ?1), "
                 "(SELECT coalesce(max(id), 0) + 1 FROM comments WHERE incident_id = ?1), "
                 "(SELECT hash FROM events WHERE incident_id = ?1 ORDER BY seq DESC LIMIT 1)")
INSERT_EVENT = "INSERT INTO events (incident_id, ts, actor, kind, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)"


def _slug(title: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return (words[:24].rstrip("-") or "incident") + "-" + secrets.token_hex(2)


class _Tx:
    """One write transaction: appends events to the chain and applies them."""

    def __init__(self, db: aiosqlite.Connection, incident_id: str) -> None:
        self.db = db
        self.incident_id = incident_id
        self.prev: str | None = None
        #: Whether this transaction appended to the log (subscribers are woken after COMMIT).
        self.appended = False

    async def last_hash(self) -> str:
        if self.prev is None:
            async with self.db.execute(
                "SELECT hash FROM events WHERE incident_id = ? ORDER BY seq DESC LIMIT 1", (self.incident_id,)
            ) as cur:
                row = await cur.fetchone()
            self.prev = row[0] if row else GENESIS
        return self.prev

    async def append(self, kind: str, actor: str, payload: dict[str, Any], ts: float | None = None) -> Event:
        ts = time.time() if ts is None else ts
        prev = await self.last_hash()
        body = encode_payload(payload)
        digest = chain_hash(prev, self.incident_id, ts, actor, kind, body)
        cur = await self.db.execute(INSERT_EVENT, (self.incident_id, ts, actor, kind, body, prev, digest))
        seq = cur.lastrowid or 0
        await cur.close()
        for sql, params in project(self.incident_id, ts, actor, kind, payload):
            await self.db.execute(sql, params)
        self.prev = digest
        event = Event(seq=seq, incident_id=self.incident_id, ts=ts, actor=actor, kind=kind,
                      payload=payload, prev_hash=prev, hash=digest)
        self.appended = True
        return event

    async def apply(self, change: Append, actor: str, ts: float | None = None) -> Event:
        kind, payload = ev.encode(change)
        return await self.append(kind, actor, payload, ts)

    async def one(self, sql: str, params: tuple[Any, ...]) -> Any:
        async with self.db.execute(sql, params) as cur:
            return await cur.fetchone()

    async def next_id(self, table: str) -> int:
        row = await self.one(f"SELECT coalesce(max(id), 0) + 1 FROM {table} WHERE incident_id = ?", (self.incident_id,))
        return int(row[0])


class SqliteStore(Reads):
    """IncidentStore over one SQLite file (see module docstring)."""

    def __init__(self, db: aiosqlite.Connection, path: Path, playbook: Playbook, read_only: bool) -> None:
        self._db = db
        self.path = path
        self.playbook = playbook
        self.read_only = read_only
        self.shared_at: str | None = str(path)
        self.connection_state = "live"
        self.on_connection_state: Callable[[str], None] | None = None
        self._lock = asyncio.Lock()
        self._waker = Waker()
        self._checker: ToneChecker | None = None

    @property
    def checker(self) -> ToneChecker:
        """The tone rules of the playbook in force, compiled once per playbook."""
        if self._checker is None or self._checker.playbook is not self.playbook:
            self._checker = ToneChecker(self.playbook)
        return self._checker

    def use_playbook(self, playbook: Playbook) -> None:
        """Judge with `playbook` from now on (the room's hot reload hands it the new rules)."""
        self.playbook = playbook

    # ------------------------------------------------------------------ opening
    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        create: bool = True,
        read_only: bool = False,
        playbook: Playbook | None = None,
    ) -> SqliteStore:
        file = Path(path).expanduser().resolve()
        if not file.exists() and (read_only or not create):
            raise StoreUnavailable(f"no incident file at {file}")
        if not file.parent.is_dir():
            raise StoreUnavailable(f"folder {file.parent} does not exist")
        db = await connect(file, read_only=read_only)
        async with closed_on_failure(db, file, writing=not read_only):
            if not read_only:
                # 8 KiB pages for a new file (an existing file keeps its own): comment rows
                # and their ~1 KiB events fit with less B-tree overhead; raw inserts of the
                # same rows measured ~59k/s against ~47k/s with 4 KiB pages.
                await db.execute("PRAGMA page_size = 8192")
                await db.execute("PRAGMA journal_mode = WAL")
                await db.execute("PRAGMA synchronous = NORMAL")
            # 16 MiB of page cache holds the comment indexes of a 100k incident; more bought no
            # measurable ingest speed and only grew the server's memory (two connections).
            await db.execute("PRAGMA cache_size = -16384")
            store = cls(db, file, playbook or playbook_mod.load(), read_only)
            await store._migrate()
        return store

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{self.path} was written by a newer crisis-tui (schema {version}, this one knows {SCHEMA_VERSION})"
            )
        if version == SCHEMA_VERSION:
            return
        if version == 0:
            await self._refuse_foreign()
        if self.read_only:
            raise StoreUnavailable(f"{self.path} needs a schema upgrade; open it once read-write first")
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            async with self._db.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            version = int(row[0]) if row else 0
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        await self._db.execute(statement)
            await self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            await self._db.execute("COMMIT")
        except BaseException:
            await self._rollback()
            raise

    async def _refuse_foreign(self) -> None:
        """An unversioned file with tables is another program's database: never migrated into."""
        rows = await self._db.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 4")
        names = [str(r[0]) for r in rows]
        if names:
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            raise StorageFault(f"{self.path} is not a crisis-tui incident file: it is another program's SQLite "
                               f"database (tables {shown})")

    async def close(self) -> None:
        await self._waker.stop()
        with contextlib.suppress(Exception):
            await self._db.close()

    async def __aenter__(self) -> SqliteStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ transactions
    @contextlib.asynccontextmanager
    async def _write(self, incident_id: str) -> AsyncIterator[_Tx]:
        """One BEGIN IMMEDIATE ... COMMIT; a full, read-only or failing disk leaves it as a
        StorageFault (file_faults) with nothing of the transaction kept."""
        if self.read_only:
            raise Forbidden("this incident is open read-only")
        async with self._lock:
            with file_faults.said(self.path, writing=True):
                await self._db.execute("BEGIN IMMEDIATE")
                tx = _Tx(self._db, incident_id)
                try:
                    yield tx
                    await self._db.execute("COMMIT")
                except BaseException:
                    await self._rollback()
                    raise
        if tx.appended:
            self._waker.bump()

    async def _rollback(self) -> None:
        """Undo what is open; SQLite has already rolled back after some faults (a full disk)."""
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                await self._db.execute("ROLLBACK")

    async def _role_of(self, tx: _Tx, actor: str) -> str | None:
        row = await tx.one(
            "SELECT role FROM presence WHERE incident_id = ? AND name = ? AND left_at IS NULL",
            (tx.incident_id, actor),
        )
        return None if row is None else str(row[0])

    # --------------------------------------------------------------- incidents
    async def create_incident(
        self, title: str, *, actor: str, brand: str = "", severity: str = "", our_fault: bool = False,
        again: bool = False, drill: bool = False,
    ) -> Incident:
        title, severity, brand = guards.new_incident(title, severity, self.playbook, brand)
        incident = Incident(id=_slug(title), title=title, brand=brand, severity=severity,
                            our_fault=our_fault, opened_at=time.time(), drill=drill)
        async with self._write(incident.id) as tx:
            async with tx.db.execute("SELECT id, title FROM incidents WHERE status = 'open' ORDER BY opened_at") as cur:
                open_now = [(row[0], row[1]) async for row in cur]
            guards.title_free(title, open_now, again)
            await tx.apply(ev.IncidentCreated(incident=incident), actor, ts=incident.opened_at)
        return incident

    async def update_incident(
        self, incident_id: str, *, actor: str, role: str | None = None, reason: str = "", **changes: object
    ) -> Incident:
        """Change the incident as a member with decision power: the actor's seat in the room, or,
        for someone not in it (the command line), the `role` they name."""
        async with self._write(incident_id) as tx:
            current = await self.get_incident(incident_id)
            seat = guards.incident_changer(actor, await self._role_of(tx, actor) or role, self.playbook)
            change = guards.incident_changes(current, changes, self.playbook, reason=reason, role=seat)
            if change is not None:
                await tx.apply(change, actor)
        return await self.get_incident(incident_id)

    async def _is_drill(self, tx: _Tx) -> bool:
        row = await tx.one("SELECT drill FROM incidents WHERE id = ?", (tx.incident_id,))
        return row is not None and bool(row[0])

    async def _require_incident(self, tx: _Tx) -> None:
        if await tx.one("SELECT 1 FROM incidents WHERE id = ?", (tx.incident_id,)) is None:
            raise self._no_incident(tx.incident_id)

    def _no_incident(self, incident_id: str) -> NotFound:
        return NotFound(f"no incident {incident_id!r} in {self.path}")

    # ---------------------------------------------------------------- comments
    async def ingest(self, incident_id: str, comments: Sequence[NewComment], *, actor: str = "intake") -> IngestResult:
        """Append new comments in one transaction; (source, external id) already here are duplicates."""
        if not comments:
            return IngestResult(ingested=0, duplicates=0)
        comments = storable_comments(comments)
        keys, by_source = wanted_keys(comments)
        async with self._write(incident_id) as tx:
            existing, next_id = await self._arrival_reads(tx, by_source)
            fresh = unseen(comments, keys, existing)
            duplicates = len(comments) - len(fresh)
            ids = list(range(next_id, next_id + len(fresh)))
            if fresh:
                built = arrival_rows(incident_id, actor, time.time(), next_id, await tx.last_hash(), fresh)
                await self._write_arrivals(tx, built, built.minutes)
                tx.prev = built.head
                tx.appended = True
        return IngestResult(ingested=len(ids), duplicates=duplicates, ids=ids)

    async def _arrival_reads(self, tx: _Tx, wanted: dict[str, set[str]]) -> tuple[set[tuple[str, str]], int]:
        """The (source, external id) keys of `wanted` (external ids by source) already stored, and the
        incident's next comment id; NotFound for no incident."""
        known, next_id, head = await tx.one(_ARRIVAL_READ, (tx.incident_id,))
        if known is None:
            raise self._no_incident(tx.incident_id)
        if tx.prev is None:
            tx.prev = GENESIS if head is None else head
        existing: set[tuple[str, str]] = set()
        for source, ids in wanted.items():
            wanted_ids = list(ids)
            for start in range(0, len(wanted_ids), 500):
                chunk = wanted_ids[start : start + 500]
                # One source at a time so the lookup walks the (incident, source, id) index.
                rows = await tx.db.execute_fetchall(
                    "SELECT external_id FROM comments WHERE incident_id = ? AND source = ? "
                    f"AND external_id IN ({', '.join('?' * len(chunk))})",
                    (tx.incident_id, source, *chunk),
                )
                existing.update((source, r[0]) for r in rows)
        return existing, int(next_id)

    async def _write_arrivals(self, tx: _Tx, built: Arrivals, minutes: list[tuple[Any, ...]]) -> None:
        """The rows of one ingest batch, the arrivals' count and their minutes (COUNT_MINUTES' rows)."""
        # Two executemany calls for the whole batch. Preparing the next rows while
        # SQLite inserts these was tried and bought nothing: the connection's thread
        # needs the GIL to bind every row, so the two threads mostly take turns.
        await tx.db.executemany(INSERT_EVENT, built.event_rows)
        await tx.db.executemany(INSERT_ARRIVAL, built.comment_rows)
        await tx.db.execute(COUNT_ARRIVALS, (tx.incident_id, len(built.comment_rows)))
        await tx.db.executemany(COUNT_MINUTES, minutes)

    async def _comment_state(self, tx: _Tx, comment_id: int) -> CommentState:
        row = await tx.one(
            "SELECT status, holder, author FROM comments WHERE incident_id = ? AND id = ?", (tx.incident_id, comment_id)
        )
        return guards.comment_state(None if row is None else CommentState(*row), comment_id, tx.incident_id)

    async def claim(self, incident_id: str, comment_id: int, *, actor: str) -> Comment:
        """Exactly one operator wins; the others get ClaimConflict naming the holder."""
        async with self._write(incident_id) as tx:
            change = guards.claim(comment_id, await self._comment_state(tx, comment_id), actor=actor)
            if change is not None:
                await tx.apply(change, actor)
        return await self.get_comment(incident_id, comment_id)

    async def release(self, incident_id: str, comment_id: int, *, actor: str) -> Comment:
        async with self._write(incident_id) as tx:
            await tx.apply(guards.release(comment_id, await self._comment_state(tx, comment_id), actor=actor), actor)
        return await self.get_comment(incident_id, comment_id)

    async def _present(self, tx: _Tx) -> list[str]:
        rows = await tx.db.execute_fetchall(
            "SELECT name FROM presence WHERE incident_id = ? AND left_at IS NULL AND heartbeat_at >= ? ORDER BY name",
            (tx.incident_id, time.time() - self.playbook.presence.gone_after_seconds),
        )
        return [r[0] for r in rows]

    async def _hand_over(self, incident_id: str, comment_id: int, to: str, *, actor: str, reason: str) -> Comment:
        async with self._write(incident_id) as tx:
            state = await self._comment_state(tx, comment_id)
            change = guards.hand_over(comment_id, state, actor=actor, role=await self._role_of(tx, actor), to=to,
                                      present=await self._present(tx), reason=reason, playbook=self.playbook)
            if change is not None:
                await tx.apply(change, actor)
        return await self.get_comment(incident_id, comment_id)

    async def take_over(self, incident_id: str, comment_id: int, *, actor: str, reason: str = "") -> Comment:
        """A member with decision power takes a comment someone else holds (the holder's draft stays)."""
        return await self._hand_over(incident_id, comment_id, actor, actor=actor, reason=reason)

    async def reassign(self, incident_id: str, comment_id: int, to: str, *, actor: str, reason: str = "") -> Comment:
        """A member with decision power gives a held comment to someone present in the room."""
        return await self._hand_over(incident_id, comment_id, guards.text(to, "to", 64).strip(), actor=actor,
                                     reason=reason)

    async def mark(self, incident_id: str, comment_id: int, status: str, *, actor: str, reason: str = "",
                   to: str = "") -> Comment:
        reason, to = guards.mark_input(status, reason, to)
        async with self._write(incident_id) as tx:
            state = await self._comment_state(tx, comment_id)
            change = guards.mark(comment_id, state, status, actor=actor, reason=reason, to=to)
            if change is not None:
                await tx.apply(change, actor)
        return await self.get_comment(incident_id, comment_id)

    async def tag(self, incident_id: str, comment_id: int, tags: Sequence[str], *, actor: str) -> Comment:
        clean = guards.clean_tags(tags)
        async with self._write(incident_id) as tx:
            await tx.apply(guards.tag(comment_id, await self._comment_state(tx, comment_id), clean), actor)
        return await self.get_comment(incident_id, comment_id)

    async def bulk(self, incident_id: str, comment_ids: Sequence[int], action: str, *, actor: str,
                   tags: Sequence[str] = (), reason: str = "") -> BulkResult:
        """One action on many comments in one transaction, each comment's own event on the
        record; a comment its guard refuses is skipped with the reason, the rest go ahead."""
        ids, clean, reason = guards.bulk_input(action, comment_ids, tags, reason)
        result = BulkResult(action=action)
        async with self._write(incident_id) as tx:
            await self._require_incident(tx)
            for comment_id in ids:
                row = await tx.one("SELECT status, holder, author, tags FROM comments WHERE incident_id = ? AND id = ?",
                                   (incident_id, comment_id))
                if row is None:
                    result.skipped.append(BulkSkip(comment_id=comment_id, reason="no such comment"))
                    continue
                try:
                    change = guards.bulk_change(action, comment_id, CommentState(*row[:3]), actor=actor, tags=clean,
                                                had=msgspec.json.decode(row[3]), reason=reason)
                except (Forbidden, InvalidInput) as refused:
                    result.skipped.append(BulkSkip(comment_id=comment_id, reason=str(refused)))
                    continue
                if change is None:
                    result.unchanged.append(comment_id)
                else:
                    await tx.apply(change, actor)
                    result.done.append(comment_id)
        return result

    # ------------------------------------------------------------------ drafts
    async def save_draft(
        self,
        incident_id: str,
        body: str,
        *,
        actor: str,
        base_version: int = 0,
        draft_id: int | None = None,
        comment_id: int | None = None,
        kind: str = "reply",
    ) -> Draft:
        """Save a draft based on `base_version`; a stale save is refused with the current draft.

        The refused text is kept in the log as a draft.conflict event, so even a
        dropped connection after the conflict loses nothing.
        """
        body = guards.draft_input(body, kind)
        conflict: CrisisError | None = None
        async with self._write(incident_id) as tx:
            await self._require_incident(tx)
            if draft_id is None:
                holder = None
                if kind == "reply" and comment_id is not None:
                    holder = (await self._comment_state(tx, comment_id)).holder
                draft_id = await tx.next_id("drafts")
                await tx.apply(guards.new_draft(draft_id, body, kind=kind, comment_id=comment_id, holder=holder,
                                                actor=actor), actor)
            else:
                current = guards.found_draft(await self._draft(incident_id, draft_id), draft_id, incident_id)
                events, conflict = guards.save_draft(current, body, base_version=base_version)
                for change in events:
                    await tx.apply(change, actor)
        if conflict is not None:
            raise conflict
        return await self.get_draft(incident_id, draft_id)

    async def tick(self, incident_id: str, draft_id: int, rule: str, ticked: bool, *, actor: str) -> Draft:
        change = guards.tick(draft_id, rule, ticked, self.playbook)
        async with self._write(incident_id) as tx:
            guards.found_draft(await self._draft(incident_id, draft_id), draft_id, incident_id)
            await tx.apply(change, actor)
        return await self.get_draft(incident_id, draft_id)

    async def set_draft_status(
        self,
        incident_id: str,
        draft_id: int,
        status: str,
        *,
        actor: str,
        override_reason: str = "",
        version: int | None = None,
    ) -> Draft:
        """Move a draft along its steps; the rules are guards.draft_status, judged on this file's rows.

        Sending a reply to a platform the playbook publishes to posts it there first,
        outside the write transaction, and records the post (or the failure) with the step.
        """
        override_reason = guards.text(override_reason, "override_reason", guards.MAX_NOTE, required=False).strip()
        if status == "sent":
            await self._publish(incident_id, draft_id, actor=actor, version=version)
        async with self._write(incident_id) as tx:
            draft = guards.found_draft(await self._draft(incident_id, draft_id), draft_id, incident_id)
            role: str | None = None
            judge: guards.Judge | None = None
            if status == "approved":
                role = await self._role_of(tx, actor)
                judge = guards.Judge(self.checker, await self._situation(incident_id, draft))
            holder = None
            if status == "sent" and draft.kind == "reply" and draft.comment_id is not None:
                holder = (await self._comment_state(tx, draft.comment_id)).holder
            moved = guards.draft_status(
                draft, status, actor=actor, role=role, holder=holder, override_reason=override_reason,
                version=version, judge=judge, playbook=self.playbook,
            )
            await tx.apply(moved, actor)
        return await self.get_draft(incident_id, draft_id)

    async def _published(self, incident_id: str, draft_id: int, version: int, platform: str
                         ) -> ev.ReplyPublished | None:
        for event in await self.events_of(incident_id, ev.ReplyPublished):
            body = event.body
            if (isinstance(body, ev.ReplyPublished) and body.draft_id == draft_id and body.version == version
                    and body.platform == platform):
                return body
        return None

    async def _publish(self, incident_id: str, draft_id: int, *, actor: str, version: int | None) -> None:
        """Post an approved reply where the playbook publishes its comment's platform, or a
        public statement on every platform whose publisher takes statements.

        Nothing is posted when it goes out by hand. The step's own refusals come first, so
        nothing is posted that could not be marked sent; a version already posted on a
        platform is not posted there again (a statement that failed on one platform is
        retried there only).
        """
        draft = guards.found_draft(await self._draft(incident_id, draft_id), draft_id, incident_id)
        outgoing: Outgoing
        if (await self.get_incident(incident_id)).drill:
            return  # a drill publishes nothing: its replies and statements are marked sent and stay in the room
        if draft.kind == "statement":
            publishers = deliver.statement_publishers(self.playbook)
            if not publishers:
                return
            guards.draft_status(draft, "sent", actor=actor, version=version, playbook=self.playbook)
            outgoing = Outgoing(incident_id=incident_id, draft_id=draft.id, version=draft.version, text=draft.body)
        elif draft.comment_id is not None:
            comment = await self.get_comment(incident_id, draft.comment_id)
            publisher = deliver.publisher_answering(self.playbook, comment)
            if publisher is None:
                return
            publishers = [publisher]
            guards.draft_status(draft, "sent", actor=actor, holder=comment.holder, version=version,
                                playbook=self.playbook)
            outgoing = Reply(incident_id=incident_id, draft_id=draft.id, version=draft.version, text=draft.body,
                             comment=comment)
        else:
            return
        due = [p for p in publishers if await self._published(incident_id, draft.id, draft.version, p.platform) is None]
        outcomes = await asyncio.gather(*(deliver.publish(p, outgoing) for p in due))
        async with self._write(incident_id) as tx:
            # What went out is on the record even if the draft moves on before it is marked sent;
            # a concurrent send of the same version got the same post back and recorded it already.
            for outcome in outcomes:
                if isinstance(outcome, ev.ReplyPublishFailed) or await self._published(
                        incident_id, draft.id, draft.version, outcome.platform) is None:
                    await tx.apply(outcome, actor)
        failed = [o for o in outcomes if isinstance(o, ev.ReplyPublishFailed)]
        if failed:
            done = [o.platform for o in outcomes if isinstance(o, ev.ReplyPublished)]
            said = "; ".join(f"was not published on {o.platform}: {o.error}" for o in failed)
            posted = f" (published on {', '.join(done)})" if done else ""
            raise PublishFailed(f"draft {draft.id} v{draft.version} {said}{posted}; it stays approved, "
                                "send again to retry")

    # --------------------------------------------------------------- decisions
    async def propose_decision(
        self, incident_id: str, title: str, *, actor: str, rationale: str = "", supersedes: int | None = None,
        owner_decides: bool = False,
    ) -> Decision:
        title, rationale = guards.proposal_input(title, rationale, owner_decides, self.playbook)
        async with self._write(incident_id) as tx:
            await self._require_incident(tx)
            old = await self._decision(incident_id, supersedes) if supersedes is not None else None
            new_id = await tx.next_id("decisions")
            await tx.apply(guards.proposal(new_id, title, rationale, supersedes=supersedes, old=old,
                                           owner_decides=owner_decides), actor)
        decision = await self._decision(incident_id, new_id)
        assert decision is not None
        return decision

    async def vote_decision(self, incident_id: str, decision_id: int, approve: bool, *, actor: str) -> Decision:
        """A member with decision power approves or rejects; who was present goes on the record."""
        async with self._write(incident_id) as tx:
            decision = await self._decision(incident_id, decision_id)
            role = await self._role_of(tx, actor) if decision is not None else None
            await tx.apply(guards.vote(decision, decision_id, incident_id, approve, actor=actor, role=role,
                                       present=await self._present(tx), playbook=self.playbook), actor)
        result = await self._decision(incident_id, decision_id)
        assert result is not None
        return result

    # ---------------------------------------------------------------- presence
    async def heartbeat(self, incident_id: str, *, actor: str, role: str, focus: str | None = None) -> Presence:
        """Say we are here (and, when it changed, what we are doing)."""
        actor, focus = guards.heartbeat_input(actor, role, focus, self.playbook)
        async with self._write(incident_id) as tx:
            await self._require_incident(tx)
            row = await tx.one(
                "SELECT role, focus, left_at FROM presence WHERE incident_id = ? AND name = ?", (incident_id, actor)
            )
            change = guards.heartbeat(None if row is None else tuple(row), actor=actor, role=role, focus=focus)
            if change is not None:
                await tx.apply(change, actor)
            else:
                await tx.db.execute(
                    "UPDATE presence SET heartbeat_at = ? WHERE incident_id = ? AND name = ?",
                    (time.time(), incident_id, actor),
                )
        for p in await self.presence(incident_id):
            if p.name == actor:
                return p
        raise NotFound(f"{actor} is not present")  # pragma: no cover - written just above

    async def leave(self, incident_id: str, *, actor: str, reason: str = "quit") -> None:
        async with self._write(incident_id) as tx:
            row = await tx.one(
                "SELECT left_at FROM presence WHERE incident_id = ? AND name = ?", (incident_id, actor)
            )
            if row is not None and row[0] is None:
                await tx.apply(ev.OperatorLeft(name=actor, reason=reason), actor)

    async def expire_presence(self, incident_id: str, gone_after: float, *, reachable_since: float = 0.0
                              ) -> list[str]:
        """Mark as gone whoever has not sent a heartbeat for `gone_after` seconds, and free the
        claims of whoever has been gone for the playbook's `release_claims_after_seconds`
        (their drafts stay, for whoever claims the comment next).

        Nobody is timed out while the store has been reachable for less than `gone_after`
        (a server passes its start): heartbeats nobody could send are no absence. The claims of
        those already gone still lapse on time."""
        now = time.time()
        # -inf: nobody's heartbeat is that old, so nobody is timed out yet.
        cutoff = now - gone_after if now - reachable_since >= gone_after else float("-inf")
        release_after = self.playbook.presence.release_claims_after_seconds
        stale = await self._fetchall(
            "SELECT name FROM presence WHERE incident_id = ? AND left_at IS NULL AND heartbeat_at < ?",
            (incident_id, cutoff),
        )
        if self.read_only or not (stale or await self._lapsed(incident_id, now - release_after)):
            return []
        gone: list[str] = []
        async with self._write(incident_id) as tx:
            rows = await tx.db.execute_fetchall(
                "SELECT name FROM presence WHERE incident_id = ? AND left_at IS NULL AND heartbeat_at < ?",
                (incident_id, cutoff),
            )
            for (name,) in rows:
                await tx.apply(ev.OperatorLeft(name=name, reason="timeout"), "system")
                gone.append(name)
            for change in guards.lapsed_claims(await self._lapsed(incident_id, now - release_after), release_after):
                await tx.apply(change, "system")
        return gone

    async def _lapsed(self, incident_id: str, left_before: float) -> list[tuple[int, str, str]]:
        """Claims held by members who left (or were marked gone) before `left_before`.

        The comments are only read when someone held something and left (the presence table is a
        handful of rows, the comments may be a million), and then only the claimed ones.
        """
        names = [r[0] for r in await self._fetchall(
            "SELECT name FROM presence WHERE incident_id = ? AND left_at IS NOT NULL AND left_at <= ?",
            (incident_id, left_before))]
        if not names:
            return []
        # The claimed ids come from comments_waiting (its leading status) and only their rows are read:
        # asked for the columns at once, with no statistics, the planner walks every comment of the
        # incident instead (tests/test_query_plans.py). Sorted here, for the same reason.
        rows = await self._fetchall(
            "SELECT id, holder, author FROM comments WHERE incident_id = ? AND id IN "
            "(SELECT id FROM comments WHERE incident_id = ? AND status = 'claimed') "
            f"AND holder IN ({', '.join('?' for _ in names)})",
            (incident_id, incident_id, *names),
        )
        return sorted((int(r[0]), str(r[1]), str(r[2])) for r in rows)

    # ------------------------------------------------------------ notes, alerts
    async def add_note(self, incident_id: str, text: str, *, actor: str) -> Note:
        text = guards.text(text, "note", guards.MAX_NOTE).strip()
        async with self._write(incident_id) as tx:
            await self._require_incident(tx)
            note_id = await tx.next_id("notes")
            event = await tx.apply(ev.NoteAdded(note_id=note_id, text=text), actor)
        return Note(id=note_id, incident_id=incident_id, author=actor, text=text, at=event.ts)

    async def record_sitrep(self, incident_id: str, text: str, *, actor: str, delivered: Sequence[str] = (),
                            failed: dict[str, str] | None = None) -> Event:
        """A situation report on the timeline, as sent, with where it went (crisis_tui.notify)."""
        body = guards.sitrep(text, delivered, failed or {})
        async with self._write(incident_id) as tx:
            await self._require_incident(tx)
            guards.drill_reach(await self._is_drill(tx), body.delivered, body.failed, self.playbook)
            return await tx.apply(body, actor)

    async def record_notification(self, incident_id: str, about_seq: int, about: str, text: str, *, actor: str,
                                  delivered: Sequence[str] = (), failed: dict[str, str] | None = None) -> Event:
        """Who was told of event `about_seq` (and who could not be): each delivery on the record."""
        body = guards.notification(about_seq, about, text, delivered, failed or {})
        async with self._write(incident_id) as tx:
            await self._require_incident(tx)
            guards.drill_reach(await self._is_drill(tx), body.delivered, body.failed, self.playbook)
            return await tx.apply(body, actor)

    async def claim_notification(self, incident_id: str, about_seq: int, *, actor: str, runner: str,
                                 lease_seconds: float) -> Event:
        """The notice's row read inside the write: of two runners claiming at once, one wins."""
        async with self._write(incident_id) as tx:
            await self._require_incident(tx)
            held = await tx.one("SELECT runner, held_until, sent FROM notices WHERE incident_id = ? AND about_seq = ?",
                                (incident_id, about_seq))
            body = guards.notice_claim(about_seq, runner, lease_seconds, time.time(),
                                       None if held is None else (str(held[0]), float(held[1]), int(held[2])))
            return await tx.apply(body, actor)

    async def answer_escalation(self, incident_id: str, comment_id: int, answer: str, *, actor: str) -> Event:
        """Record the department's answer to the comment's open escalation (guards.escalation_answer);
        read inside the write, so two people recording an answer at once give one answer, not two.
        It reads the incident's comment.status events, which are few next to its comments."""
        guards.text(answer, "answer", guards.MAX_NOTE)
        async with self._write(incident_id) as tx:
            await self._comment_state(tx, comment_id)
            rows = await tx.db.execute_fetchall(ESCALATION_EVENTS, escalation_params(incident_id))
            waiting = guards.open_escalation(comment_id, escalation_events(rows))
            return await tx.apply(guards.escalation_answer(comment_id, waiting, answer), actor)

    async def alert(self, incident_id: str, kind: str, payload: dict[str, object], *, actor: str = "triage") -> Event:
        guards.alert_kind(kind)
        guards.alert_payload(payload)
        async with self._write(incident_id) as tx:
            await self._require_incident(tx)
            guards.drill_alert(kind, await self._is_drill(tx))
            return await tx.append(kind, actor, dict(payload))

    # ------------------------------------------------------------------ the log
    async def log_head(self, incident_id: str, number: int | None = None) -> Head | None:
        """The newest event as a `Head` (None for an empty log), or with `number` the event
        numbered so (None when the log no longer holds that many)."""
        if number is None:
            row = await self._fetchone(
                "SELECT seq, hash, (SELECT count(*) FROM events WHERE incident_id = ?1) FROM events "
                "WHERE incident_id = ?1 ORDER BY seq DESC LIMIT 1", (incident_id,))
            return Head(number=row[2], hash=row[1], seq=row[0]) if row else None
        row = await self._fetchone(
            "SELECT seq, hash FROM events WHERE incident_id = ? ORDER BY seq LIMIT 1 OFFSET ?",
            (incident_id, number - 1))
        return Head(number=number, hash=row[1], seq=row[0]) if row and number > 0 else None

    async def import_events(self, incident_id: str, events: Sequence[Event]) -> int:
        """Write an exported incident's log verbatim (same ts, actor, kind, payload bytes,
        hashes) and replay its projections, all in one transaction.

        `crisis-tui import` uses it: the chain is verified before anything is
        written, and an incident already in this file is refused rather than
        mixed. Entity ids are per incident, so they survive the move unchanged.
        Returns how many events were written.
        """
        if not events:
            raise InvalidInput("events", "the export holds no events")
        first = events[0]
        opening = first.body
        if not isinstance(opening, ev.IncidentCreated) or opening.incident.id != incident_id:
            raise InvalidInput("events", f"the log does not start by creating incident {incident_id!r}")
        rows: list[tuple[Any, ...]] = []
        for number, event in enumerate(events, start=1):
            if event.incident_id != incident_id:
                raise InvalidInput("events", f"event {number} belongs to incident {event.incident_id!r}, not {incident_id!r}")
            rows.append((number, incident_id, event.ts, event.actor, event.kind,
                         encode_payload(event.payload), event.prev_hash, event.hash))
        checked, broken = verify_chain(rows)
        if broken is not None:
            raise InvalidInput("events", f"hash chain broken at event {broken.seq} of the export: {broken.reason}")
        async with self._write(incident_id) as tx:
            if await tx.one("SELECT 1 FROM incidents WHERE id = ? UNION ALL SELECT 1 FROM events WHERE incident_id = ? LIMIT 1",
                            (incident_id, incident_id)) is not None:
                raise InvalidInput("incident", f"{incident_id!r} already exists in {self.path}; import into another file")
            await tx.db.executemany(INSERT_EVENT, [row[1:] for row in rows])
            batch_sql: str | None = None
            batch: list[tuple[Any, ...]] = []

            async def flush() -> None:
                await tx.db.executemany(batch_sql or "", batch)
                if batch_sql == INSERT_COMMENT:  # the arrivals' counts, which CommentIngested leaves to its writer
                    await tx.db.execute(COUNT_ARRIVALS, (incident_id, len(batch)))
                    await tx.db.executemany(COUNT_MINUTES, minute_rows(
                        incident_id, ((row[_SINCE], row[_NEGATIVITY]) for row in batch)))

            for event in events:
                for sql, params in project(incident_id, event.ts, event.actor, event.kind, event.payload):
                    if sql != batch_sql and batch:
                        await flush()
                        batch = []
                    batch_sql = sql
                    batch.append(params)
            if batch:
                await flush()
            tx.appended = True
        return checked

    async def subscribe(self, incident_id: str, after_seq: int = 0) -> AsyncIterator[Event]:
        """Every event after `after_seq`, in order, then live as any process appends.

        Wakes on this process's own writes at once and on other processes' writes
        through the waker (see crisis_tui.store.waker); a 0.5 s poll backs both up.
        """
        self._waker.start_watching(self.path, self._data_version)
        try:
            seen = self._waker.generation
            while True:
                batch = await self.events_after(incident_id, after_seq, 1000)
                for event in batch:
                    after_seq = event.seq
                    yield event
                if len(batch) == 1000:
                    continue
                seen = await self._waker.wait(seen, 0.5)
        finally:
            self._waker.stop_watching()
