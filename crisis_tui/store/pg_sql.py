"""The seam between the store's SQL and PostgreSQL: a pool of connections that speaks like aiosqlite.

SqliteStore's commands, its reads (queries.py) and the projector write their SQL once,
with `?` parameters and SQLite's JSON functions. `PgConnection` takes that SQL as it
is: `?` and `?N` become `$N`, an insert into `events` returns its `seq`, and the few
JSON functions the projector uses exist in the database as functions of text
(`PG_FUNCTIONS`), so the same statements run on both engines and no command is
written twice. The schema is the SQLite migrations with PostgreSQL's column types
(`pg_migration`), numbered alike.

Statements outside a transaction take any connection of the process's pool for this
URL (the writer, the reader and the token book of one server share it, so a server
holds a handful of connections whatever its load); a transaction pins one connection
to the task that runs it (`pinned`), and every statement that task sends meanwhile
goes there and sees the transaction's own rows. A connection the database server
dropped (a restart, a network cut) is said as StoreUnavailable, and the pool opens a
fresh one for the next statement: nothing here has to be reopened after an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import weakref
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import asyncpg

from crisis_tui.errors import StoreUnavailable
from crisis_tui.store.schema import MIGRATIONS

_PARAM = re.compile(r"\?(\d*)")

#: SQLite's JSON functions the projector and the migrations use, over JSON held as text and written
#: compact as SQLite writes it (so `verify` finds the tables equal to a replay), and its two-argument
#: min and max. json_insert appends only ('$[#]', all the projector asks of it).
PG_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION json_array(VARIADIC items text[]) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_json(items)::text $$;
CREATE OR REPLACE FUNCTION json_quote(item text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_json(item)::text $$;
CREATE OR REPLACE FUNCTION json(doc text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT doc::json::text $$;
CREATE OR REPLACE FUNCTION json_set(doc text, path text, item text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    WITH wanted AS (SELECT (substr(path, 3))::jsonb #>> '{}' AS key),
    members AS (
        SELECT j.key, CASE WHEN j.key = wanted.key THEN item ELSE j.value::text END AS value, j.ord
          FROM json_each(doc::json) WITH ORDINALITY AS j(key, value, ord), wanted
        UNION ALL
        SELECT wanted.key, item, 9223372036854775807 FROM wanted WHERE NOT (doc::jsonb ? wanted.key))
    SELECT coalesce('{' || string_agg(to_json(key)::text || ':' || value, ',' ORDER BY ord) || '}', '{}') FROM members
$$;
CREATE OR REPLACE FUNCTION json_insert(doc text, path text, item text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN doc::jsonb = '[]'::jsonb THEN '[' || to_json(item)::text || ']'
                ELSE left(rtrim(doc), -1) || ',' || to_json(item)::text || ']' END
$$;
CREATE OR REPLACE FUNCTION json_each(doc text) RETURNS TABLE (value text) LANGUAGE sql IMMUTABLE AS
$$ SELECT jsonb_array_elements_text(doc::jsonb) $$;
CREATE OR REPLACE FUNCTION _json_group_final(acc text[]) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_json(coalesce(acc, '{}'::text[]))::text $$;
CREATE OR REPLACE FUNCTION min(a double precision, b double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$ SELECT LEAST(a, b) $$;
CREATE OR REPLACE FUNCTION max(a double precision, b double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$ SELECT GREATEST(a, b) $$;
DO $$ BEGIN
    CREATE AGGREGATE json_group_array(text) (SFUNC = array_append, STYPE = text[],
                                             FINALFUNC = _json_group_final, INITCOND = '{}');
EXCEPTION WHEN duplicate_function THEN NULL;
END $$;
"""

#: Migrations whose SQLite text has no PostgreSQL reading (their own version here).
_PG_ONLY: dict[int, str] = {
    # 6: the editors back-filled from the log, with PostgreSQL's JSON operators.
    6: """
    ALTER TABLE drafts ADD COLUMN approved_version BIGINT;
    UPDATE drafts SET approved_version = version WHERE status IN ('approved', 'sent') AND approvals != '[]';
    ALTER TABLE drafts ADD COLUMN editors TEXT NOT NULL DEFAULT '[]';
    UPDATE drafts SET editors = coalesce((
        SELECT json_group_array(DISTINCT e.actor ORDER BY e.actor) FROM events e
        WHERE e.incident_id = drafts.incident_id AND e.kind = 'draft.saved'
          AND (convert_from(e.payload, 'UTF8')::jsonb ->> 'draft_id')::bigint = drafts.id
    ), json_array(author));
    """,
    # 13: as SQLite's, and the log keyed by (incident, seq). With its primary key on the global seq
    # alone, PostgreSQL read an incident's newest events (the chain's head before every write, the
    # events after a seq for every live stream) by walking that key backward, or forward from the
    # seq, and filtering: in a database with other incidents it walked past every newer event of
    # theirs (20,001 rows removed by the filter to find one, measured after ANALYZE with two
    # incidents of 20,000 events; 0.02 against 2.8 ms, growing with every other incident). With the
    # key on (incident, seq) no index offers seq's order but per incident; a hash index (an
    # exclusion constraint) keeps each seq once, answering an equality and never an order.
    13: """
    ALTER TABLE events DROP CONSTRAINT events_pkey;
    ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (incident_id, seq);
    ALTER TABLE events ADD CONSTRAINT events_seq_once EXCLUDE USING hash (seq WITH =);
    DROP INDEX events_by_incident;
    CREATE INDEX events_by_kind ON events (incident_id, kind, seq) WHERE kind <> 'comment.ingested';
    CREATE TABLE notices (
        incident_id TEXT NOT NULL,
        about_seq BIGINT NOT NULL,
        runner TEXT NOT NULL DEFAULT '',
        held_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        sent BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (incident_id, about_seq)
    );
    INSERT INTO notices (incident_id, about_seq, sent)
        SELECT DISTINCT incident_id, (convert_from(payload, 'UTF8')::jsonb ->> 'about_seq')::bigint, 1 FROM events
         WHERE kind = 'notify.sent';
    """,
}

_TYPES = [
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\)\s*WITHOUT ROWID"), ")"),
]


def pg_migration(number: int) -> str:
    """Migration `number` (1-based, as schema.MIGRATIONS counts) in PostgreSQL's dialect."""
    if number in _PG_ONLY:
        return _PG_ONLY[number]
    sql = MIGRATIONS[number - 1]
    for pattern, replacement in _TYPES:
        sql = pattern.sub(replacement, sql)
    return sql


#: Statements with this many parameters or more get a plan for their own values (see PgConnection._fetch).
ONE_SHOT_FROM = 24

#: The tables whose inserts tell the row's id (aiosqlite's lastrowid) and the column that holds it.
_ROW_IDS = {"EVENTS": "seq", "TOKENS": "id"}


@lru_cache(maxsize=512)
def translated(sql: str) -> str:
    """`sql` with `$N` parameters; an insert into events says which seq it got."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(1):
            return "$" + match.group(1)
        count += 1
        return f"${count}"

    out = _PARAM.sub(number, sql)
    head = out.lstrip().upper()
    for table, key in _ROW_IDS.items():
        if head.startswith(f"INSERT INTO {table} ") and "RETURNING" not in head:
            out += f" RETURNING {key}"
    return out


class PgCursor:
    """The rows of one statement, read like an aiosqlite cursor."""

    def __init__(self, rows: Sequence[asyncpg.Record], returning: bool = False) -> None:
        self.rows = list(rows)
        self.lastrowid: int | None = int(self.rows[0][0]) if returning and self.rows else None

    async def fetchone(self) -> asyncpg.Record | None:
        return self.rows[0] if self.rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return self.rows

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> PgCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def __aiter__(self) -> AsyncIterator[asyncpg.Record]:
        for row in self.rows:
            yield row


class _Running:
    """`execute`'s result: awaited, or used as `async with` (both as aiosqlite allows)."""

    def __init__(self, conn: PgConnection, sql: str, params: Sequence[Any]) -> None:
        self._run = conn.fetch(sql, params)
        self._returning = " RETURNING " in translated(sql)

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._cursor().__await__()

    async def _cursor(self) -> PgCursor:
        return PgCursor(await self._run, self._returning)

    async def __aenter__(self) -> PgCursor:
        return await self._cursor()

    async def __aexit__(self, *exc: object) -> None:
        return None


_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def usable(url: str) -> None:
    """StoreUnavailable, in one line without the password, for a URL no connection could use (the
    pool connects lazily, so its own parse would fail later, deep in the first statement)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - parsing it is the check: a port that is not a number, or past 65535
    except ValueError as exc:
        raise StoreUnavailable(f"{shown(url)} is not a usable PostgreSQL URL: {exc}") from None
    for key, value in parse_qsl(parts.query):
        if key == "sslmode" and value not in _SSLMODES:
            raise StoreUnavailable(f"{shown(url)} is not a usable PostgreSQL URL: sslmode must be one of "
                                   f"{', '.join(_SSLMODES)}, not {value!r}")


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}@{parts.netloc.rpartition('@')[2]}"  # host and port as written (not parsed)
    return urlunsplit(parts._replace(netloc=netloc))


def literal(text: str) -> str:
    """`text` as an SQL string literal, for the few statements sent together in one round trip
    (the simple protocol takes no parameters). Exact with standard_conforming_strings on, which
    every pooled connection sets."""
    if "\x00" in text:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return "'" + text.replace("'", "''") + "'"


#: What says the database server is gone or not back yet, rather than refusing a statement
#: (InternalClientError: a connection left mid-statement when its server went away).
LOST: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.InternalClientError, asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.CannotConnectNowError,
)

#: A lost connection, raw or already said as StoreUnavailable.
LOST_OR_SAID: tuple[type[BaseException], ...] = (*LOST, StoreUnavailable)

#: The connection the running task's transaction holds (statements of that task go there).
pinned: ContextVar[asyncpg.Connection | None] = ContextVar("crisis_tui_pg_pinned", default=None)

#: Connections one process keeps to one database at most (CRISIS_TUI_PG_POOL). Eight kept 50
#: concurrent operators on two servers from queueing for one (bench/pg.py), and three servers
#: stay far from a default max_connections of 100.
POOL_SIZE = int(os.environ.get("CRISIS_TUI_PG_POOL", "8") or 8)


@dataclass
class _Shared:
    opening: asyncio.Task[asyncpg.Pool]
    users: int = 0


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Shared]] = weakref.WeakKeyDictionary()


async def _kept(_conn: asyncpg.Connection) -> None:
    """A connection goes back to the pool as it is: nothing here changes session state (the
    advisory locks are the transaction's, nobody LISTENs on a pooled connection), and the
    default reset would cost a round trip per statement outside a transaction."""


async def _new_pool(url: str) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url, min_size=0, max_size=POOL_SIZE, timeout=10, command_timeout=None, reset=_kept,
        server_settings={"application_name": "crisis-tui", "standard_conforming_strings": "on"})
    assert pool is not None
    return pool


@contextlib.contextmanager
def said(url: str) -> Iterator[None]:
    """A lost or unreachable database server as StoreUnavailable naming it (a refused statement stays as it is)."""
    try:
        yield
    except LOST as exc:
        raise StoreUnavailable(f"PostgreSQL at {shown(url)} does not answer ({unreachable(exc)}); "
                               "retry in a moment") from exc


def unreachable(exc: BaseException) -> str:
    """What a lost connection said, in a few words."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


class PgConnection:
    """A pool of asyncpg connections used like the store uses one aiosqlite connection (see module docstring)."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.url = url
        #: Called with True after a statement the server answered, False when it could not be reached.
        self.on_reach: Callable[[bool], None] | None = None
        self._closed = False

    @classmethod
    async def open(cls, url: str) -> PgConnection:
        """The process's pool for `url` (opened by the first user), or StoreUnavailable."""
        usable(url)
        pools = _POOLS.setdefault(asyncio.get_running_loop(), {})
        shared = pools.get(url)
        if shared is None or (shared.opening.done() and shared.opening.exception() is not None):
            shared = pools[url] = _Shared(asyncio.ensure_future(_new_pool(url)))
        try:
            pool = await asyncio.shield(shared.opening)
        except (*LOST, asyncpg.PostgresError) as exc:
            if pools.get(url) is shared:
                del pools[url]
            raise StoreUnavailable(f"cannot reach PostgreSQL at {shown(url)}: {unreachable(exc)}") from exc
        except (ValueError, OverflowError) as exc:  # the URL itself: a port that is not a number, or past 65535
            if pools.get(url) is shared:
                del pools[url]
            raise StoreUnavailable(f"{shown(url)} is not a usable PostgreSQL URL: {exc}") from exc
        shared.users += 1
        return cls(pool, url)

    def _reached(self, ok: bool) -> None:
        if self.on_reach is not None:
            self.on_reach(ok)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """The running transaction's connection, or one of the pool's for one statement."""
        mine = pinned.get()
        if mine is not None:  # even closed: a transaction's statement must never run outside it
            yield mine
            return
        try:
            with said(self.url):
                async with self.pool.acquire() as conn:
                    try:
                        yield conn
                    except LOST_OR_SAID as exc:
                        if isinstance(exc, LOST) or isinstance(exc.__cause__, LOST):
                            conn.terminate()  # never handed out again: the pool opens a fresh one
                        raise
        except StoreUnavailable as exc:
            await self.noticed(exc)
            raise
        self._reached(True)

    async def noticed(self, exc: BaseException) -> None:
        """After a failure: when it was the database going away, say so and renew the pool.
        One connection found dead means all of them are (a restart): the pool opens fresh ones
        on their next use, instead of failing one more request per idle connection."""
        if isinstance(exc, LOST) or isinstance(exc.__cause__, LOST):
            await self.pool.expire_connections()
            self._reached(False)

    @property
    def in_transaction(self) -> bool:
        mine = pinned.get()
        return mine is not None and mine.is_in_transaction()

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[asyncpg.Record]:
        """The rows of `sql`. A read outside a transaction that met a connection the database
        dropped is sent once more, on a fresh one: the first read after a restart succeeds."""
        try:
            return await self._fetch(sql, params)
        except StoreUnavailable as exc:
            if not isinstance(exc.__cause__, LOST) or pinned.get() is not None \
                    or sql.lstrip()[:6].upper() != "SELECT":
                raise
            return await self._fetch(sql, params)

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            with said(self.url):
                if len(params) >= ONE_SHOT_FROM:
                    # A lookup of a long IN list (ingest's de-duplication) gets a plan for its own
                    # values: the cached statement's generic plan, from its sixth run on, scanned the
                    # incident's comments (15 ms instead of 1.5 ms for 100 ids among 3,000, growing
                    # with the incident); a statement prepared for one run costs one round trip more.
                    statement = await conn.prepare(translated(sql))
                    return list(await statement.fetch(*params))
                return list(await conn.fetch(translated(sql), *params))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Running:
        return _Running(self, sql, params)

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[asyncpg.Record]:
        return await self.fetch(sql, params)

    async def native(self, sql: str, params: Sequence[Any] = (), *, fresh_plan: bool = False) -> list[asyncpg.Record]:
        """The rows of `sql` written for PostgreSQL (`$N`, its casts), not translated: prepared once per
        connection and kept, whatever its number of parameters. `fresh_plan`: prepared unnamed on each
        run instead (one round trip more, none to close it), so that PostgreSQL plans it for these
        values and the tables as they are now, never with a plan cached while they were small."""
        async with self.connection() as conn:
            with said(self.url):
                if fresh_plan:
                    return list(await (await conn.prepare(sql, name="")).fetch(*params))
                return list(await conn.fetch(sql, *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        text = translated(sql).partition(" RETURNING ")[0]
        async with self.connection() as conn:
            with said(self.url):
                await conn.executemany(text, list(rows))

    async def script(self, sql: str) -> None:
        """Statements without parameters, sent as one (DDL, migrations)."""
        async with self.connection() as conn:
            with said(self.url):
                await conn.execute(sql)

    async def close(self) -> None:
        """Give up this user's share of the pool; the last user closes it."""
        if self._closed:
            return
        self._closed = True
        pools = _POOLS.get(asyncio.get_running_loop(), {})
        shared = pools.get(self.url)
        if shared is None or not shared.opening.done() or shared.opening.exception() is not None \
                or shared.opening.result() is not self.pool:
            return
        shared.users -= 1
        if shared.users > 0:
            return
        del pools[self.url]
        try:
            await asyncio.wait_for(self.pool.close(), 5)
        except LOST:
            self.pool.terminate()
