"""PgStore: the incident log in PostgreSQL, shared by any number of processes and hosts.

Through asyncpg rather than psycopg 3: it is asyncio-native (no thread hop per
statement, as aiosqlite has), speaks the binary protocol, prepares and caches
statements by itself, and delivers LISTEN/NOTIFY as callbacks (`add_listener`)
without a polling loop.

Every command, guard, projection and read is SqliteStore's own: only the
transaction, the schema bookkeeping and the live wake-up differ. A write
transaction takes `pg_advisory_xact_lock` on its incident first, so writers in
different processes append to one incident's chain one at a time and the chain
stays gapless; it sends `NOTIFY crisis_tui, 'INCIDENT SEQ'` that PostgreSQL
delivers at COMMIT to every listening process, which reads the events itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import Forbidden, StorageFault, StoreUnavailable
from crisis_tui.model import Event
from crisis_tui.playbook import Playbook
from crisis_tui.store.audit import TABLES, AuditReport, audit_file, with_fresh_schema
from crisis_tui.store.pg_sql import PG_FUNCTIONS, PgConnection, pg_migration
from crisis_tui.store.schema import SCHEMA_VERSION
from crisis_tui.store.sqlite import SqliteStore, _Tx

CHANNEL = "crisis_tui"


def _scratch_copy(file: Path, columns: dict[str, list[str]], stored: dict[str, list[tuple[Any, ...]]]) -> None:
    db = sqlite3.connect(file, isolation_level=None)
    try:
        with_fresh_schema(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("BEGIN")
        for table, names in columns.items():
            db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                           stored[table])
        db.execute("COMMIT")
    finally:
        db.close()
#: The advisory lock key that serialises schema changes between processes starting together.
_SCHEMA_LOCK = 0x6372_6973_6973
_OURS = ("incidents", "events", "comments", "drafts", "decisions", "presence", "notes", "tokens")


def is_pg_url(raw: str) -> bool:
    """Whether a database argument names PostgreSQL rather than a SQLite file."""
    return raw.startswith(("postgresql://", "postgres://"))


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}@{parts.netloc.rpartition('@')[2]}"  # host and port as written (not parsed)
    return urlunsplit(parts._replace(netloc=netloc))


class PgStore(SqliteStore):
    """IncidentStore over one PostgreSQL database (see module docstring)."""

    def __init__(self, db: PgConnection, url: str, playbook: Playbook, read_only: bool) -> None:
        super().__init__(cast(Any, db), cast(Path, shown(url)), playbook, read_only)
        self.url = url
        self._pg = db
        self._listener: asyncpg.Connection | None = None
        self._notices = asyncio.Condition()
        self._generation = 0

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        create: bool = True,
        read_only: bool = False,
        playbook: Playbook | None = None,
    ) -> PgStore:
        url = str(path)
        try:
            conn = await asyncpg.connect(url)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL at {shown(url)}: {exc}") from exc
        except (ValueError, OverflowError) as exc:  # the URL itself: a port that is not a number, or past 65535
            raise StoreUnavailable(f"{shown(url)} is not a usable PostgreSQL URL: {exc}") from exc
        store = cls(PgConnection(conn), url, playbook or playbook_mod.load(), read_only)
        try:
            await store._migrate_pg(create=create)
        except BaseException:
            await conn.close()
            raise
        return store

    async def _version(self) -> int | None:
        row = await self._pg.conn.fetchrow(
            "SELECT to_regclass('crisis_schema') IS NOT NULL AS known, "
            "(SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
            " AND table_name = ANY($1::text[])) AS ours", list(_OURS))
        assert row is not None
        if not row["known"]:
            if row["ours"]:
                raise StorageFault(f"{self.path} holds tables named like crisis-tui's but no crisis-tui schema "
                                   "version: another program's database, not migrated into")
            return None
        return int(await self._pg.conn.fetchval("SELECT version FROM crisis_schema"))

    async def _migrate_pg(self, *, create: bool) -> None:
        version = await self._version()
        if version is not None and version > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{self.path} was written by a newer crisis-tui (schema {version}, this one knows {SCHEMA_VERSION})")
        if version == SCHEMA_VERSION:
            return
        if version is None and not create:
            raise StoreUnavailable(f"no crisis-tui incidents in {self.path} (create them with `crisis-tui new`)")
        if self.read_only:
            raise StoreUnavailable(f"{self.path} needs a schema upgrade; open it once read-write first")
        conn = self._pg.conn
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
            version = await self._version()
            if version is None:
                await conn.execute(PG_FUNCTIONS)
                await conn.execute("CREATE TABLE crisis_schema (version INTEGER NOT NULL)")
                await conn.execute("INSERT INTO crisis_schema VALUES (0)")
                version = 0
            for number in range(version + 1, SCHEMA_VERSION + 1):
                await conn.execute(pg_migration(number))
            await conn.execute("UPDATE crisis_schema SET version = $1", SCHEMA_VERSION)

    async def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
        with contextlib.suppress(Exception):
            await self._pg.close()

    async def __aenter__(self) -> PgStore:
        return self

    # ------------------------------------------------------------ transactions
    @contextlib.asynccontextmanager
    async def _write(self, incident_id: str) -> AsyncIterator[_Tx]:
        """BEGIN, the incident's advisory lock, the command, NOTIFY of the new head, COMMIT."""
        if self.read_only:
            raise Forbidden("this incident is open read-only")
        async with self._lock:
            await self._pg.fetch("BEGIN")
            tx = _Tx(cast(Any, self._pg), incident_id)
            try:
                await self._pg.fetch("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (incident_id,))
                yield tx
                if tx.appended:
                    await self._pg.fetch(
                        "SELECT pg_notify(?, ? || ' ' || coalesce((SELECT max(seq) FROM events WHERE incident_id = ?), 0))",
                        (CHANNEL, incident_id, incident_id))
                await self._pg.fetch("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        if tx.appended:
            await self._wake()

    async def _rollback(self) -> None:
        if self._pg.in_transaction:
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                await self._pg.fetch("ROLLBACK")

    async def _refuse_foreign(self) -> None:
        """Done by `_version` (a PostgreSQL database names its tables in information_schema)."""

    async def _data_version(self) -> int:
        return self._generation

    # ------------------------------------------------------------------ audit
    async def audit(self, incident_id: str, at: int | None = None) -> AuditReport:
        """`verify` of one incident: its stored rows, exactly as PostgreSQL returns them, are
        copied into a scratch SQLite file and audited there by the same code as a file's
        (the chain, every row's types, every table against a replay of the log)."""
        columns = {table: await self._pg_columns(table) for table in ("events", *TABLES)}
        stored: dict[str, list[tuple[Any, ...]]] = {}
        for table, names in columns.items():
            key = "id" if table == "incidents" else "incident_id"
            stored[table] = [tuple(r) for r in await self._fetchall(
                f"SELECT {', '.join(names)} FROM {table} WHERE {key} = ?", (incident_id,))]
        with tempfile.TemporaryDirectory(prefix="crisis-tui-audit-") as scratch:
            file = Path(scratch) / "stored.db"
            await asyncio.to_thread(_scratch_copy, file, columns, stored)
            report = await audit_file(file, incident_id, at)
        report.file = str(self.path)
        report.damaged = [line.replace(str(file), str(self.path)) for line in report.damaged]
        return report

    async def _pg_columns(self, table: str) -> list[str]:
        rows = await self._fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position", (table,))
        return [str(r[0]) for r in rows]

    # ------------------------------------------------------------------- live
    async def _wake(self) -> None:
        async with self._notices:
            self._generation += 1
            self._notices.notify_all()

    def _noticed(self, _conn: object, _pid: int, _channel: str, _payload: str) -> None:
        asyncio.get_running_loop().create_task(self._wake())

    async def _listen(self) -> None:
        if self._listener is None or self._listener.is_closed():
            self._listener = await asyncpg.connect(self.url)
            await self._listener.add_listener(CHANNEL, self._noticed)

    async def subscribe(self, incident_id: str, after_seq: int = 0) -> AsyncIterator[Event]:
        """Every event after `after_seq`, then live: woken by any process's NOTIFY (a 0.5 s poll backs it up)."""
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            await self._listen()
        while True:
            seen = self._generation
            batch = await self.events_after(incident_id, after_seq, 1000)
            for event in batch:
                after_seq = event.seq
                yield event
            if len(batch) == 1000:
                continue
            async with self._notices:
                if self._generation == seen:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._notices.wait(), 0.5)
